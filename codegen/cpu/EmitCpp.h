//===- EmitCpp.h - C++ emission of primitive irmb IR ------------*- C++ -*-===//
//
// Turns a decomposed (primitive-level) irmb module and its weights into one
// C++ translation unit for the host plus a weights blob: one function per
// kernel (named after its YAML layer and op, every shape a constant), a
// planned arena with buffer reuse, and the ModelAbi.h entry points.
// BatchNorms are folded into the preceding convolution while the weights are
// written. compileSharedLibrary() then builds the .so with the host compiler.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_EMITCPP_H
#define IRMB_CODEGEN_CPU_EMITCPP_H

#include "weights/Weights.h"
#include "mlir/IR/BuiltinOps.h"
#include <string>
#include <vector>

namespace irmb::codegen {

/// What the emitter produced.
struct CpuModule {
  std::string source;        ///< the C++ translation unit
  std::vector<char> weights; ///< the blob the source embeds (.incbin)
  int64_t arenaBytes = 0;    ///< the arena of one group of images + scratch
  int64_t numKernels = 0;
  /// Bytes one image's kernels write (views cost nothing, in-place cat
  /// inputs are written once, by their producer).
  int64_t writtenBytes = 0;
};

/// Options of the CPU target.
struct CpuOptions {
  std::string isa = "native"; ///< native | avx2 | avx512
  std::string source;         ///< model file, recorded in the .so
  bool isV10 = false;
  /// Images per group: a batch runs in groups of this many images, each
  /// convolution and projection GEMM taking a group's images as one wider
  /// N (the arena holds one per-image copy for each image of a group). 1
  /// (the default) runs the network image by image, which keeps each
  /// image's working set in cache (docs/design-notes.md, "Batch").
  int64_t imageGroup = 1;
  /// Class names recorded in the .so (from a checkpoint's `names`); empty:
  /// Ultralytics' defaults "0", "1", ...
  std::vector<std::string> classNames;
};

/// The ISA `--cpu` names, with native resolved on this machine (avx512,
/// avx2 or sse), as -march=native will see it.
std::string resolvedIsa(const std::string &isa);
/// Rows of the GEMM micro-kernel tile of an ISA (the weights are packed
/// for it, kernels/Packing.h).
int64_t gemmTileRows(const std::string &isa);
/// Columns of a GEMM panel of an ISA (the micro-kernel tile's width:
/// AVX-512 48, AVX2 16, SSE 8).
int64_t gemmPanelColumns(const std::string &isa);
/// Fewest 4×4 tiles a map needs for Winograd on an ISA (irmb-select-kernels'
/// winograd-min-tiles): 16 for AVX-512 (one vector of GEMM columns) and
/// AVX2 (its whole panel), 8 for SSE.
int64_t winogradMinTiles(const std::string &isa);
/// Output channels per block of the direct stride-2 convolution of an ISA
/// (AVX-512 32, AVX2 16, SSE 8; kernels/Packing.h).
int64_t directConvColumns(const std::string &isa);

/// Emits `module` (primitive ops only). Fails with a diagnostic on ops it
/// cannot emit.
mlir::FailureOr<CpuModule> emitCpp(mlir::ModuleOp module,
                                   const irmb::weights::WeightMap &weights,
                                   const CpuOptions &options);

/// Writes the source, the blob and the kernel headers to a temporary folder
/// and compiles them into `outputPath` with the host compiler (-O3, OpenMP,
/// -march from the ISA; $CXX and $IRMB_CXXFLAGS are honoured, and
/// $IRMB_KEEP_BUILD keeps the sources). The .so appears only when
/// compilation succeeded.
/// Returns an empty string or the error.
std::string compileSharedLibrary(const CpuModule &module,
                                 const CpuOptions &options,
                                 const std::string &outputPath);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_CPU_EMITCPP_H
