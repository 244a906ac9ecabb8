//===- ConvScratch.h - the scratch conv2d needs --------------------*- C++ -*-===//
//
// The one definition of how much scratch the CPU conv2d kernel (Kernels.h)
// needs: read by the kernel itself and by irmb-compile, which sizes the
// arena's scratch from it (codegen/common/KernelCalls.cpp). Plain C++, no
// intrinsics: the compiler (built without -march) includes it too. The
// Winograd kernel's scratch is winogradScratchFloats (WinogradTransforms.h),
// beside the band plan it depends on.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_CONVSCRATCH_H
#define IRMB_CODEGEN_CPU_KERNELS_CONVSCRATCH_H

#include <cstdint>

namespace irmb::kernels {

/// Floats past the planes of conv2d's scratch that the GEMM's grid panels
/// may read (gridGemmPanelRange: the last panel runs up to a tile's width
/// past the last output row, the taps up to (k − 1)·d beyond that). Zeroed
/// by conv2d, they only reach columns that are no output.
constexpr int64_t convScratchSlack(int64_t k, int64_t d) {
  return 64 + (k - 1) * d;
}

/// Floats of scratch conv2d needs: the four stride-2 phase planes of the
/// zero-padded input, or the zero-padded input (nothing for unpadded convs,
/// which read the input directly), and the slack after them.
constexpr int64_t convScratchFloats(int64_t ci, int64_t h, int64_t w, int64_t k,
                                    int64_t s, int64_t p, int64_t d,
                                    int64_t g) {
  (void)g;
  int64_t hp = h + 2 * p, wp = w + 2 * p;
  if (s == 2 && d == 1)
    return 4 * ci * ((hp + 1) / 2) * ((wp + 1) / 2) + convScratchSlack(k, d);
  return p > 0 ? ci * hp * wp + convScratchSlack(k, d) : 0;
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_CONVSCRATCH_H
