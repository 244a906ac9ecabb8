//===- StemConv.h - 3×3 stride-2 convolution of a few input channels -*- C++ -*-===//
//
// The first convolution of every YOLO model (3 → 16 channels, 3×3, stride
// 2, padding 1, at 640²) has K = 27: too short a GEMM for its phase split
// (4.9 MB of phase planes written and read back) and grid GEMM to pay, so
// it ran at a quarter of the FMA peak. Here it is computed straight from
// the NCHW input with 16 output pixels in the vector lanes: per output row
// and group of 16 pixels, each input row (channel ci, tap row ky) is
// loaded as two vectors and split in registers into its even and odd
// columns (tap kx = 1 and 2), the kx = 0 tap being the odd columns moved
// up one lane with the previous group's last one in front; every output
// channel accumulates in a register, then bias, activation and residual
// run on the registers and the result is stored once. No plane, phase or
// block buffer is written. The weights are the GEMM form's packed A
// (Packing.h), gathered per call into [k][channel] order; the sums run in
// the GEMM form's order (input channel, then ky, kx, starting from zero,
// zero taps included) with the same epilogue, so the results are
// bit-identical to conv2d's phase-split GEMM. AVX-512 only (conv2d keeps
// the GEMM form elsewhere).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_STEMCONV_H
#define IRMB_CODEGEN_CPU_KERNELS_STEMCONV_H

#include "Gemm.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace irmb::kernels {

/// Input channels up to which conv2d computes a 3×3, stride-2, padding-1
/// convolution with stemConv3x3s2 (AVX-512).
constexpr int64_t kStemMaxInputChannels = 4;

/// How far ahead along an input row (in floats) stemConv3x3s2 asks for the
/// lines it reads next: the next group of 16 pixels. Nine rows a group
/// advance 128 bytes each, too little a stream for the hardware
/// prefetchers to run ahead of on the model-167 Xeon (docs/design-notes.md,
/// session 23): 3 → 16 at 640² 1.96–2.03 ms without, 1.37–1.49 with 64
/// floats ahead, 1.55–1.88 with 32, 1.54–1.67 with 128, 1.70–1.80 with 256.
constexpr int64_t kStemPrefetchFloats = 64;

