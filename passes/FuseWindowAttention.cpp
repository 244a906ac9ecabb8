//===- FuseWindowAttention.cpp - pad/crop into attention addressing -------===//
//
// The irmb-fuse-window-attention pass. irmb-decompose writes iRMB window
// attention as pad -> projections -> attention -> crop. Because the q/k/v
// projections keep zeros zeros (no bias, activations with act(0) = 0), the
// projections may run on the unpadded map and the attention kernel may
// treat the missing tokens as zeros: the pad and the crop disappear and the
// one attention kernel does partition, online softmax, un-partition and
// padding by addressing. With attn_pre the crop sits after the pointwise v
// projection and moves before it.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionSupport.h"
#include "passes/Passes.h"
#include "llvm/ADT/SetVector.h"

#define DEBUG_TYPE "irmb-fuse-window-attention"

namespace irmb {
#define GEN_PASS_DEF_IRMBFUSEWINDOWATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

constexpr const char *kPattern = "window-attention";

/// The ops between the pad and the attention: everything on the paths
/// from `pad` to the attention operands, if each op keeps zeros zeros.
struct Producers {
  PadOp pad;
  llvm::SetVector<Operation *> ops;
  std::string blocker;
};

/// Walks from an attention operand back to the pad, collecting the ops.
void trace(Value v, Producers &p) {
  if (!p.blocker.empty())
    return;
  Operation *def = v.getDefiningOp();
  if (!def) {
    p.blocker = "an operand is not computed from the padded map";
    return;
  }
  if (auto pad = dyn_cast<PadOp>(def)) {
    if (p.pad && p.pad != pad)
      p.blocker = "q, k and v come from different pads";
    p.pad = pad;
    return;
  }
  if (auto slice = dyn_cast<SliceOp>(def)) {
    p.ops.insert(def);
    return trace(slice.getInput(), p);
  }
  if (auto act = dyn_cast<ActivationOp>(def)) {
    p.ops.insert(def);
    return trace(act.getInput(), p);
  }
  if (auto conv = dyn_cast<Conv2dOp>(def)) {
    if (!isPointwise(conv) || conv.getResidual()) {
      p.blocker = "a projection is not a 1x1 convolution";
      return;
    }
    if (conv.getBias() || conv.getNorm() || conv.getInputNorm()) {
      p.blocker = "a projection has a bias or norm, so padded tokens would "
                  "not be zeros (qkv_bias)";
      return;
    }
    p.ops.insert(def);
    return trace(conv.getInput(), p);
  }
  if (auto proj = dyn_cast<ProjectionOp>(def)) {
    for (Attribute b : proj.getBiases())
      if (!cast<StringAttr>(b).getValue().empty() || proj.getInputNorm()) {
        p.blocker = "a projection has a bias or norm, so padded tokens "
                    "would not be zeros (qkv_bias)";
        return;
      }
    p.ops.insert(def);
    return trace(proj.getInput(), p);
  }
  p.blocker = ("'" + def->getName().getStringRef() +
               "' between the pad and the attention does not keep zeros")
                  .str();
}

/// The crop after the attention and the pointwise ops before it (attn_pre:
/// the v projection), or a null crop.
CropOp findCrop(AttentionOp attn, SmallVectorImpl<Operation *> &between) {
  Value v = attn.getOutput();
  while (Operation *user = soleUser(v)) {
    if (auto crop = dyn_cast<CropOp>(user))
      return crop;
    auto conv = dyn_cast<Conv2dOp>(user);
    if (!(conv && isPointwise(conv) && !conv.getResidual()) &&
        !isa<ActivationOp>(user))
      return nullptr;
    between.push_back(user);
    v = user->getResult(0);
  }
  return nullptr;
}

struct IRMBFuseWindowAttentionPass final
    : irmb::impl::IRMBFuseWindowAttentionPassBase<
          IRMBFuseWindowAttentionPass> {
  using IRMBFuseWindowAttentionPassBase::IRMBFuseWindowAttentionPassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }

  void runOnOperation() override {
    SmallVector<AttentionOp> sites;
    getOperation().walk([&](AttentionOp a) { sites.push_back(a); });
    for (AttentionOp attn : sites)
      fuse(attn);
  }

  void fuse(AttentionOp attn) {
    SmallVector<Operation *> between;
    CropOp crop = findCrop(attn, between);
    Producers p;
    for (Value v : {attn.getQuery(), attn.getKeyMap(), attn.getValue()})
      trace(v, p);
    bool padded = p.pad || crop;
    if (!padded || attn.getWindow() == 0) {
      // Nothing to fold: one kernel already (global window, or a map that
      // is a multiple of the window).
      reportSite(sites(), attn, kPattern);
      return;
    }
    if (!p.blocker.empty())
      return reportSite(sites(), attn, kPattern, p.blocker);
    if (!p.pad || !crop)
      return reportSite(sites(), attn, kPattern,
                        "the pad and crop around it do not match");
    // Every value on the way must stay inside the pattern.
    for (Operation *op : p.ops)
      for (Operation *user : op->getResult(0).getUsers())
        if (user != attn.getOperation() && !p.ops.contains(user))
          return reportSite(sites(), attn, kPattern,
                            "a padded projection has a consumer outside "
                            "the pattern");
    for (Operation *user : p.pad.getOutput().getUsers())
      if (!p.ops.contains(user) && user != attn.getOperation())
        return reportSite(sites(), attn, kPattern,
                          "the padded map has a consumer outside the pattern");
    auto inShape = cast<RankedTensorType>(p.pad.getInput().getType());
    auto cropShape = cast<RankedTensorType>(crop.getType());
    if (inShape.getDimSize(2) != cropShape.getDimSize(2) ||
        inShape.getDimSize(3) != cropShape.getDimSize(3))
      return reportSite(sites(), attn, kPattern,
                        "the crop does not undo the pad");
    if (dryRun)
      return reportSite(sites(), attn, kPattern, kDisabled);
    reportSite(sites(), attn, kPattern);
    int64_t h = inShape.getDimSize(2), w = inShape.getDimSize(3);
    p.pad.getOutput().replaceAllUsesWith(p.pad.getInput());
    p.pad.erase();
    for (Operation *op : p.ops)
      op->getResult(0).setType(withSpatial(op->getResult(0).getType(), h, w));
    attn.getOutput().setType(withSpatial(attn.getType(), h, w));
    for (Operation *op : between)
      op->getResult(0).setType(withSpatial(op->getResult(0).getType(), h, w));
    crop.getOutput().replaceAllUsesWith(crop.getInput());
    crop.erase();
  }
};

} // namespace
