//===- FuzzTorchCheckpoint.cpp - fuzz the .pt reader end to end -----------===//
//
// Any byte string as a .pt file: zip archive, unpickler, module walk,
// tensor views, then the stored model YAML through the frontend's reader
// and parse_model. One CheckpointError or FrontendError per bad input.
//
//===----------------------------------------------------------------------===//
#include "frontend/ParseModel.h"
#include "fuzz/FuzzTarget.h"
#include "weights/TorchCheckpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    irmb::weights::TorchCheckpoint ckpt = irmb::weights::parseTorchCheckpoint(
        irmb::fuzz::bytesOf(data, size), "fuzz.pt");
    if (!ckpt.modelYaml.empty()) {
      irmb::frontend::ModelFile file =
          irmb::frontend::readModelText(ckpt.modelYaml, "fuzz.pt:model.yaml");
      file.scale = ckpt.scale;
      irmb::frontend::parseModel(file, {});
    }
  } catch (const irmb::weights::CheckpointError &) {
  } catch (const irmb::frontend::FrontendError &) {
  }
  return 0;
}
