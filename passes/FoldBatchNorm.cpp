//===- FoldBatchNorm.cpp - BatchNorm into neighbouring convolutions -------===//
//
// The irmb-fold-batch-norm pass: a BatchNorm after a bare convolution
// becomes the convolution's `norm`; a BatchNorm whose every consumer is a
// 1×1 unpadded convolution (or merged projection) becomes their
// `input_norm`. Both fold exactly into weights at code generation. The MMB
// `norm_in` followed by window zero padding is left alone: the padded
// tokens must be zeros after the norm (ultralytics-semantics.md §3.13).
//
//===----------------------------------------------------------------------===//
#include "passes/FusionSupport.h"
#include "passes/Passes.h"

#define DEBUG_TYPE "irmb-fold-batch-norm"

namespace irmb {
#define GEN_PASS_DEF_IRMBFOLDBATCHNORMPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

constexpr const char *kPattern = "fold-bn";

/// Why `bn` cannot fold backwards into its producer, or "" if it can.
std::string backwardBlocker(BatchNormOp bn) {
  auto conv = bn.getInput().getDefiningOp<Conv2dOp>();
  if (!conv)
    return "its input is not a convolution";
  if (conv.getNorm() || conv.getAct() != Activation::none ||
      conv.getResidual())
    return "the convolution already has a norm, activation or residual";
  if (!conv.getOutput().hasOneUse())
    return "the convolution result has other consumers";
  return "";
}

/// Why `bn` cannot fold forwards into its consumers, or "" if it can.
std::string forwardBlocker(BatchNormOp bn) {
  if (bn.getOutput().use_empty())
    return "it has no consumers";
  for (Operation *user : bn.getOutput().getUsers()) {
    if (isa<PadOp>(user))
      return "zero padding follows the norm (padded tokens must be zeros "
             "after it, semantics 3.13)";
    if (isa<EMAOp>(user))
      return "it feeds irmb.ema (see fuse-ema)";
    if (auto conv = dyn_cast<Conv2dOp>(user)) {
      if (!isPointwise(conv) || conv.getInputNorm() ||
          conv.getInput() != bn.getOutput())
        return "a consumer is not a 1x1 unpadded convolution of it";
      continue;
    }
    if (auto proj = dyn_cast<ProjectionOp>(user)) {
      if (proj.getInputNorm())
        return "a consumer already has an input norm";
      continue;
    }
    return ("consumer '" + user->getName().getStringRef() +
            "' is not a convolution")
        .str();
  }
  return "";
}

struct IRMBFoldBatchNormPass final
    : irmb::impl::IRMBFoldBatchNormPassBase<IRMBFoldBatchNormPass> {
  using IRMBFoldBatchNormPassBase::IRMBFoldBatchNormPassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }

  void runOnOperation() override {
    SmallVector<BatchNormOp> norms;
    getOperation().walk([&](BatchNormOp bn) { norms.push_back(bn); });
    for (BatchNormOp bn : norms) {
      std::string backward = backwardBlocker(bn);
      std::string forward = backward.empty() ? "" : forwardBlocker(bn);
      if (!backward.empty() && !forward.empty()) {
        reportSite(sites(), bn, kPattern, forward);
        continue;
      }
      if (dryRun) {
        reportSite(sites(), bn, kPattern, kDisabled);
        continue;
      }
      reportSite(sites(), bn, kPattern);
      if (backward.empty()) {
        auto conv = bn.getInput().getDefiningOp<Conv2dOp>();
        conv.setNormAttr(bn.getNormAttr());
        bn.getOutput().replaceAllUsesWith(conv.getOutput());
      } else {
        for (Operation *user :
             llvm::make_early_inc_range(bn.getOutput().getUsers())) {
          if (auto conv = dyn_cast<Conv2dOp>(user))
            conv.setInputNormAttr(bn.getNormAttr());
          else
            cast<ProjectionOp>(user).setInputNormAttr(bn.getNormAttr());
        }
        bn.getOutput().replaceAllUsesWith(bn.getInput());
      }
      bn.erase();
    }
  }
};

} // namespace
