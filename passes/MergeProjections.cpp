//===- MergeProjections.cpp - sibling 1×1 convolutions into one -----------===//
//
// The irmb-merge-projections pass: the 1×1 convolutions reading one value
// (the iRMB q/k and v projections of the normed input) become one
// irmb.projection whose result is their channel concatenation, read back
// with contiguous slices (views after irmb-concat-in-place). Slices of
// those slices compose into one slice of the merged result.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionSupport.h"
#include "passes/Passes.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "irmb-merge-projections"

namespace irmb {
#define GEN_PASS_DEF_IRMBMERGEPROJECTIONSPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

constexpr const char *kPattern = "merge-qkv";

/// Whether `conv` can be one part of a merged projection of `input`.
bool isMergeable(Conv2dOp conv, Value input) {
  return conv.getInput() == input && isPointwise(conv) &&
         conv.getGroups() == 1 && !conv.getNorm() && !conv.getResidual();
}

/// slice(slice(x)) with a contiguous inner slice -> one slice of x.
void composeSlices(SliceOp outer) {
  auto inner = outer.getInput().getDefiningOp<SliceOp>();
  if (!inner || inner.getGroups() != 1)
    return;
  outer.getInputMutable().assign(inner.getInput());
  outer.setStart(outer.getStart() + inner.getStart());
  if (inner.getOutput().use_empty())
    inner.erase();
}

struct IRMBMergeProjectionsPass final
    : irmb::impl::IRMBMergeProjectionsPassBase<IRMBMergeProjectionsPass> {
  using IRMBMergeProjectionsPassBase::IRMBMergeProjectionsPassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }

  void runOnOperation() override {
    // Values read by at least two pointwise convolutions, in program order.
    SmallVector<Value> inputs;
    llvm::DenseSet<Value> seen;
    getOperation().walk([&](Conv2dOp conv) {
      Value in = conv.getInput();
      if (!isPointwise(conv) || seen.contains(in))
        return;
      int64_t pointwise = 0;
      for (Operation *user : in.getUsers())
        if (auto c = dyn_cast<Conv2dOp>(user); c && isPointwise(c))
          ++pointwise;
      if (pointwise >= 2) {
        seen.insert(in);
        inputs.push_back(in);
      }
    });
    for (Value in : inputs)
      merge(in);
  }

  void merge(Value input) {
    SmallVector<Conv2dOp> parts;
    Conv2dOp first;
    for (Operation *user : input.getUsers())
      if (auto c = dyn_cast<Conv2dOp>(user); c && isPointwise(c))
        if (!first || c->isBeforeInBlock(first))
          first = c;
    std::optional<StringRef> inputNorm = first.getInputNorm();
    for (Operation *user : input.getUsers())
      if (auto c = dyn_cast<Conv2dOp>(user);
          c && isMergeable(c, input) && c.getInputNorm() == inputNorm)
        parts.push_back(c);
    llvm::sort(parts, [](Conv2dOp a, Conv2dOp b) {
      return a->isBeforeInBlock(b);
    });
    if (parts.size() < 2)
      return reportSite(sites(), first, kPattern,
                        "fewer than two plain 1x1 projections share the input "
                        "(grouped, normed or with a residual)");
    if (dryRun)
      return reportSite(sites(), parts.front(), kPattern, kDisabled);
    reportSite(sites(), parts.front(), kPattern);

    OpBuilder b(parts.front());
    SmallVector<Attribute> weights, biases, acts;
    SmallVector<int64_t> channels;
    for (Conv2dOp c : parts) {
      weights.push_back(c.getWeightAttr());
      biases.push_back(b.getStringAttr(c.getBias().value_or("")));
      acts.push_back(c.getActAttr());
      channels.push_back(cast<RankedTensorType>(c.getType()).getDimSize(1));
    }
    auto proj = ProjectionOp::create(
        b, parts.front().getLoc(), input, b.getArrayAttr(weights),
        b.getArrayAttr(biases), b.getArrayAttr(acts),
        b.getDenseI64ArrayAttr(channels),
        inputNorm ? b.getStringAttr(*inputNorm) : StringAttr());
    b.setInsertionPointAfter(proj);
    int64_t start = 0;
    SmallVector<SliceOp> consumers, slices;
    for (auto [c, size] : llvm::zip(parts, channels)) {
      slices.push_back(SliceOp::create(b, c.getLoc(), proj.getOutput(), start,
                                       size, 1, 0));
      start += size;
    }
    for (auto [c, slice] : llvm::zip(parts, slices)) {
      for (Operation *user : c.getOutput().getUsers())
        if (auto s = dyn_cast<SliceOp>(user))
          consumers.push_back(s);
      c.getOutput().replaceAllUsesWith(slice.getOutput());
      c.erase();
    }
    for (SliceOp s : consumers)
      composeSlices(s);
  }
};

} // namespace
