//===- Pipeline.h - the irmb pass pipeline with fusion switches -*- C++ -*-===//
//
// The pass pipeline irmb-compile runs: irmb-decompose, the fusion passes in
// their fixed order (each switchable by its short name, each able to report
// its candidate sites), irmb-select-kernels (with its Winograd choice); and
// its registration as irmb-opt's --irmb-pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_PASSES_PIPELINE_H
#define IRMB_PASSES_PIPELINE_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include "mlir/Pass/PassManager.h"

#include <set>
#include <string>
#include <vector>

namespace irmb {

/// Short names of the fusions, in pipeline order (--disable-fusion uses
/// them; the report prints them).
const std::vector<std::string> &fusionNames();
/// fusionNames() joined with ", " (for usage and error text).
std::string fusionList();

/// Which fusions run and whether their candidate sites are reported, and
/// the kernel choices irmb-select-kernels is given.
struct FusionOptions {
  std::set<std::string> enabled; ///< a subset of fusionNames()
  bool report = false;
  /// 3×3 stride-1 convolutions by Winograd: "f4", "f2" or "off".
  std::string winograd = "f4";
  /// Fewest 4×4 tiles a map needs for Winograd (irmb-select-kernels'
  /// winograd-min-tiles).
  int64_t winogradMinTiles = 16;
  /// 3×3 stride-2 convolutions by the direct kernel (irmb-select-kernels'
  /// direct-stride2).
  bool directStride2 = false;
  /// Input channels a convolution needs for the direct kernel
  /// (irmb-select-kernels' direct-min-channels).
  int64_t directMinChannels = 1;
  /// All fusions enabled.
  static FusionOptions all();
};

/// Adds decompose, the fusions and kernel selection to `pm`. Disabled
/// fusions still run in dry-run mode when reporting, so every candidate
/// site gets its line.
void buildPipeline(OpPassManager &pm, const FusionOptions &options);

/// Registers the whole pipeline with the pass registry as
/// `irmb-pipeline{disable-fusion=<names> report winograd=<f4|f2|off>
/// winograd-min-tiles=<n> direct-stride2 direct-min-channels=<n>}` (irmb-opt
/// --irmb-pipeline=...), the pipeline irmb-compile runs for the CPU, with the
/// defaults of an AVX-512 build with --direct-conv=off (auto adds
/// direct-stride2 direct-min-channels=16 there).
void registerIRMBPipeline();

} // namespace irmb

#endif // IRMB_PASSES_PIPELINE_H
