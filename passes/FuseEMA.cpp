//===- FuseEMA.cpp - the iEMA norm and EMA as one streaming kernel --------===//
//
// The irmb-fuse-ema pass: an EMA whose input is a BatchNorm used only by it
// (the iEMA `norm_in`) takes the norm as its `norm`, and every EMA is marked
// `streaming`: the kernel then makes three passes over each group (pooling
// and sums; GroupNorm statistics; conv3x3, x1 and the gate per row) and
// never stores x1, x2 or the normed input.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionSupport.h"
#include "passes/Passes.h"

#define DEBUG_TYPE "irmb-fuse-ema"

namespace irmb {
#define GEN_PASS_DEF_IRMBFUSEEMAPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

struct IRMBFuseEMAPass final
    : irmb::impl::IRMBFuseEMAPassBase<IRMBFuseEMAPass> {
  using IRMBFuseEMAPassBase::IRMBFuseEMAPassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }

  void runOnOperation() override {
    getOperation().walk([&](EMAOp ema) {
      if (dryRun)
        return reportSite(sites(), ema, "ema", kDisabled);
      auto bn = ema.getInput().getDefiningOp<BatchNormOp>();
      if (bn && !ema.getNorm() && bn.getOutput().hasOneUse()) {
        ema.setNormAttr(bn.getNormAttr());
        ema.getInputMutable().assign(bn.getInput());
        bn.erase();
      }
      ema.setStreaming(true);
      reportSite(sites(), ema, "ema");
    });
  }
};

} // namespace
