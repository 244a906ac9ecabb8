//===- Pipeline.cpp - the irmb pass pipeline with fusion switches ---------===//
//
// Builds decompose -> fusions (fixed order) -> select-kernels. The order
// matters: window attention first (it removes the pad that blocks folding
// the MMB norm into the projections), then BatchNorm folding, EMA, the
// depthwise and conv epilogues (the v projection takes its ReLU), the q/k/v
// merge (of projections with their activations) and zero-copy concat last
// (it must see the final producers).
//
//===----------------------------------------------------------------------===//
#include "passes/Pipeline.h"
#include "passes/Passes.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::irmb {

namespace {
/// A fusion pass's generated constructor from its options.
template <typename Options>
using PassFactory = std::unique_ptr<Pass> (*)(Options);

/// Makes a fusion pass with its report / dry-run options set.
template <typename Options, PassFactory<Options> Create>
std::unique_ptr<Pass> make(bool report, bool dryRun) {
  Options o;
  o.report = report;
  o.dryRun = dryRun;
  return Create(o);
}

/// A fusion: its short name and how to build its pass.
struct Fusion {
  const char *name;
  std::unique_ptr<Pass> (*build)(bool report, bool dryRun);
};

/// The fusions in pipeline order.
const Fusion kFusions[] = {
    {"window-attention", make<IRMBFuseWindowAttentionPassOptions,
                              createIRMBFuseWindowAttentionPass>},
    {"fold-bn",
     make<IRMBFoldBatchNormPassOptions, createIRMBFoldBatchNormPass>},
    {"ema", make<IRMBFuseEMAPassOptions, createIRMBFuseEMAPass>},
    {"depthwise",
     make<IRMBFuseDepthwisePassOptions, createIRMBFuseDepthwisePass>},
    {"conv-epilogue",
     make<IRMBFuseConvEpiloguePassOptions, createIRMBFuseConvEpiloguePass>},
    {"merge-qkv",
     make<IRMBMergeProjectionsPassOptions, createIRMBMergeProjectionsPass>},
    {"concat", make<IRMBConcatInPlacePassOptions, createIRMBConcatInPlacePass>},
};
} // namespace

const std::vector<std::string> &fusionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Fusion &f : kFusions)
      n.push_back(f.name);
    return n;
  }();
  return names;
}

std::string fusionList() { return llvm::join(fusionNames(), ", "); }

FusionOptions FusionOptions::all() {
  FusionOptions o;
  o.enabled.insert(fusionNames().begin(), fusionNames().end());
  return o;
}

void buildPipeline(PassManager &pm, const FusionOptions &options) {
  pm.addPass(createIRMBDecomposePass());
  for (const Fusion &f : kFusions) {
    bool on = options.enabled.count(f.name) > 0;
    if (on || options.report)
      pm.addPass(f.build(options.report, /*dryRun=*/!on));
  }
  IRMBSelectKernelsPassOptions select;
  select.winograd = options.winograd;
  select.panelColumns = options.panelColumns;
  select.directStride2 = options.directStride2;
  select.report = options.report;
  pm.addPass(createIRMBSelectKernelsPass(select));
}

} // namespace mlir::irmb
