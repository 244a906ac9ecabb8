//===- DirectConv.h - 3×3 stride-2 convolution with channels in lanes -*- C++ -*-===//
//
// The 3×3, stride-2, padding-1 convolution (every downsampling Conv of the
// YOLO backbones and necks) computed directly from its NCHW input, with the
// output channels in the vector lanes and the output pixels in the register
// tile's rows: each K step (an input channel and a tap) loads NV vectors of
// weights (packed at compile time, packCoLanes in Packing.h) and broadcasts
// R input pixels two floats apart from the tap's input row. Where more
// than one block of output channels reads them, each output row's three
// input rows of every channel are first copied into one block (3·CI·W
// floats, in L2): a tile's taps then lie close together instead of in CI
// planes H·W floats apart, which on the Ice Lake Xeon of
// docs/design-notes.md (session 21) ran the micro-kernel 25 % slower even
// with every line in L2. With one block (16 → 32 on AVX-512) the copy
// cost more than it saved, so single-block layers read the input in place.
// Input row iy keeps slot iy mod 3 of the row copy and of the border
// copies, so consecutive output rows of a thread share their common row
// and each copies two new rows, not three.
// Besides that only a few columns at the left (and, for odd widths, right)
// border are copied, so there is no phase split and no im2col; the GEMM
// form (conv2d through phase planes) reads its taps as 144–1152 scattered
// rows and writes 6.5 MB of planes first.
//
// The register tile is kDirectTileRows pixels × kDirectTileCols channels
// (AVX-512 12 × 32, AVX2 6 × 16, SSE 4 × 8: MicroKernel.h). Per output row
// and block of kDirectTileCols output channels, the input channels go in
// blocks of kDirectCiBlock (9 taps each: the block's weights, 9 KiB on AVX2,
// 18 KiB on AVX-512, stay in L1 across the row's pixel tiles), accumulating into
// a row buffer of [pixel][channel]; the row is then transposed in registers
// into the output's channel rows with bias, activation and residual
// (storeChannelRows).
// Threads take equal ranges of (image, output row). The sums run in the
// GEMM form's order (input channel, then ky, kx), zero taps included, so
// the results are bit-identical to conv2d's.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_DIRECTCONV_H
#define IRMB_CODEGEN_CPU_KERNELS_DIRECTCONV_H

#include "Gemm.h"
#include "HugePages.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace irmb::kernels {

// MicroKernel.h's accumulator rows, up to the 12 of the AVX-512 direct tile.
#define IRMB_TAP_ROWS(op) IRMB_ROWS(op) op(8) op(9) op(10) op(11)

/// c[i·CB + j] (+)= Σ_k taps[k][off + S·i] · w[k·CB + j] for i < R pixels,
/// j < CB = NV·L channels, k < kc: the direct convolution's micro-kernel
/// (the GEMM micro-kernel of MicroKernel.h with the roles of its operands
/// exchanged: the weights are the vectors, the input the broadcasts).
template <typename V, int64_t R, int64_t NV, int64_t S>
__attribute__((noinline)) static void
microKernelTaps(int64_t kc, const float *const *__restrict taps, int64_t off,
                const float *__restrict w, float *__restrict c,
                bool accumulate) {
  static_assert(R >= 1 && R <= 12 && NV >= 1 && NV <= 3, "tile shape");
  // MicroKernel.h's accumulator rows: pixel i's row of c is ldc = CB floats
  // after pixel i − 1's, its input S floats after.
  constexpr int64_t CB = NV * V::kLanes, ldc = CB, AS = S;
  IRMB_TAP_ROWS(IRMB_ROW_DECL)
  if (accumulate) {
    IRMB_TAP_ROWS(IRMB_ROW_LOAD)
  }
  // Two steps per iteration, GCC's unroller (as the AVX2 GEMM kernel).
#pragma GCC unroll 2
  for (int64_t k = kc; k > 0; --k) {
    const float *a = *taps++ + off;
    typename V::Reg b0 = V::load(w), b1 = b0, b2 = b0;
    if constexpr (NV > 1)
      b1 = V::load(w + V::kLanes);
    if constexpr (NV > 2)
      b2 = V::load(w + 2 * V::kLanes);
    w += CB;
    IRMB_TAP_ROWS(IRMB_ROW_FMA)
  }
  IRMB_TAP_ROWS(IRMB_ROW_STORE)
}

#undef IRMB_TAP_ROWS
#undef IRMB_ROWS
#undef IRMB_ROW_STORE
#undef IRMB_ROW_FMA
#undef IRMB_ROW_LOAD
#undef IRMB_ROW_DECL

/// microKernelTaps of this build's tile for a runtime pixel count (1 ..
/// kDirectTileRows).
template <int64_t S>
inline void microKernelTapsRows(int64_t pixels, int64_t kc,
                                const float *const *taps, int64_t off,
                                const float *w, float *c, bool accumulate) {
  constexpr int64_t NV = kDirectTileCols / kVectorFloats;
  withRows<kDirectTileRows>(pixels, [&](auto r) {
    microKernelTaps<Isa, decltype(r)::value, NV, S>(kc, taps, off, w, c,
                                                    accumulate);
  });
}

