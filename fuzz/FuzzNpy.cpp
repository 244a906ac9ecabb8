//===- FuzzNpy.cpp - fuzz the .npy reader ---------------------------------===//
//
// Any byte string through irmb::npy::parseNpy: it returns false with an
// error line, or an array whose values match its shape.
//
//===----------------------------------------------------------------------===//
#include "fuzz/FuzzTarget.h"
#include "runtime/npy/Npy.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  irmb::npy::Array a;
  std::string error;
  if (irmb::npy::parseNpy(irmb::fuzz::bytesOf(data, size), "input.npy", a,
                          error)) {
    if (static_cast<int64_t>(a.values.size()) != a.numElements())
      std::abort(); // an array whose values do not match its shape
  } else if (error.empty()) {
    std::abort(); // a failure without a message
  }
  return 0;
}
