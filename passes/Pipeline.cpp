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
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "passes/Passes.h"
#include "llvm/ADT/StringExtras.h"

namespace irmb {

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

void buildPipeline(OpPassManager &pm, const FusionOptions &options) {
  pm.addPass(createIRMBDecomposePass());
  for (const Fusion &f : kFusions) {
    bool on = options.enabled.count(f.name) > 0;
    if (on || options.report)
      pm.addPass(f.build(options.report, /*dryRun=*/!on));
  }
  IRMBSelectKernelsPassOptions select;
  select.winograd = options.winograd;
  select.winogradMinTiles = options.winogradMinTiles;
  select.directStride2 = options.directStride2;
  select.directMinChannels = options.directMinChannels;
  select.report = options.report;
  pm.addPass(createIRMBSelectKernelsPass(select));
}

namespace {
/// The textual options of --irmb-pipeline: the FusionOptions fields.
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  ListOption<std::string> disableFusion{
      *this, "disable-fusion",
      llvm::cl::desc("Fusions to leave out, by short name (window-attention, "
                     "fold-bn, ema, depthwise, conv-epilogue, merge-qkv, "
                     "concat)")};
  Option<bool> report{*this, "report",
                      llvm::cl::desc("A remark per candidate site and per "
                                     "3×3 convolution's kernel"),
                      llvm::cl::init(false)};
  Option<std::string> winograd{
      *this, "winograd",
      llvm::cl::desc("3×3 stride-1 convolutions by Winograd: f4, f2 or off"),
      llvm::cl::init("f4")};
  Option<int64_t> winogradMinTiles{
      *this, "winograd-min-tiles",
      llvm::cl::desc("Fewest 4×4 tiles a map needs for Winograd (16: one "
                     "AVX-512 vector or AVX2 panel of GEMM columns)"),
      llvm::cl::init(16)};
  Option<bool> directStride2{
      *this, "direct-stride2",
      llvm::cl::desc("3×3 stride-2 convolutions by the direct kernel"),
      llvm::cl::init(false)};
  Option<int64_t> directMinChannels{
      *this, "direct-min-channels",
      llvm::cl::desc("Input channels a convolution needs for the direct "
                     "kernel"),
      llvm::cl::init(1)};
};
} // namespace

void registerIRMBPipeline() {
  registerPassPipeline(
      "irmb-pipeline",
      "The whole irmb pipeline: irmb-decompose, the fusions in their order, "
      "irmb-select-kernels",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> error) -> LogicalResult {
        PipelineOptions o;
        if (failed(o.parseFromString(text)))
          return failure();
        FusionOptions options = FusionOptions::all();
        for (const std::string &name : o.disableFusion)
          if (!options.enabled.erase(name))
            return error("irmb-pipeline: unknown fusion '" + name +
                         "' in disable-fusion (known: " + fusionList() + ")");
        options.report = o.report;
        options.winograd = o.winograd;
        options.winogradMinTiles = o.winogradMinTiles;
        options.directStride2 = o.directStride2;
        options.directMinChannels = o.directMinChannels;
        buildPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> describe) {
        describe(PipelineOptions());
      });
}

} // namespace irmb
