//===- FuzzSafeTensors.cpp - fuzz safetensors + the state_dict check ------===//
//
// Any byte string as a safetensors file, then checked key by key against a
// small fixed model (Conv, C2f, Conv at 64 x 64), as
// irmb-compile --weights does. One CheckpointError per bad input.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "frontend/ImportModel.h"
#include "fuzz/FuzzTarget.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "weights/Weights.h"

namespace {

/// The model the checkpoints are checked against: fuzz/fuzz-model.yaml
/// (1,320 parameters, so seeds stay small; fuzz/fuzz-model.state-dict
/// lists its keys, from which fuzz/make-seeds.py writes matching seeds).
const char *kModel = R"(nc: 2
backbone:
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, C2f, [8, True]]
head:
  - [-1, 1, Conv, [8, 3, 2]]
)";

mlir::ModuleOp model() {
  static mlir::ModuleOp module = [] {
    auto *ctx = new mlir::MLIRContext;
    ctx->loadDialect<irmb::IRMBDialect, mlir::func::FuncDialect>();
    irmb::frontend::ImportOptions geometry;
    geometry.height = geometry.width = 64;
    auto owned = irmb::frontend::importModel(
        *ctx,
        irmb::frontend::parseModel(
            irmb::frontend::readModelText(kModel, "fuzz-model.yaml"), {}),
        geometry);
    return owned.release();
  }();
  return module;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    irmb::weights::Checkpoint checkpoint = irmb::weights::parseSafeTensors(
        irmb::fuzz::bytesOf(data, size), "fuzz.safetensors");
    irmb::weights::checkWeights(model(), std::move(checkpoint),
                                "fuzz.safetensors");
  } catch (const irmb::weights::CheckpointError &) {
  }
  return 0;
}
