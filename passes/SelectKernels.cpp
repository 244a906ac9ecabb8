//===- SelectKernels.cpp - assign CPU kernels to primitive ops ------------===//
//
// The irmb-select-kernels pass: one `cpu_kernel` attribute per primitive op,
// chosen from the op and its shapes. Code generation reads the attribute, so
// the choice is visible in the IR, testable with lit and overridable by a
// later pass.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "passes/Passes.h"
#include "llvm/ADT/TypeSwitch.h"

#define DEBUG_TYPE "irmb-select-kernels"

namespace mlir::irmb {
#define GEN_PASS_DEF_IRMBSELECTKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::irmb

using namespace mlir;
using namespace mlir::irmb;

namespace {

/// The kernel of a convolution, by shape.
StringRef convKernel(Conv2dOp c) {
  int64_t cin = cast<RankedTensorType>(c.getInput().getType()).getDimSize(1);
  int64_t cout = cast<RankedTensorType>(c.getType()).getDimSize(1);
  int64_t groups = static_cast<int64_t>(c.getGroups());
  if (groups > 1 && groups == cin && groups == cout)
    return "depthwise";
  if (c.getKernel() == 1 && c.getStride() == 1 && c.getPadding() == 0)
    return "gemm";
  return "im2col_gemm";
}

/// The kernel of a primitive op, or "" for ops that are not primitives.
StringRef kernelFor(Operation *op) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case([](Conv2dOp c) { return convKernel(c); })
      .Case([](BatchNormOp) { return "channel_affine"; })
      .Case([](ActivationOp) { return "activation"; })
      .Case([](AddOp) { return "add"; })
      .Case([](SliceOp s) { return s.getView() ? "view" : "slice_copy"; })
      .Case([](CatOp c) {
        return c.getInPlace() ? "concat_in_place" : "concat_copy";
      })
      .Case([](ProjectionOp) { return "projection"; })
      .Case([](PadOp) { return "pad"; })
      .Case([](CropOp) { return "crop"; })
      .Case([](MaxPoolOp) { return "max_pool"; })
      .Case([](ResizeNearestOp) { return "resize_nearest"; })
      .Case([](AttentionOp a) {
        return a.getWindow() > 0 ? "window_attention" : "global_attention";
      })
      .Case([](EMAOp e) {
        return e.getStreaming() || e.getNorm() ? "ema_streaming" : "ema";
      })
      .Case([](SqueezeExciteOp) { return "squeeze_excite"; })
      .Case([](DetectDecodeOp) { return "detect_decode"; })
      .Default([](Operation *) { return ""; });
}

struct IRMBSelectKernelsPass final
    : mlir::irmb::impl::IRMBSelectKernelsPassBase<IRMBSelectKernelsPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](Operation *op) {
      if (!isa<IRMBDialect>(op->getDialect()))
        return WalkResult::advance();
      StringRef kernel = kernelFor(op);
      if (kernel.empty()) {
        op->emitOpError("is not a primitive op (run --irmb-decompose first)");
        return WalkResult::interrupt();
      }
      op->setAttr("cpu_kernel", StringAttr::get(op->getContext(), kernel));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