#if defined(__AVX512F__)
/// y = act(conv3×3(x, w, stride 2, padding 1) + bias) (+ res), NCHW, for
/// `images` images (image i's input, output and residual xStride, yStride
/// and resStride floats after image i − 1's); `w` is the folded OIHW weight
/// as packWeights packed it for the GEMM (tiles of kTileRows output
/// channels); `bias` and `res` may be null. Each thread takes an equal run
/// of the images' output rows.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, Act A>
void stemConv3x3s2(const float *x, const float *w, const float *bias,
                   const float *res, float *y, int64_t images = 1,
                   int64_t xStride = 0, int64_t yStride = 0,
                   int64_t resStride = 0) {
  static_assert(CI >= 1 && CI <= kStemMaxInputChannels, "a few input channels");
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t L = 16, HO = (H - 1) / 2 + 1, WO = (W - 1) / 2 + 1;
  constexpr int64_t K = CI * 9;
  // Output channels per pass: one accumulator each, 16 leave room for the
  // three tap vectors and the loads.
  constexpr int64_t CB = 16;
  // The weights as [k][channel], read from the GEMM's packed A: row i of the
  // tile starting at output channel m0 (rows = min(kTileRows, CO − m0)) has
  // its k-th weight at m0·K + k·rows + i.
  std::vector<float> weights(K * CO);
  float *const wk = weights.data();
  for (int64_t co = 0; co < CO; ++co) {
    const int64_t m0 = co / kTileRows * kTileRows;
    const int64_t rows = std::min(kTileRows, CO - m0);
    for (int64_t k = 0; k < K; ++k)
      wk[k * CO + co] = w[m0 * K + k * rows + (co - m0)];
  }
  // Output channels [c0, c0 + CN) of the pixels [ox0, ox0 + 16) of output
  // row oy of image xi (into yi, ri: that row of the output and residual):
  // one accumulator per channel. `previous` holds each input row's odd
  // columns of the group before (zero before the first).
  auto group = [&](auto cn, int64_t c0, const float *xi, int64_t oy,
                   int64_t ox0, R (&previous)[CI * 3], float *yi,
                   const float *ri) {
    constexpr int64_t CN = decltype(cn)::value;
    R acc[CN];
#pragma GCC unroll 16
    for (int64_t c = 0; c < CN; ++c)
      acc[c] = V::zero();
#pragma GCC unroll 4
    for (int64_t ci = 0; ci < CI; ++ci)
#pragma GCC unroll 3
      for (int64_t ky = 0; ky < 3; ++ky) {
        const int64_t iy = 2 * oy + ky - 1;
        R taps[3];
        if (iy >= 0 && iy < H) {
          const float *row = xi + (ci * H + iy) * W;
          // The next group's two lines of this row (an integer address:
          // past the row's end it is never read).
          const uintptr_t next = reinterpret_cast<uintptr_t>(row) +
                                 4 * (2 * ox0 + kStemPrefetchFloats);
          __builtin_prefetch(reinterpret_cast<const void *>(next), 0, 3);
          __builtin_prefetch(reinterpret_cast<const void *>(next + 64), 0, 3);
          R evens, odds;
          V::evenOdd(V::rowLanes(row, 2 * ox0, W),
                     V::rowLanes(row, 2 * ox0 + L, W), evens, odds);
          taps[0] = _mm512_castsi512_ps(
              _mm512_alignr_epi32(_mm512_castps_si512(odds),
                                  _mm512_castps_si512(previous[ci * 3 + ky]),
                                  15));
          taps[1] = evens;
          taps[2] = odds;
          previous[ci * 3 + ky] = odds;
        } else {
          taps[0] = taps[1] = taps[2] = V::zero();
        }
        const float *wt = wk + (ci * 3 + ky) * 3 * CO + c0;
#pragma GCC unroll 3
        for (int64_t kx = 0; kx < 3; ++kx)
#pragma GCC unroll 16
          for (int64_t c = 0; c < CN; ++c)
            acc[c] = V::fma(V::broadcast(wt + kx * CO + c), taps[kx], acc[c]);
      }
    // Bias, activation and residual, four channels at a time.
    const int64_t pixels = std::min(L, WO - ox0);
#pragma GCC unroll 4
    for (int64_t c = 0; c < CN; c += 4) {
      R v[4];
#pragma GCC unroll 4
      for (int64_t u = 0; u < 4; ++u)
        v[u] = acc[std::min<int64_t>(c + u, CN - 1)];
      const int64_t at = (c0 + c) * HO * WO + ox0;
      activateStoreChannels<A>(v, CN - c, bias ? bias + c0 + c : nullptr,
                               ri ? ri + at : nullptr, yi + at, HO * WO,
                               pixels);
    }
  };
#pragma omp parallel
  {
    int64_t r0, r1;
    threadRows(images * HO, r0, r1);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t image = r / HO, oy = r % HO;
      const float *xi = x + image * xStride;
      float *yi = y + image * yStride + oy * WO;
      const float *ri = res ? res + image * resStride + oy * WO : nullptr;
      // Whole passes of CB channels, then the rest.
      for (int64_t c0 = 0; c0 + CB <= CO; c0 += CB) {
        R previous[CI * 3] = {};
        for (int64_t ox0 = 0; ox0 < WO; ox0 += L)
          group(std::integral_constant<int64_t, CB>{}, c0, xi, oy, ox0,
                previous, yi, ri);
      }
      if constexpr (CO % CB != 0) {
        R previous[CI * 3] = {};
        for (int64_t ox0 = 0; ox0 < WO; ox0 += L)
          group(std::integral_constant<int64_t, CO % CB>{}, CO / CB * CB, xi,
                oy, ox0, previous, yi, ri);
      }
    }
  }
}
#endif

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_STEMCONV_H
