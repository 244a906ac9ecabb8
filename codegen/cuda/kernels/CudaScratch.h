//===- CudaScratch.h - the scratch the CUDA kernels need -----------*- C++ -*-===//
//
// The one definition of the float scratch each CUDA kernel that needs any
// takes per image: read by the kernels (CudaKernels.cuh) and by
// irmb-compile, which sizes the model's scratch buffer from it
// (codegen/common/KernelCalls.cpp). Plain C++ (no CUDA headers), so the
// host compiler includes it too.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CUDA_KERNELS_CUDASCRATCH_H
#define IRMB_CODEGEN_CUDA_KERNELS_CUDASCRATCH_H

#include <cstdint>

namespace irmb::cuda {

/// Float scratch one EMA of C channels needs per image: x1 and x2 maps,
/// pooled means and gates, four statistics per channel.
constexpr int64_t emaScratchFloats(int64_t c, int64_t h, int64_t w) {
  return 2 * c * h * w + 2 * c * (h + w) + 4 * c;
}

/// Float scratch one squeeze-excite of C channels needs per image: the
/// channel means and the gates.
constexpr int64_t squeezeExciteScratchFloats(int64_t c) { return 2 * c; }

} // namespace irmb::cuda

#endif // IRMB_CODEGEN_CUDA_KERNELS_CUDASCRATCH_H
