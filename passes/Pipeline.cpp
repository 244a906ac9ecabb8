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

namespace mlir::irmb {

const std::vector<std::string> &fusionNames() {
  static const std::vector<std::string> names = {
      "window-attention", "fold-bn",   "ema",   "depthwise",
      "conv-epilogue",    "merge-qkv", "concat"};
  return names;
}

FusionOptions FusionOptions::all() {
  FusionOptions o;
  o.enabled.insert(fusionNames().begin(), fusionNames().end());
  return o;
}

namespace {
/// The pass of a fusion name with its report / dry-run options.
template <typename Options, typename Create>
std::unique_ptr<Pass> make(Create create, bool report, bool dryRun) {
  Options o;
  o.report = report;
  o.dryRun = dryRun;
  return create(o);
}
} // namespace

void buildPipeline(PassManager &pm, const FusionOptions &options) {
  pm.addPass(createIRMBDecomposePass());
  for (const std::string &name : fusionNames()) {
    bool on = options.enabled.count(name) > 0;
    if (!on && !options.report)
      continue;
    bool r = options.report, dry = !on;
    if (name == "window-attention")
      pm.addPass(make<IRMBFuseWindowAttentionPassOptions>(
          [](auto o) { return createIRMBFuseWindowAttentionPass(o); }, r, dry));
    else if (name == "fold-bn")
      pm.addPass(make<IRMBFoldBatchNormPassOptions>(
          [](auto o) { return createIRMBFoldBatchNormPass(o); }, r, dry));
    else if (name == "merge-qkv")
      pm.addPass(make<IRMBMergeProjectionsPassOptions>(
          [](auto o) { return createIRMBMergeProjectionsPass(o); }, r, dry));
    else if (name == "ema")
      pm.addPass(make<IRMBFuseEMAPassOptions>(
          [](auto o) { return createIRMBFuseEMAPass(o); }, r, dry));
    else if (name == "depthwise")
      pm.addPass(make<IRMBFuseDepthwisePassOptions>(
          [](auto o) { return createIRMBFuseDepthwisePass(o); }, r, dry));
    else if (name == "conv-epilogue")
      pm.addPass(make<IRMBFuseConvEpiloguePassOptions>(
          [](auto o) { return createIRMBFuseConvEpiloguePass(o); }, r, dry));
    else if (name == "concat")
      pm.addPass(make<IRMBConcatInPlacePassOptions>(
          [](auto o) { return createIRMBConcatInPlacePass(o); }, r, dry));
  }
  pm.addPass(createIRMBSelectKernelsPass());
}

} // namespace mlir::irmb