/// y[c·cs + p] = act(acc[p·CB + c] + bias[c]) (+ res[c·cs + p]) for
/// pixels p < pixels and channels c < channels ≤ CB (a multiple of the
/// vector width): the direct convolution's [pixel][channel] row sums
/// written as the output's channel rows. Square blocks of L pixels × L
/// channels are transposed in registers and activated four vectors at a
/// time (the same per-lane operations as biasActivateRow, so the same
/// results); the last pixels of a row go as partial vectors, masked on
/// AVX-512. `bias` and `res` may be null.
template <Act A, int64_t CB>
inline void storeChannelRows(const float *acc, int64_t pixels,
                             int64_t channels, const float *bias,
                             const float *res, float *y, int64_t cs) {
  using V = Isa;
  using R = typename V::Reg;
  constexpr int64_t L = V::kLanes;
  static_assert(CB % L == 0 && L % 4 == 0, "whole vectors of channels");
  for (int64_t c0 = 0; c0 < channels; c0 += L) {
    const int64_t cn = std::min(L, channels - c0);
    for (int64_t p0 = 0; p0 < pixels; p0 += L) {
      const int64_t pn = std::min(L, pixels - p0);
      R r[L];
      for (int64_t i = 0; i < L; ++i)
        r[i] = i < pn ? V::load(acc + (p0 + i) * CB + c0) : V::zero();
      V::transpose(r); // r[c]: channel c0 + c's pixels p0 ..
      for (int64_t c = 0; c < cn; c += 4) {
        R v[4] = {r[c], r[c + 1], r[c + 2], r[c + 3]};
        const int64_t at = (c0 + c) * cs + p0;
        activateStoreChannels<A>(v, cn - c, bias ? bias + c0 + c : nullptr,
                                 res ? res + at : nullptr, y + at, cs, pn);
      }
    }
  }
}

/// Input channels per K block of the direct convolution: the block's
/// packed weights (9 · kDirectCiBlock · kDirectTileCols floats: 9 KiB on
/// AVX2, 18 KiB on AVX-512) stay in L1 while the row's pixel tiles pass.
/// Measured on Zen 1 (session 13): 8, 16 and 32 within noise of each other.
constexpr int64_t kDirectCiBlock = 16;

/// Floats of packed weights directConv3x3s2 reads: whole blocks of
/// kDirectTileCols output channels (Packing.h, packCoLanes).
constexpr int64_t directConvWeightFloats(int64_t ci, int64_t co) {
  return (co + kDirectTileCols - 1) / kDirectTileCols * kDirectTileCols * ci *
         9;
}

