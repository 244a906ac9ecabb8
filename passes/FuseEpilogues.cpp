//===- FuseEpilogues.cpp - BatchNorm, activation, residual into convs -----===//
//
// Two passes over one mechanism: after a convolution, the chain
// BatchNorm -> activation -> add (each the sole consumer of the previous
// value) becomes the convolution's `norm`, `act` and `residual` operand,
// computed in the kernel's epilogue while the tile is in cache.
// irmb-fuse-depthwise does it for depthwise convolutions (the MMB
// conv_local: dw + BN + SiLU + inner residual), irmb-fuse-conv-epilogue
// for all others (Conv, Bottleneck residuals, the MMB proj + shortcut).
//
//===----------------------------------------------------------------------===//
#include "passes/FusionSupport.h"
#include "passes/Passes.h"
#include "llvm/ADT/StringExtras.h"

#define DEBUG_TYPE "irmb-fuse-epilogues"

namespace irmb {
#define GEN_PASS_DEF_IRMBFUSEDEPTHWISEPASS
#define GEN_PASS_DEF_IRMBFUSECONVEPILOGUEPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

/// What the epilogue of `conv` can absorb, in order.
struct Epilogue {
  BatchNormOp norm;
  ActivationOp act;
  AddOp add;
  Value residual;
  std::string stop; // why the chain ends early ("" when it ends naturally)
};

Epilogue findEpilogue(Conv2dOp conv) {
  Epilogue e;
  Value v = conv.getOutput();
  auto next = [&]() -> Operation * {
    if (v.use_empty())
      return nullptr;
    Operation *user = soleUser(v);
    if (!user && llvm::any_of(v.getUsers(), [](Operation *u) {
          return isa<BatchNormOp, ActivationOp, AddOp>(u);
        }))
      e.stop = "the result feeding it has other consumers";
    return user;
  };
  Operation *user = next();
  if (auto bn = dyn_cast_or_null<BatchNormOp>(user);
      bn && !conv.getNorm() && conv.getAct() == Activation::none &&
      !conv.getResidual()) {
    e.norm = bn;
    v = bn.getOutput();
    user = next();
  }
  if (auto act = dyn_cast_or_null<ActivationOp>(user);
      act && conv.getAct() == Activation::none && !conv.getResidual()) {
    e.act = act;
    v = act.getOutput();
    user = next();
  }
  if (auto add = dyn_cast_or_null<AddOp>(user); add && !conv.getResidual()) {
    Value other = add.getLhs() == v ? add.getRhs() : add.getLhs();
    if (other != v) {
      e.add = add;
      e.residual = other;
    }
  } else if (isa_and_nonnull<SqueezeExciteOp>(user)) {
    e.stop = "squeeze-excite follows (kept as its own kernel)";
  }
  return e;
}

/// Fuses the epilogues of the convolutions `select` accepts, counting and
/// reporting each site with `sites`; `dryRun` only reports.
void fuseEpilogues(ModuleOp module, const SiteReporter &sites, bool dryRun,
                   StringRef pattern,
                   llvm::function_ref<bool(Conv2dOp)> select) {
  SmallVector<Conv2dOp> convs;
  module.walk([&](Conv2dOp c) {
    if (select(c))
      convs.push_back(c);
  });
  for (Conv2dOp conv : convs) {
    Epilogue e = findEpilogue(conv);
    if (!e.norm && !e.act && !e.add) {
      if (!e.stop.empty())
        reportSite(sites, conv, pattern, e.stop);
      continue;
    }
    if (dryRun) {
      reportSite(sites, conv, pattern, kDisabled);
      continue;
    }
    SmallVector<std::string> parts;
    if (e.norm)
      parts.push_back("norm");
    if (e.act)
      parts.push_back(stringifyActivation(e.act.getAct()).str());
    if (e.add)
      parts.push_back("residual");
    std::string detail = llvm::join(parts, " + ");
    if (!e.stop.empty())
      detail += "; then stops: " + e.stop;
    reportSite(sites, conv, pattern, "", detail);
    Value last = conv.getOutput();
    if (e.norm) {
      conv.setNormAttr(e.norm.getNormAttr());
      last = e.norm.getOutput();
    }
    if (e.act) {
      conv.setAct(e.act.getAct());
      last = e.act.getOutput();
    }
    if (e.add) {
      // The fused op sits where the add was, after its residual.
      conv->moveBefore(e.add);
      conv.getResidualMutable().assign(e.residual);
      last = e.add.getOutput();
    }
    last.replaceAllUsesWith(conv.getOutput());
    for (Operation *dead : {e.add ? e.add.getOperation() : nullptr,
                            e.act ? e.act.getOperation() : nullptr,
                            e.norm ? e.norm.getOperation() : nullptr})
      if (dead)
        dead->erase();
  }
}

struct IRMBFuseDepthwisePass final
    : irmb::impl::IRMBFuseDepthwisePassBase<IRMBFuseDepthwisePass> {
  using IRMBFuseDepthwisePassBase::IRMBFuseDepthwisePassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }
  void runOnOperation() override {
    fuseEpilogues(getOperation(), sites(), dryRun, "depthwise",
                  [](Conv2dOp c) { return isDepthwise(c); });
  }
};

struct IRMBFuseConvEpiloguePass final
    : irmb::impl::IRMBFuseConvEpiloguePassBase<IRMBFuseConvEpiloguePass> {
  using IRMBFuseConvEpiloguePassBase::IRMBFuseConvEpiloguePassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }
  void runOnOperation() override {
    fuseEpilogues(getOperation(), sites(), dryRun, "conv-epilogue",
                  [](Conv2dOp c) { return !isDepthwise(c); });
  }
};

} // namespace
