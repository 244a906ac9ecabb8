//===- FuzzPickle.cpp - fuzz the restricted unpickler ---------------------===//
//
// Any byte string as data.pkl through irmb::weights::unpickle: a value
// graph or one CheckpointError, never a crash, a hang or a huge allocation.
//
//===----------------------------------------------------------------------===//
#include "fuzz/FuzzTarget.h"
#include "weights/SafeTensors.h"
#include "weights/Unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    irmb::weights::unpickle(irmb::fuzz::bytesOf(data, size), "fuzz.pt",
                            "data.pkl");
  } catch (const irmb::weights::CheckpointError &) {
  }
  return 0;
}
