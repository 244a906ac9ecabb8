//===- EmitCuda.h - CUDA emission of primitive irmb IR ----------*- C++ -*-===//
//
// Turns a decomposed, fused (primitive-level) irmb module and its weights
// into one CUDA translation unit plus a weights blob: a `forward` that
// launches kernels/CudaKernels.cuh templates (every shape a constant, the
// batch in the grid) over one device arena, and the ModelAbi.h entry points
// of kernels/CudaModel.cuh (stream, weights uploaded once, CUDA graph).
// compileCudaLibrary() then builds the .so with nvcc, or with the host
// compiler and kernels/CudaEmulation.h for tests on machines without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CUDA_EMITCUDA_H
#define IRMB_CODEGEN_CUDA_EMITCUDA_H

#include "weights/Weights.h"
#include "mlir/IR/BuiltinOps.h"
#include <string>
#include <vector>

namespace irmb::codegen {

/// Options of the CUDA target.
struct CudaOptions {
  std::string precision = "fp32";    ///< fp32 | fp16 | bf16 (storage type)
  std::string arch = "sm_80,sm_90a"; ///< the fatbin's architectures
  bool emulate = false; ///< build for the host with CudaEmulation.h
  std::string source;   ///< model file, recorded in the .so
  bool isV10 = false;
  /// Class names recorded in the .so; empty: "0", "1", ...
  std::vector<std::string> classNames;
};

/// What the emitter produced.
struct CudaModule {
  std::string source;        ///< the CUDA translation unit
  std::vector<char> weights; ///< float blob, uploaded at load
  int64_t deviceBytes = 0;   ///< arena + scratch + staging of the batch
  int64_t numKernels = 0;
  int64_t launches = 0; ///< kernel launches per forward
};

/// Checks an --cuda-arch list ("sm_80,sm_90a"); returns "" or the error.
std::string checkCudaArch(const std::string &arch);

/// Emits `module` (primitive ops only). Fails with a diagnostic on ops it
/// cannot emit.
mlir::FailureOr<CudaModule> emitCuda(mlir::ModuleOp module,
                                     const irmb::weights::WeightMap &weights,
                                     const CudaOptions &options);

/// Compiles the module into `outputPath` with nvcc ($NVCC, else
/// /usr/local/cuda/bin/nvcc, else nvcc on PATH; $IRMB_NVCCFLAGS is
/// appended; $IRMB_KEEP_BUILD keeps the sources). The .so appears only
/// when compilation succeeded. Returns "" or the error.
std::string compileCudaLibrary(const CudaModule &module,
                               const CudaOptions &options,
                               const std::string &outputPath);

/// Writes the build folder (model.cu, weights.bin, headers) into `folder`
/// with a build.sh that runs the same compiler command there: for building
/// on another machine (a GPU host without MLIR). Returns "" or the error.
std::string writeCudaSources(const CudaModule &module,
                             const CudaOptions &options,
                             const std::string &folder);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_CUDA_EMITCUDA_H
