//===- ConcatInPlace.cpp - zero-copy split and concat ---------------------===//
//
// The irmb-concat-in-place pass. Code runs one image at a time on NCHW
// maps, so a contiguous channel slice is a pointer offset: every slice with
// groups = 1 becomes a `view`. A cat input is written in place (its producer
// writes straight into the cat's channels) when it is computed by an op in
// the function, is not placed in another cat, and — when it is a view — the
// cat's consecutive inputs are views covering its whole source in order
// (C2f / C3k2 / C2f_iRMB: cv1's two halves); the source is placed instead.
// The rest are copied. Nothing is copied for C2f, C3k2, SPPF, C2f_iRMB.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/ShapeInference.h"
#include "passes/FusionSupport.h"
#include "passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#define DEBUG_TYPE "irmb-concat-in-place"

namespace irmb {
#define GEN_PASS_DEF_IRMBCONCATINPLACEPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

constexpr const char *kPattern = "concat";

/// The source of a view slice, or null.
Value viewSource(Value v) {
  auto slice = v.getDefiningOp<SliceOp>();
  return slice && slice.getView() ? slice.getInput() : Value();
}

struct IRMBConcatInPlacePass final
    : irmb::impl::IRMBConcatInPlacePassBase<IRMBConcatInPlacePass> {
  using IRMBConcatInPlacePassBase::IRMBConcatInPlacePassBase;

  /// This pass's candidate-site counts and report (FusionSupport.h).
  SiteReporter sites() { return {report, numFused, numNotFused, DEBUG_TYPE}; }

  void runOnOperation() override {
    SmallVector<CatOp> cats;
    getOperation().walk([&](CatOp c) { cats.push_back(c); });
    if (dryRun) {
      for (CatOp c : cats)
        reportSite(sites(), c, kPattern, kDisabled);
      return;
    }
    getOperation().walk([&](SliceOp s) {
      if (s.getGroups() == 1)
        s.setView(true);
    });
    for (CatOp c : cats)
      place(c);
  }

  /// Decides which inputs of `cat` are written in place.
  void place(CatOp cat) {
    OperandRange inputs = cat.getInputs();
    SmallVector<bool> inPlace(inputs.size(), false);
    std::string why;
    for (size_t i = 0; i < inputs.size();) {
      Value v = inputs[i];
      Value source = viewSource(v);
      size_t span = 1;
      Value root = v;
      if (source) {
        // Consecutive views starting at channel 0 that cover the source.
        int64_t next = 0;
        size_t j = i;
        while (j < inputs.size() && viewSource(inputs[j]) == source &&
               inputs[j].getDefiningOp<SliceOp>().getStart() ==
                   static_cast<uint64_t>(next)) {
          next += channelsOf(inputs[j]);
          ++j;
        }
        if (j == i || next != channelsOf(source)) {
          why = "a slice that does not cover its source is copied";
          ++i;
          continue;
        }
        span = j - i;
        root = source;
      }
      bool returned = llvm::any_of(root.getUsers(), [](Operation *u) {
        return isa<func::ReturnOp>(u);
      });
      if (!root.getDefiningOp() || viewSource(root) ||
          placed.contains(root) || returned) {
        why = root.getDefiningOp() ? "an input already lives elsewhere"
                                   : "the model input is copied";
        i += span;
        continue;
      }
      placed.insert(root);
      for (size_t k = i; k < i + span; ++k)
        inPlace[k] = true;
      i += span;
    }
    int64_t count = llvm::count(inPlace, true);
    if (count == 0)
      return reportSite(sites(), cat, kPattern, why);
    cat.setInPlaceAttr(DenseBoolArrayAttr::get(cat.getContext(), inPlace));
    if (count == static_cast<int64_t>(inputs.size()))
      return reportSite(sites(), cat, kPattern);
    reportSite(sites(), cat, kPattern,
               llvm::Twine("partly: ") + llvm::Twine(count) + " of " +
                   llvm::Twine(inputs.size()) + " inputs in place; " + why);
  }

  llvm::DenseSet<Value> placed;
};

} // namespace