/// y = act(conv3×3(x, w, stride 2, padding 1) + bias) (+ res), NCHW, for
/// `images` images (image i's input, output and residual xStride, yStride
/// and resStride floats after image i − 1's); `w` is the folded OIHW weight
/// packed by packCoLanes for kDirectTileCols channels, `res` null or the
/// output's layout.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, Act A>
void directConv3x3s2(const float *x, const float *w, const float *bias,
                     const float *res, float *y, int64_t images = 1,
                     int64_t xStride = 0, int64_t yStride = 0,
                     int64_t resStride = 0) {
  constexpr int64_t HO = (H - 1) / 2 + 1, WO = (W - 1) / 2 + 1;
  constexpr int64_t CB = kDirectTileCols, R = kDirectTileRows, K = CI * 9;
  constexpr int64_t CBLOCKS = (CO + CB - 1) / CB;
  constexpr int64_t CIB = kDirectCiBlock < CI ? kDirectCiBlock : CI;
  // A row's WO pixels go in TILES tiles of as equal sizes as can be (tile t
  // is pixels [WO·t / TILES, WO·(t + 1) / TILES), at most R), so no tile is
  // much narrower than the rest (narrow tiles have too few accumulators to
  // hide the FMA latency: 160 = 13 · 12 + 4 ran its 4-pixel tile at half
  // speed). The first tile, pixels [0, leftEnd), reads a copy of each tap
  // row's first 2R + 1 columns after a zero (the left padding); for odd W
  // (the last pixel's right tap is the right padding) the last tile, pixels
  // [rightStart, WO), a copy of the row's last columns; the rest read the
  // row copy (copyRows) or the input in place.
  constexpr int64_t TILES = (WO + R - 1) / R;
  constexpr int64_t leftEnd = WO / TILES;
  constexpr int64_t rightStart =
      W % 2 == 0 || TILES == 1 ? WO : WO * (TILES - 1) / TILES;
  constexpr int64_t EDGE = 2 * R + 2; // floats of a border copy per tap row
  // Measured per layer in docs/design-notes.md (session 21): 1.06–1.19× at
  // 128 channels, 1.01–1.04 at 64 → 64, 0.95–0.98 with one block; AVX2's
  // 16-channel blocks 0.99–1.06.
  constexpr bool copyRows = CBLOCKS > 1;
  // The row copy, or the zeros the taps of rows outside the input read.
  constexpr int64_t ROWS = copyRows ? CI * 3 * W : 2 * WO + 2 * R + 2;
#pragma omp parallel
  {
    int64_t thread, threads;
    threadShare(thread, threads);
    // The thread's buffers, reused across calls: the floats in its
    // threadScratch (HugePages.h), the tap pointers in a vector of its own;
    // locals below, since naming a thread_local in a dlopen'ed model is a
    // __tls_get_addr call.
    thread_local std::vector<const float *> tapStore;
    float *const acc = threadScratch(WO * CB + 2 * CI * 3 * EDGE + ROWS);
    tapStore.resize(3 * K);
    // acc: [WO][CB], the row's sums
    float *const left = acc + WO * CB;        // [CI·3][EDGE]
    float *const right = left + CI * 3 * EDGE; // [CI·3][EDGE]
    // [CI·3][W] (copyRows), or ROWS zeros.
    float *const rowCopy = right + CI * 3 * EDGE;
    if constexpr (!copyRows)
      std::fill(rowCopy, rowCopy + ROWS, 0.f);
    // Per K step: its input row, and its row in each border copy.
    const float **const taps = tapStore.data();
    const float **const ltaps = taps + K, **const rtaps = taps + 2 * K;
    const int64_t rows = images * HO;
    const int64_t r0 = rows * thread / threads,
                  r1 = rows * (thread + 1) / threads;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t image = r / HO, oy = r % HO;
      const float *xi = x + image * xStride;
      // Input row iy has slot iy mod 3 (of the row copy and the border
      // copies): any three consecutive rows have different slots, and
      // output row oy's first row 2·oy − 1 is output row oy − 1's last,
      // so where this thread ran oy − 1 it is in its slot already.
      const bool carried = r > r0 && (r - 1) / HO == image;
      for (int64_t ci = 0; ci < CI; ++ci)
        for (int64_t ky = 0; ky < 3; ++ky) {
          const int64_t iy = 2 * oy + ky - 1, slot = (iy + 3) % 3;
          const bool inside = iy >= 0 && iy < H;
          const float *row = xi + (ci * H + (inside ? iy : 0)) * W;
          float *to = copyRows ? rowCopy + (ci * 3 + slot) * W : nullptr;
          float *l = left + (ci * 3 + slot) * EDGE;
          float *rt = right + (ci * 3 + slot) * EDGE;
          if (!(carried && ky == 0)) {
            if constexpr (copyRows) {
              if (inside)
                std::memcpy(to, row, sizeof(float) * W);
              else
                std::fill(to, to + W, 0.f);
            }
            // l[j] = row[j − 1], rt[j] = row[2·rightStart − 1 + j], zero
            // outside the row.
            if (inside && W >= EDGE - 1) {
              l[0] = 0.f;
              std::memcpy(l + 1, row, sizeof(float) * (EDGE - 1));
            } else {
              for (int64_t j = 0; j < EDGE; ++j) {
                const int64_t lx = j - 1;
                l[j] = inside && lx >= 0 && lx < W ? row[lx] : 0.f;
              }
            }
            if constexpr (rightStart < WO)
              for (int64_t j = 0; j < EDGE; ++j) {
                const int64_t rx = 2 * rightStart - 1 + j;
                rt[j] = inside && rx >= 0 && rx < W ? row[rx] : 0.f;
              }
          }
          if constexpr (copyRows)
            row = to;
          for (int64_t kx = 0; kx < 3; ++kx) {
            const int64_t k = (ci * 3 + ky) * 3 + kx;
            // Pixel ox, tap kx is row[2·ox + kx − 1], read at taps[k] +
            // (2·ox − 1) with ox ≥ 1.
            taps[k] = inside || copyRows ? row + kx : rowCopy;
            ltaps[k] = l + kx;
            rtaps[k] = rt + kx;
          }
        }
      for (int64_t cb = 0; cb < CBLOCKS; ++cb) {
        const float *wb = w + cb * K * CB;
        for (int64_t c0 = 0; c0 < CI; c0 += CIB) {
          const int64_t k0 = c0 * 9, kc = std::min(CIB, CI - c0) * 9;
          const float *wk = wb + k0 * CB;
          const bool more = c0 > 0;
          microKernelTapsRows<2>(leftEnd, kc, ltaps + k0, 0, wk, acc, more);
          for (int64_t t = 1; WO * t / TILES < rightStart; ++t) {
            const int64_t ox = WO * t / TILES, n = WO * (t + 1) / TILES - ox;
            microKernelTapsRows<2>(n, kc, taps + k0, 2 * ox - 1, wk,
                                   acc + ox * CB, more);
          }
          if constexpr (rightStart < WO)
            microKernelTapsRows<2>(WO - rightStart, kc, rtaps + k0, 0, wk,
                                   acc + rightStart * CB, more);
        }
        // The row's channels: transposed, then bias, activation, residual.
        const int64_t at = (cb * CB * HO + oy) * WO;
        storeChannelRows<A, CB>(acc, WO, std::min(CB, CO - cb * CB),
                                bias ? bias + cb * CB : nullptr,
                                res ? res + image * resStride + at : nullptr,
                                y + image * yStride + at, HO * WO);
      }
    }
  }
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_DIRECTCONV_H
