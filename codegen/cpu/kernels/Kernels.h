//===- Kernels.h - CPU kernels instantiated by generated code --*- C++ -*-===//
//
// The kernel library that code emitted by irmb-compile --target cpu calls:
// fp32, NCHW, one image per call (the generated run() loops over the batch).
// Every shape reaches the kernels as a compile-time constant of the calling
// function. Convolutions and projections run on the packed, cache-blocked
// GEMM of Gemm.h (register-blocked intrinsics micro-kernels of
// MicroKernel.h, weights packed by irmb-compile as Packing.h describes), the
// 3×3 stride-1 ones chosen for it by Winograd (Winograd.h), the 3×3
// stride-2 ones directly with channels in lanes (DirectConv.h); the other
// kernels are loops with constant trip counts that the host
// compiler vectorises for the chosen ISA (-march). Threads: OpenMP.
//
// Header-only and self-contained (no MLIR, no LibTorch): it is compiled into
// every model .so and into the kernel unit tests.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_KERNELS_H
#define IRMB_CODEGEN_CPU_KERNELS_KERNELS_H

#include "ConvScratch.h"
#include "DirectConv.h"
#include "Gemm.h"
#include "StemConv.h"
#include "Winograd.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace irmb::kernels {

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// Writes row i of the four stride-2 phases of channel c of the zero-padded
/// (by P) [C, H, W] map x into y, laid out [2][2][C][HH][WH] (phase (py, px)
/// holds padded pixels (2i + py, 2j + px)): padded rows 2i and 2i + 1 are
/// input rows 2i − P and 2i + 1 − P, so both column phases of both come
/// from one pass over two input rows. Each phase row is a zero head, a
/// stride-2 copy (whole vectors while their source lies inside the row) and
/// a zero tail.
template <int64_t C, int64_t H, int64_t W, int64_t P>
inline void splitPhaseRow(const float *x, float *y, int64_t c, int64_t i) {
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
  constexpr int64_t HH = (HP + 1) / 2, WH = (WP + 1) / 2;
  for (int64_t py = 0; py < 2; ++py) {
    const int64_t sy = 2 * i + py - P;
    for (int64_t px = 0; px < 2; ++px) {
      float *row = y + (((py * 2 + px) * C + c) * HH + i) * WH;
      if (sy < 0 || sy >= H) {
        std::memset(row, 0, sizeof(float) * WH);
        continue;
      }
      const float *src = x + (c * H + sy) * W;
      // Columns j with 0 <= 2j + px - P < W.
      int64_t jlo =
          std::min<int64_t>(WH, std::max<int64_t>(0, (P - px + 1) / 2));
      int64_t jhi = std::max<int64_t>(
          jlo, std::min<int64_t>(WH, (W + P - px + 1) / 2));
      for (int64_t j = 0; j < jlo; ++j)
        row[j] = 0.f;
      int64_t j = jlo;
      for (; j + Isa::kLanes <= jhi &&
             2 * (j + Isa::kLanes) - 1 + px - P <= W - 1;
           j += Isa::kLanes)
        Isa::store(row + j, Isa::evens(src + (2 * j + px - P)));
      for (; j < jhi; ++j)
        row[j] = src[2 * j + px - P];
      for (int64_t j = jhi; j < WH; ++j)
        row[j] = 0.f;
    }
  }
}

/// Phase rows [i0, i1) of every channel (splitPhaseRow), channel by channel.
template <int64_t C, int64_t H, int64_t W, int64_t P>
void splitPhaseRows(const float *x, float *y, int64_t i0, int64_t i1) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = i0; i < i1; ++i)
      splitPhaseRow<C, H, W, P>(x, y, c, i);
}

/// Splits the whole map into its four stride-2 phases (splitPhaseRow),
/// reading the input once, front to back, row pair by row pair (row phase by
/// row phase read every other row, twice over, which the prefetchers follow
/// badly: 3× slower at 16 × 320²).
template <int64_t C, int64_t H, int64_t W, int64_t P>
void splitPhases(const float *x, float *y) {
  constexpr int64_t HH = (H + 2 * P + 1) / 2;
#pragma omp parallel for schedule(static)
  for (int64_t ci = 0; ci < C * HH; ++ci)
    splitPhaseRow<C, H, W, P>(x, y, ci / HH, ci % HH);
}

/// Bytes of phase planes a band of a banded stride-2 convolution splits and
/// then reads (phaseBandedConv): about a quarter of the smallest L2 seen
/// (Zen 3, 512 KiB), so they are still there when the GEMM reads them.
constexpr int64_t kPhaseBandBytes = 256 * 1024;

/// A stride-2 convolution of one image and one group as its phase split and
/// grid GEMM (gridGemmPanelRange) in bands: each thread takes an equal range
/// of the grid's panels and, band by band (kPhaseBandBytes of phase rows),
/// splits the phase rows the band's panels read and runs the GEMM over them
/// while they are in L2. Split whole first, the planes (6.5 MB at 16 × 320²)
/// were back in L3 or memory when the GEMM's 144–576 scattered tap rows read
/// them (docs/design-notes.md, session 12). A thread splits only the rows of
/// its own range ([first row its first panel reads, the next thread's
/// first)), so no row is written twice; before one barrier, each splits the
/// rows of its range that an earlier thread reads (the tap halo, and for
/// thread 0 the rows the last panels' padding columns reach past the map),
/// so after it no thread reads a row another one is writing. Where one
/// thread's range is too short for that, everything is split first. The same
/// sums in the same order as splitPhases then packedGemm: bit-identical.
/// `planes` is the (writable) scratch that b reads.
template <int64_t CI, int64_t H, int64_t W, int64_t P, Act A>
void phaseBandedConv(int64_t M, int64_t K, const float *x,
                     const float *apacked, const BSource &b, float *planes,
                     const float *bias, const float *res, float *c,
                     const CLayout &cl) {
  constexpr int64_t HH = (H + 2 * P + 1) / 2, WH = (W + 2 * P + 1) / 2;
  const int64_t panels = panelCount(gridColumns(b));
  int64_t reach = 0; // the farthest a tap reads into its phase plane
  for (int64_t k = 0; k < K; ++k)
    reach = std::max(reach, b.koff[k] % (HH * WH));
  // Rows [.., endRow(p1)) of every plane hold what panels [.., p1) read.
  auto endRow = [&](int64_t p1) {
    return std::min(HH, (p1 * kTileCols - 1 + reach) / WH + 1);
  };
  // Rows past the planes' last that the last panels read (of the next plane).
  const int64_t wrap = std::max<int64_t>(
      0, (panels * kTileCols - 1 + reach) / WH + 1 - HH);
  // Whole blocks of panels (gridGemmPanelRange's unit), at least one.
  const int64_t bandPanels = std::max<int64_t>(
      kPanelsPerBlock, kPhaseBandBytes / (4 * CI * WH * int64_t(sizeof(float))) *
                           WH / kTileCols / kPanelsPerBlock * kPanelsPerBlock);
#pragma omp parallel
  {
    int64_t thread, threads;
    threadShare(thread, threads);
    auto firstPanel = [&](int64_t t) { return panels * t / threads; };
    auto firstRow = [&](int64_t t) {
      return t == threads ? HH : firstPanel(t) * kTileCols / WH;
    };
    const int64_t p0 = firstPanel(thread), p1 = firstPanel(thread + 1);
    const int64_t r0 = firstRow(thread), r1 = firstRow(thread + 1);
    // Banded only if every thread's rows cover what the threads before it
    // (and, for thread 0, the wrap) read of them.
    bool banded = wrap <= firstRow(1);
    for (int64_t t = 1; t < threads; ++t)
      banded = banded && endRow(firstPanel(t)) <= firstRow(t + 1);
    int64_t done = r0;
    if (!banded || threads > 1) {
      int64_t pre = banded ? std::max(endRow(p0), thread == 0 ? wrap : 0)
                           : r1;
      pre = std::min(std::max(pre, r0), r1);
      splitPhaseRows<CI, H, W, P>(x, planes, r0, pre);
      done = pre;
#pragma omp barrier
    }
    for (int64_t pa = p0; pa < p1; pa += bandPanels) {
      const int64_t pb = std::min(p1, pa + bandPanels);
      const int64_t need = std::min(endRow(pb), r1);
      if (need > done) {
        splitPhaseRows<CI, H, W, P>(x, planes, done, need);
        done = need;
      }
      gridGemmPanelRange<A>(M, K, apacked, b, bias, res, c, cl, pa, pb);
    }
  }
}

/// Copies [C, H, W] into a zero-bordered [C, H + 2P, W + 2P].
template <int64_t C, int64_t H, int64_t W, int64_t P>
void padBorder(const float *x, float *y) {
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
#pragma omp parallel
  {
    // Each thread an equal run of padded rows of every channel
    // (threadRows), where the GEMM's panels of the same thread read them.
    int64_t r0, r1;
    threadRows(HP, r0, r1);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = r0; r < r1; ++r) {
        float *row = y + (c * HP + r) * WP;
        const int64_t i = r - P;
        if (i < 0 || i >= H) {
          std::memset(row, 0, sizeof(float) * WP);
          continue;
        }
        for (int64_t j = 0; j < P; ++j)
          row[j] = row[P + W + j] = 0.f;
        std::memcpy(row + P, x + (c * H + i) * W, sizeof(float) * W);
      }
  }
}

/// General grouped conv (NCHW) as a packed implicit GEMM per group
/// (Gemm.h): B's rows are the input channel taps, read from the input
/// itself (1×1 unpadded), from its four stride-2 phase planes (stride 2,
/// so every tap reads a contiguous row; one image of one group splits them
/// in bands, phaseBandedConv) or from the zero-padded input (other
/// strides and dilations); no im2col matrix is ever written. `w` is packed
/// per group (Packing.h); bias, activation and the residual `res` (the
/// result's layout, or null) are fused. A batch of `images` runs as one
/// GEMM per group with the images' columns side by side: image i's input,
/// result and residual start xStride, yStride and resStride floats after
/// image i − 1's. `scratch` holds images × convScratchFloats(...) floats.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t K, int64_t S,
          int64_t P, int64_t D, int64_t G, Act A>
void conv2d(const float *x, const float *w, const float *bias, const float *res,
            float *y, float *scratch, int64_t images = 1, int64_t xStride = 0,
            int64_t yStride = 0, int64_t resStride = 0) {
  constexpr int64_t HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t CIG = CI / G, COG = CO / G, KK = CIG * K * K;
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
  constexpr int64_t SCRATCH = convScratchFloats(CI, H, W, K, S, P, D, G);
  constexpr int64_t SLACK = convScratchSlack(K, D);
  const CLayout cl{HO * WO, images > 1 ? HO * WO : 0, yStride, resStride};
  auto run = [&](int64_t g, const BSource &b) {
    packedGemm<A>(COG, HO * WO * images, KK, w + g * COG * KK, b,
                  bias ? bias + g * COG : nullptr,
                  res ? res + g * COG * HO * WO : nullptr,
                  y + g * COG * HO * WO, cl);
  };
  if constexpr (K == 1 && S == 1 && P == 0) {
    for (int64_t g = 0; g < G; ++g)
      run(g, denseB(x + g * CIG * H * W, H * W, H * W,
                    images > 1 ? xStride : 0));
    return;
  }
#if defined(__AVX512F__)
  // A few input channels (the models' first convolution): from the input
  // itself, no phase planes (StemConv.h).
  if constexpr (K == 3 && S == 2 && P == 1 && D == 1 && G == 1 &&
                CI <= kStemMaxInputChannels) {
    stemConv3x3s2<CI, H, W, CO, A>(x, w, bias, res, y, images, xStride,
                                   yStride, resStride);
    return;
  }
#endif
  int64_t koff[KK];
  if constexpr (S == 2 && D == 1) {
    // Tap (ky, kx) of output (oy, ox) is phase (ky % 2, kx % 2) at
    // (oy + ky / 2, ox + kx / 2).
    constexpr int64_t HH = (HP + 1) / 2, WH = (WP + 1) / 2;
    auto phaseSource = [&](int64_t g) {
      for (int64_t r = 0; r < KK; ++r) {
        int64_t ci = g * CIG + r / (K * K), ky = (r / K) % K, kx = r % K;
        int64_t phase = (ky % 2) * 2 + kx % 2;
        koff[r] = (phase * CI + ci) * HH * WH + (ky / 2) * WH + kx / 2;
      }
      return BSource{scratch, koff, 0, WO, WH, 1, HO,
                     images > 1 ? SCRATCH : 0, SCRATCH};
    };
    for (int64_t i = 0; i < images; ++i)
      std::fill_n(scratch + (i + 1) * SCRATCH - SLACK, SLACK, 0.f);
    if (images == 1 && G == 1) {
      const BSource b = phaseSource(0);
      if (gridReadable(b, HO * WO, KK, cl)) {
        phaseBandedConv<CI, H, W, P, A>(COG, KK, x, w, b, scratch, bias, res,
                                        y, cl);
        return;
      }
    }
    for (int64_t i = 0; i < images; ++i)
      splitPhases<CI, H, W, P>(x + i * xStride, scratch + i * SCRATCH);
    for (int64_t g = 0; g < G; ++g)
      run(g, phaseSource(g));
    return;
  }
  const float *padded = x;
  int64_t paddedStride = xStride;
  if constexpr (P > 0) {
    for (int64_t i = 0; i < images; ++i) {
      padBorder<CI, H, W, P>(x + i * xStride, scratch + i * SCRATCH);
      std::fill_n(scratch + (i + 1) * SCRATCH - SLACK, SLACK, 0.f);
    }
    padded = scratch;
    paddedStride = SCRATCH;
  }
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t r = 0; r < KK; ++r) {
      int64_t ci = g * CIG + r / (K * K), ky = (r / K) % K, kx = r % K;
      koff[r] = ci * HP * WP + ky * D * WP + kx * D;
    }
    BSource b{padded, koff, 0, WO, S * WP, S, HO,
              images > 1 ? paddedStride : 0, P > 0 ? SCRATCH : 0};
    run(g, b);
  }
}

/// Input rows [i0, i1) (clamped to the map) of one [H, W] channel into its
/// zero-bordered plane [H + 2P, W + 2P] (whose borders are zero already).
template <int64_t H, int64_t W, int64_t P>
inline void copyPlaneRows(const float *x, float *plane, int64_t i0,
                          int64_t i1) {
  for (int64_t i = std::max<int64_t>(i0, 0); i < std::min(i1, H); ++i)
    std::memcpy(plane + (i + P) * (W + 2 * P) + P, x + i * W,
                sizeof(float) * W);
}

/// How a row kernel covers a row of N outputs with accumulators in
/// registers: kChunks chunks of kChunkVectors vectors (at most 6 a chunk,
/// as even as can be: 80 floats on AVX-512 are one chunk of 5), kChunkFloats
/// floats each, kRowFloats in all (the last chunk's lanes past N are
/// computed and not stored). Used by the depthwise and EMA convolutions.
template <int64_t N> struct RowChunks {
  static constexpr int64_t kLanes = Isa::kLanes;
  static constexpr int64_t kVectors = (N + kLanes - 1) / kLanes;
  static constexpr int64_t kChunks = (kVectors + 5) / 6;
  static constexpr int64_t kChunkVectors = (kVectors + kChunks - 1) / kChunks;
  static constexpr int64_t kChunkFloats = kChunkVectors * kLanes;
  static constexpr int64_t kRowFloats = kChunks * kChunkFloats;
};

/// Output rows [oy0, oy1) of one channel of a depthwise conv with each
/// row's accumulators in registers: the row is cut into chunks of at most 6
/// vectors (evenly: 80 columns are one chunk of 5), RB rows a pass; each
/// chunk starts from the bias, sums its K² taps in ky, kx order (`tap(oy,
/// ky, kx)`: where output row oy's tap reads its input for output column 0,
/// consecutive columns consecutive floats) and runs the activation on all
/// its vectors at once, then stores (the row's last vector masked), adding
/// `res` (the output's layout, or null). A pass's rows past oy1 are
/// computed, not stored: `tap` must be readable there.
template <int64_t K, int64_t WO, int64_t RB, Act A, typename Tap>
inline void depthwiseRowsInRegisters(int64_t oy0, int64_t oy1, const float *f,
                                     float bias, const float *res, float *dst,
                                     Tap tap) {
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t L = V::kLanes;
  constexpr int64_t CHV = RowChunks<WO>::kChunkVectors;
  constexpr int64_t CH = RowChunks<WO>::kChunkFloats;
  const R bv = V::set1(bias);
  for (int64_t oy = oy0; oy < oy1; oy += RB) {
    const int64_t rows = std::min(RB, oy1 - oy);
    for (int64_t ox = 0; ox < WO; ox += CH) {
      R acc[RB * CHV];
      for (int64_t u = 0; u < RB * CHV; ++u)
        acc[u] = bv;
      for (int64_t ky = 0; ky < K; ++ky)
#pragma GCC unroll 8
        for (int64_t r = 0; r < RB; ++r)
#pragma GCC unroll 8
          for (int64_t kx = 0; kx < K; ++kx) {
            const R fv = V::set1(f[ky * K + kx]);
            const float *src = tap(oy + r, ky, kx) + ox;
#pragma GCC unroll 8
            for (int64_t u = 0; u < CHV; ++u)
              acc[r * CHV + u] =
                  V::fma(V::load(src + u * L), fv, acc[r * CHV + u]);
          }
      activateVectors<A, V, RB * CHV>(acc);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t u = 0; u < CHV && ox + u * L < WO; ++u) {
          const int64_t at = (oy + r) * WO + ox + u * L;
          const int64_t n = std::min<int64_t>(L, WO - (ox + u * L));
          const R v = acc[r * CHV + u];
          if (n == L) {
            V::store(dst + at, res ? V::add(v, V::load(res + at)) : v);
          } else {
            V::storeFirst(dst + at,
                          res ? V::add(v, V::loadFirst(res + at, n)) : v, n);
          }
        }
    }
  }
}

/// Stride-1 depthwise conv in registers (depthwiseRowsInRegisters) from
/// each channel's zero-padded plane; rows of 3 vectors go 2 rows a pass, of
/// 1 or 2 vectors 4. The same sums in the same order as the
/// accumulator-row form, so the results are bit-identical; on AVX-512 (the
/// Xeon of docs/benchmarks.md, session 10) 1.3× (80 wide) to 2.1× (20
/// wide) faster, independent of tuning. Not used for AVX2: there the
/// accumulator-row form is as fast or faster (Zen 3, and AVX2 builds on the
/// Xeon: 0.7–0.9× at widths 37–80).
template <int64_t C, int64_t H, int64_t W, int64_t K, int64_t P, Act A>
void depthwiseStride1Registers(const float *x, const float *w,
                               const float *bias, const float *res, float *y) {
  constexpr int64_t HO = H + 2 * P - K + 1, WO = W + 2 * P - K + 1;
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
  constexpr int64_t CHV = RowChunks<WO>::kChunkVectors;
  constexpr int64_t CH = RowChunks<WO>::kChunkFloats;
  // Output rows per pass, for narrow rows: a 40-wide row (3 vectors) runs
  // two at a time, 20 wide (2) or narrower four, so that more independent
  // FMA chains and activations are in flight: 1.08× and 1.15× stand-alone
  // on the Xeon of docs/design-notes.md (session 22); rows of 4 vectors or
  // more run one at a time (two 80-wide rows at once: 0.89×).
  constexpr int64_t RB = CHV >= 4 ? 1 : CHV == 3 ? 2 : 4;
#pragma omp parallel
  {
    // Slack past the last row: a chunk's discarded lanes read there, and
    // a pass's rows past the thread's last row (computed, not stored).
    std::vector<float> plane((HP + RB) * WP + CH, 0.f);
    int64_t oy0, oy1;
    threadRows(HO, oy0, oy1);
    for (int64_t c = 0; c < C && oy0 < oy1; ++c) {
      copyPlaneRows<H, W, P>(x + c * H * W, plane.data(), oy0 - P,
                             oy1 - 1 + K - P);
      const float *pl = plane.data();
      depthwiseRowsInRegisters<K, WO, RB, A>(
          oy0, oy1, w + c * K * K, bias ? bias[c] : 0.f,
          res ? res + c * HO * WO : nullptr, y + c * HO * WO,
          [pl](int64_t oy, int64_t ky, int64_t kx) {
            return pl + (oy + ky) * WP + kx;
          });
    }
  }
}

/// Stride-2 depthwise conv with a zero border of one (SCDown's 3×3) in
/// registers (depthwiseRowsInRegisters, one row a pass): every input row a
/// thread reads is split once into its two column phases
/// (splitColumnPhases, as Winograd's input: phase q holds padded columns
/// 2·t + q), so tap kx of output column ox is phase kx % 2 at ox + kx / 2
/// and a row's K² taps are whole-vector loads. The sums run as in the
/// accumulator-row form (bias, then the taps in ky, kx order), so the
/// results are the same; that form read its taps two floats apart and ran
/// SCDown's 128-channel 80² → 40² layer at 10 GFLOP/s (Xeon of
/// docs/design-notes.md, session 22): this form 1.1–1.3× that stand-alone
/// at 1 thread, 1.2–1.65× at 2. AVX-512 only: AVX2 builds split the phases
/// through a padded copy, 0.25–0.54×.
template <int64_t C, int64_t H, int64_t W, int64_t K, Act A>
void depthwiseStride2Registers(const float *x, const float *w,
                               const float *bias, const float *res, float *y) {
  constexpr int64_t L = Isa::kLanes;
  constexpr int64_t HO = (H + 2 - K) / 2 + 1, WO = (W + 2 - K) / 2 + 1;
  // Phase columns a chunk's taps read: the row's chunks and K / 2 more,
  // in whole vectors (splitColumnPhases stores whole vectors).
  constexpr int64_t PW =
      (RowChunks<WO>::kRowFloats + K / 2 + L - 1) / L * L;
#pragma omp parallel
  {
    int64_t oy0, oy1;
    threadRows(HO, oy0, oy1);
    // Input rows 2·oy0 − 1 .. 2·(oy1 − 1) + K − 2, each as two phase rows.
    const int64_t first = 2 * oy0 - 1;
    const int64_t count = oy1 > oy0 ? 2 * (oy1 - 1 - oy0) + K : 0;
    std::vector<float> phases(count * 2 * PW + kPaddedRow<2, W, PW>);
    float *const padded = phases.data() + count * 2 * PW;
    for (int64_t c = 0; c < C && oy0 < oy1; ++c) {
      const float *xc = x + c * H * W;
      for (int64_t i = 0; i < count; ++i) {
        const int64_t iy = first + i;
        float *out = phases.data() + i * 2 * PW;
        if (iy < 0 || iy >= H)
          std::fill(out, out + 2 * PW, 0.f);
        else
          splitColumnPhases<2, W, PW>(xc + iy * W, out, PW, padded);
      }
      const float *ph = phases.data();
      depthwiseRowsInRegisters<K, WO, 1, A>(
          oy0, oy1, w + c * K * K, bias ? bias[c] : 0.f,
          res ? res + c * HO * WO : nullptr, y + c * HO * WO,
          [ph, oy0](int64_t oy, int64_t ky, int64_t kx) {
            return ph + ((2 * (oy - oy0) + ky) * 2 + kx % 2) * PW + kx / 2;
          });
    }
  }
}

/// Depthwise conv (groups == channels, one filter per channel): each
/// channel is zero-padded into a thread-local plane so the inner loop runs
/// without bounds checks (and vectorises along x at stride 1); bias,
/// activation and the residual `res` (the result's layout, or null) fused.
/// Each thread takes an equal run of output rows of every channel
/// (threadRows) and pads only the input rows they read.
template <int64_t C, int64_t H, int64_t W, int64_t K, int64_t S, int64_t P,
          int64_t D, Act A>
void depthwiseConv2d(const float *x, const float *w, const float *bias,
                     const float *res, float *y) {
  constexpr int64_t HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
  if constexpr (S == 1 && D == 1 && Isa::kLanes == 16) {
    depthwiseStride1Registers<C, H, W, K, P, A>(x, w, bias, res, y);
    return;
  }
  if constexpr (S == 2 && D == 1 && P == 1 && Isa::kLanes == 16) {
    depthwiseStride2Registers<C, H, W, K, A>(x, w, bias, res, y);
    return;
  }
#pragma omp parallel
  {
    std::vector<float> plane(HP * WP, 0.f), acc(WO);
    int64_t oy0, oy1;
    threadRows(HO, oy0, oy1);
    for (int64_t c = 0; c < C && oy0 < oy1; ++c) {
      copyPlaneRows<H, W, P>(x + c * H * W, plane.data(), oy0 * S - P,
                             (oy1 - 1) * S + D * (K - 1) + 1 - P);
      const float *f = w + c * K * K;
      float bv = bias ? bias[c] : 0.f;
      float *dst = y + c * HO * WO;
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        for (int64_t ox = 0; ox < WO; ++ox)
          acc[ox] = bv;
        for (int64_t ky = 0; ky < K; ++ky) {
          const float *row = &plane[(oy * S + ky * D) * WP];
          for (int64_t kx = 0; kx < K; ++kx) {
            float fv = f[ky * K + kx];
            const float *src = row + kx * D;
#pragma omp simd
            for (int64_t ox = 0; ox < WO; ++ox)
              acc[ox] += src[ox * S] * fv;
          }
        }
        biasActivateRow<A>(acc.data(), 0.f,
                           res ? res + c * HO * WO + oy * WO : nullptr,
                           dst + oy * WO, WO);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Element-wise and data movement
//===----------------------------------------------------------------------===//

/// Per-channel affine y = act(x · scale[c] + shift[c]) (a folded BatchNorm).
template <int64_t C, int64_t HW, Act A>
void channelAffine(const float *x, const float *scale, const float *shift,
                   float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    affineActivateRow<A>(x + c * HW, scale[c], shift[c], y + c * HW, HW);
}

template <int64_t N, Act A> void activation(const float *x, float *y) {
  constexpr int64_t kChunk = 4096;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; i += kChunk)
    biasActivateRow<A>(x + i, 0.f, nullptr, y + i, std::min(kChunk, N - i));
}

template <int64_t N> void add(const float *a, const float *b, float *y) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < N; ++i)
    y[i] = a[i] + b[i];
}

/// Channels g·PERIOD + START + i (g < GROUPS, i < SIZE) of a [C, HW] map.
template <int64_t HW, int64_t START, int64_t SIZE, int64_t GROUPS,
          int64_t PERIOD>
void sliceChannels(const float *x, float *y) {
  for (int64_t g = 0; g < GROUPS; ++g)
    std::memcpy(y + g * SIZE * HW, x + (g * PERIOD + START) * HW,
                sizeof(float) * SIZE * HW);
}

/// Copies `channels` channels of HW pixels to offset `at` of the result.
inline void copyChannels(const float *x, int64_t channels, int64_t hw, float *y,
                         int64_t at) {
  std::memcpy(y + at * hw, x, sizeof(float) * channels * hw);
}

/// Zero padding at the bottom and right: [C, H, W] -> [C, HP, WP].
template <int64_t C, int64_t H, int64_t W, int64_t HP, int64_t WP>
void padBottomRight(const float *x, float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < HP; ++i)
      for (int64_t j = 0; j < WP; ++j)
        y[(c * HP + i) * WP + j] =
            (i < H && j < W) ? x[(c * H + i) * W + j] : 0.f;
}

/// Top-left crop: [C, H, W] -> [C, HO, WO].
template <int64_t C, int64_t H, int64_t W, int64_t HO, int64_t WO>
void cropTopLeft(const float *x, float *y) {
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < HO; ++i)
      std::memcpy(y + (c * HO + i) * WO, x + (c * H + i) * W,
                  sizeof(float) * WO);
}

/// Max pooling, K×K window, stride S, padding P (padding never wins: the
/// maximum of the window's pixels inside the map). Separable: each input
/// row's window maxima along x into a per-thread plane, then each output
/// row the maximum of K of those rows, both in vectors at stride 1. Every
/// step is max(later, earlier) as vmaxps orders it, which is exactly
/// std::max(earlier, later) of a row-major scan, NaNs and zero signs
/// included: the result equals the direct window scan bit for bit.
template <int64_t C, int64_t H, int64_t W, int64_t K, int64_t S, int64_t P>
void maxPool(const float *x, float *y) {
  using V = Isa;
  constexpr int64_t L = V::kLanes;
  constexpr int64_t HO = (H + 2 * P - K) / S + 1, WO = (W + 2 * P - K) / S + 1;
  constexpr int64_t WP = (WO - 1) * S + K; // padded columns a window reads
#pragma omp parallel
  {
    // rowMax[iy][ox]: the maximum of input row iy over output column ox's
    // window; padded: one input row with -inf on both sides.
    std::vector<float> rowMax(H * WO), padded(std::max(WP, P + W), -INFINITY);
    // The thread's output rows of every channel and the input rows their
    // windows read.
    int64_t oy0, oy1;
    threadRows(HO, oy0, oy1);
    const int64_t iy0 = std::max<int64_t>(0, oy0 * S - P);
    const int64_t iy1 = std::min<int64_t>(H, (oy1 - 1) * S - P + K);
    for (int64_t c = 0; c < C && oy0 < oy1; ++c) {
      const float *xc = x + c * H * W;
      for (int64_t iy = iy0; iy < iy1; ++iy) {
        std::memcpy(padded.data() + P, xc + iy * W, sizeof(float) * W);
        const float *in = padded.data();
        float *out = rowMax.data() + iy * WO;
        int64_t ox = 0;
        if constexpr (S == 1)
          for (; ox + L <= WO; ox += L) {
            typename V::Reg m = V::load(in + ox);
            for (int64_t kx = 1; kx < K; ++kx)
              m = V::max(V::load(in + ox + kx), m);
            V::store(out + ox, m);
          }
        for (; ox < WO; ++ox) {
          float m = in[ox * S];
          for (int64_t kx = 1; kx < K; ++kx)
            m = std::max(m, in[ox * S + kx]);
          out[ox] = m;
        }
      }
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        // The window's rows inside the map (at least one: P < K).
        const int64_t y0 = std::max<int64_t>(0, oy * S - P);
        const int64_t y1 = std::min<int64_t>(H, oy * S - P + K);
        const float *first = rowMax.data() + y0 * WO;
        float *out = y + (c * HO + oy) * WO;
        int64_t ox = 0;
        for (; ox + L <= WO; ox += L) {
          typename V::Reg m = V::load(first + ox);
          for (int64_t iy = y0 + 1; iy < y1; ++iy)
            m = V::max(V::load(first + (iy - y0) * WO + ox), m);
          V::store(out + ox, m);
        }
        for (; ox < WO; ++ox) {
          float m = first[ox];
          for (int64_t iy = y0 + 1; iy < y1; ++iy)
            m = std::max(m, first[(iy - y0) * WO + ox]);
          out[ox] = m;
        }
      }
    }
  }
}

/// Nearest-neighbour upsampling by an integral factor S: each input row
/// widened once (every value S times), then written to its S output rows.
template <int64_t C, int64_t H, int64_t W, int64_t S>
void resizeNearest(const float *x, float *y) {
#pragma omp parallel
  {
    // Each thread an equal run of input rows of every channel (threadRows).
    int64_t i0, i1;
    threadRows(H, i0, i1);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = i0; i < i1; ++i) {
        const float *src = x + (c * H + i) * W;
        float *first = y + (c * H + i) * S * W * S;
        for (int64_t j = 0; j < W; ++j)
          for (int64_t s = 0; s < S; ++s)
            first[j * S + s] = src[j];
        for (int64_t s = 1; s < S; ++s)
          std::memcpy(first + s * W * S, first, sizeof(float) * W * S);
      }
  }
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// Keys per block of the online softmax of attention's large windows.
constexpr int64_t kKeyBlock = 64;
/// Queries a thread takes at a time in globalAttention: its scores block
/// is T × kQueryBlock floats (400 tokens: 600 KiB, in L2).
constexpr int64_t kQueryBlock = 8 * kTileCols;

/// Whole-map attention (attention with WIN = 0) as two packed GEMMs per
/// head and query block, in the maps' own layout, nothing gathered:
/// Sᵀ[key][query] = Kᵀ·Q (keys as A, packed transposed; the queries' map
/// [d][token] is B as it lies), a softmax down each column (over the keys,
/// queries in vector lanes: scale, maximum, e^x, sum, × 1/sum, as PyTorch's
/// softmax(q·k · scale)), then y[d][query] = V·P (V [d][token] packed as A,
/// the block of P as B) written straight into the result. Each thread
/// takes an equal range of query panels of every head and runs both GEMMs
/// and the softmax on it alone (gemmPanelRange): no barrier, no shared
/// buffer.
template <int64_t H, int64_t W, int64_t HEADS, int64_t DK, int64_t DV>
void globalAttention(const float *q, const float *k, const float *v,
                     float scale, float *y) {
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t L = V::kLanes, T = H * W;
  constexpr int64_t panels = panelCount(T);
#pragma omp parallel
  {
    int64_t thread, threads;
    threadShare(thread, threads);
    const int64_t c0 = std::min(T, panels * thread / threads * kTileCols);
    const int64_t c1 = std::min(T, panels * (thread + 1) / threads * kTileCols);
    std::vector<float> keys(T * DK), values(DV * T), scores(T * kQueryBlock);
    for (int64_t h = 0; h < HEADS && c0 < c1; ++h) {
      const float *qh = q + h * DK * T, *kh = k + h * DK * T;
      const float *vh = v + h * DV * T;
      packTransposed(kh, T, T, DK, kTileRows, keys.data());
      packWeights(vh, DV, T, kTileRows, values.data());
      for (int64_t b0 = c0; b0 < c1; b0 += kQueryBlock) {
        const int64_t n = std::min(kQueryBlock, c1 - b0);
        float *s = scores.data();
        gemmPanelRange<Act::None>(T, n, DK, keys.data(),
                                  denseB(qh + b0, T), nullptr, nullptr, s,
                                  CLayout{kQueryBlock}, 0, panelCount(n));
        // Column softmax: lanes are queries, rows are keys; G vectors of
        // queries at a time, so that G maximum, exponential and sum chains
        // run side by side (each lane's operations, and so its result, are
        // the same for any G). `load` and `store` move a whole vector of
        // queries, or the last w < L.
        auto columns = [&](int64_t j, auto groups, auto load, auto store) {
          constexpr int64_t G = decltype(groups)::value;
          R m[G], sum[G], e[G];
          for (int64_t g = 0; g < G; ++g)
            m[g] = V::mul(load(s + j + g * L), V::set1(scale));
          for (int64_t key = 1; key < T; ++key)
            for (int64_t g = 0; g < G; ++g)
              m[g] = V::max(m[g], V::mul(load(s + key * kQueryBlock + j +
                                               g * L),
                                          V::set1(scale)));
          for (int64_t g = 0; g < G; ++g) {
            m[g] = V::sub(V::zero(), m[g]); // −maximum
            sum[g] = V::zero();
          }
          for (int64_t key = 0; key < T; ++key) {
            float *at = s + key * kQueryBlock + j;
            for (int64_t g = 0; g < G; ++g)
              e[g] = V::fma(load(at + g * L), V::set1(scale), m[g]);
            expVectors<V, G>(e);
            for (int64_t g = 0; g < G; ++g) {
              store(at + g * L, e[g]);
              sum[g] = V::add(sum[g], e[g]);
            }
          }
          for (int64_t g = 0; g < G; ++g)
            sum[g] = V::div(V::set1(1.f), sum[g]);
          for (int64_t key = 0; key < T; ++key) {
            float *at = s + key * kQueryBlock + j;
            for (int64_t g = 0; g < G; ++g)
              store(at + g * L, V::mul(load(at + g * L), sum[g]));
          }
        };
        const auto whole = [](const float *p) { return V::load(p); };
        const auto wholeStore = [](float *p, R x) { V::store(p, x); };
        int64_t j = 0;
        for (; j + 4 * L <= n; j += 4 * L)
          columns(j, std::integral_constant<int64_t, 4>{}, whole, wholeStore);
        for (; j + L <= n; j += L)
          columns(j, std::integral_constant<int64_t, 1>{}, whole, wholeStore);
        if (const int64_t w = n - j; w > 0)
          columns(
              j, std::integral_constant<int64_t, 1>{},
              [w](const float *p) { return V::loadFirst(p, w); },
              [w](float *p, R x) { V::storeFirst(p, x, w); });
        gemmPanelRange<Act::None>(DV, n, T, values.data(),
                                  denseB(s, kQueryBlock), nullptr, nullptr,
                                  y + h * DV * T + b0, CLayout{T}, 0,
                                  panelCount(n));
      }
    }
  }
}

/// The pixels of window `win` (row-major over the N1 × N2 grid of windows)
/// of a strided-grid window attention over an H × W map, WIN × WIN tokens:
/// token t is map pixel ((t / WIN)·N1 + win / N2, (t % WIN)·N2 + win % N2),
/// or −1 where that lies in the zero padding past the map.
template <int64_t H, int64_t W, int64_t WIN>
inline void windowPixels(int64_t win, int64_t *pixels) {
  constexpr int64_t N1 = (H + WIN - 1) / WIN, N2 = (W + WIN - 1) / WIN;
  const int64_t a = win / N2, cc = win % N2;
  for (int64_t t = 0; t < WIN * WIN; ++t) {
    int64_t row = (t / WIN) * N1 + a, col = (t % WIN) * N2 + cc;
    pixels[t] = (row < H && col < W) ? row * W + col : -1;
  }
}

/// Window tokens up to which windowAttention holds a window's whole score
/// matrix (T × T rounded to vectors: 256 tokens, 256 KiB).
constexpr int64_t kSmallWindowTokens = 256;

/// Strided-grid window attention (WIN > 0, as attention) for windows of
/// T ≤ kSmallWindowTokens tokens, with the queries in vector lanes, so no
/// step sums across lanes: per window and head the queries are gathered
/// [d][token] (tokens padded to whole vectors), keys and values
/// token-major; for each vector of queries the scores against every key
/// (one broadcast of the key's d-th value per FMA), a softmax down the keys
/// (scale, maximum, e^x, sum, × 1/sum, as PyTorch's softmax(q·k · scale);
/// padded tokens are zero keys and values that count in it), then the
/// outputs, DV accumulators in blocks of 8 against one broadcast of a
/// value each. With DK = DV = 8 (iRMB's heads) the per-query kernel it
/// replaces spent most of its time in horizontal sums: 7.6 → 40+ GFLOP/s.
template <int64_t H, int64_t W, int64_t HEADS, int64_t DK, int64_t DV,
          int64_t WIN>
void windowAttention(const float *q, const float *k, const float *v,
                     float scale, float *y) {
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t L = V::kLanes;
  constexpr int64_t HP = (H + WIN - 1) / WIN * WIN, WP = (W + WIN - 1) / WIN * WIN;
  constexpr int64_t N1 = HP / WIN, N2 = WP / WIN, T = WIN * WIN;
  constexpr int64_t TP = (T + L - 1) / L * L;
  constexpr int64_t kDvBlock = 8;
#pragma omp parallel
  {
    std::vector<float> qd(DK * TP), kt(T * DK), vt(T * DV), sc(T * TP),
        out(DV * TP);
    std::vector<int64_t> pixels(T);
#pragma omp for collapse(2) schedule(static)
    for (int64_t win = 0; win < N1 * N2; ++win) {
      for (int64_t h = 0; h < HEADS; ++h) {
        windowPixels<H, W, WIN>(win, pixels.data());
        for (int64_t d = 0; d < DK; ++d) {
          const float *qh = q + (h * DK + d) * H * W;
          const float *kh = k + (h * DK + d) * H * W;
          // (Queries past T stay the zeros qd was made with.)
          for (int64_t t = 0; t < T; ++t) {
            bool real = pixels[t] >= 0;
            qd[d * TP + t] = real ? qh[pixels[t]] : 0.f;
            kt[t * DK + d] = real ? kh[pixels[t]] : 0.f;
          }
        }
        for (int64_t d = 0; d < DV; ++d) {
          const float *vh = v + (h * DV + d) * H * W;
          for (int64_t t = 0; t < T; ++t)
            vt[t * DV + d] = pixels[t] >= 0 ? vh[pixels[t]] : 0.f;
        }
        // G query vectors at a time: G score, maximum, exponential and sum
        // chains side by side, one broadcast of a key value for G FMAs
        // (each lane's operations, and so its result, are the same for any
        // G).
        auto queries = [&](int64_t i0, auto groups) {
          constexpr int64_t G = decltype(groups)::value;
          // Scores sc[key][i0 ...] and their maximum (scaled).
          R m[G], acc[G], e[G];
          for (int64_t g = 0; g < G; ++g)
            m[g] = V::set1(-INFINITY);
          for (int64_t j = 0; j < T; ++j) {
            const float *kj = &kt[j * DK];
            for (int64_t g = 0; g < G; ++g)
              acc[g] = V::zero();
            for (int64_t d = 0; d < DK; ++d) {
              const R kv = V::set1(kj[d]);
              for (int64_t g = 0; g < G; ++g)
                acc[g] = V::fma(kv, V::load(&qd[d * TP + i0 + g * L]), acc[g]);
            }
            for (int64_t g = 0; g < G; ++g) {
              V::store(&sc[j * TP + i0 + g * L], acc[g]);
              m[g] = V::max(m[g], V::mul(acc[g], V::set1(scale)));
            }
          }
          for (int64_t g = 0; g < G; ++g) {
            m[g] = V::sub(V::zero(), m[g]); // −maximum
            acc[g] = V::zero();             // the sum
          }
          for (int64_t j = 0; j < T; ++j) {
            float *at = &sc[j * TP + i0];
            for (int64_t g = 0; g < G; ++g)
              e[g] = V::fma(V::load(at + g * L), V::set1(scale), m[g]);
            expVectors<V, G>(e);
            for (int64_t g = 0; g < G; ++g) {
              V::store(at + g * L, e[g]);
              acc[g] = V::add(acc[g], e[g]);
            }
          }
          for (int64_t g = 0; g < G; ++g)
            acc[g] = V::div(V::set1(1.f), acc[g]);
          for (int64_t j = 0; j < T; ++j)
            for (int64_t g = 0; g < G; ++g)
              V::store(&sc[j * TP + i0 + g * L],
                       V::mul(V::load(&sc[j * TP + i0 + g * L]), acc[g]));
        };
        // Outputs d0 .. d0 + ND − 1 of the query vector at i0.
        auto outputs = [&](int64_t i0, int64_t d0, auto nd) {
          constexpr int64_t ND = decltype(nd)::value;
          R acc[ND];
          for (int64_t u = 0; u < ND; ++u)
            acc[u] = V::zero();
          for (int64_t j = 0; j < T; ++j) {
            const R pj = V::load(&sc[j * TP + i0]);
            const float *vj = &vt[j * DV + d0];
            for (int64_t u = 0; u < ND; ++u)
              acc[u] = V::fma(V::set1(vj[u]), pj, acc[u]);
          }
          for (int64_t u = 0; u < ND; ++u)
            V::store(&out[(d0 + u) * TP + i0], acc[u]);
        };
        int64_t i0 = 0;
        for (; i0 + 4 * L <= TP; i0 += 4 * L)
          queries(i0, std::integral_constant<int64_t, 4>{});
        for (; i0 < TP; i0 += L)
          queries(i0, std::integral_constant<int64_t, 1>{});
        for (i0 = 0; i0 < TP; i0 += L) {
          int64_t d0 = 0;
          for (; d0 + kDvBlock <= DV; d0 += kDvBlock)
            outputs(i0, d0, std::integral_constant<int64_t, kDvBlock>{});
          if constexpr (DV % kDvBlock != 0)
            outputs(i0, d0, std::integral_constant<int64_t, DV % kDvBlock>{});
        }
        for (int64_t d = 0; d < DV; ++d) {
          float *yd = y + (h * DV + d) * H * W;
          for (int64_t t = 0; t < T; ++t)
            if (pixels[t] >= 0)
              yd[pixels[t]] = out[d * TP + t];
        }
      }
    }
  }
}

/// attention's windows of more than kSmallWindowTokens tokens, with O(T)
/// memory: per window and head, k is gathered transposed ([d][token], rows
/// padded with zeros to whole vectors) and v either the same way (DV not a
/// multiple of the vector: the P·V sums run along the keys) or token-major
/// (each key's v row is added to the accumulator with one broadcast, four
/// keys in flight, no horizontal sums); each query row runs an online
/// softmax over key blocks of kKeyBlock (running maximum and sum, rescaled
/// accumulator), scores, maximum and exponentials in vectors, so only one
/// block of scores is ever held.
template <int64_t H, int64_t W, int64_t HEADS, int64_t DK, int64_t DV,
          int64_t WIN>
void largeWindowAttention(const float *q, const float *k, const float *v,
                          float scale, float *y) {
  static_assert(WIN > 0, "the whole map is globalAttention");
  constexpr int64_t WH = WIN, WW = WIN;
  constexpr int64_t HP = (H + WH - 1) / WH * WH, WP = (W + WW - 1) / WW * WW;
  constexpr int64_t N1 = HP / WH, N2 = WP / WW, T = WH * WW;
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t L = V::kLanes;
  // Keys padded to whole vectors: kt rows of TP floats, zero past T.
  constexpr int64_t TP = (T + L - 1) / L * L;
  constexpr bool tokenMajorV = DV % L == 0;
  constexpr int64_t DVV = tokenMajorV ? DV / L : 1; // vectors per v row
  static_assert(kKeyBlock % 16 == 0, "key blocks are whole vectors");
#pragma omp parallel
  {
    std::vector<float> qs(T * DK), kt(DK * TP, 0.f), vt(DV * TP, 0.f);
    std::vector<int64_t> pixels(T);
    alignas(64) float p[kKeyBlock], acc[DV];
#pragma omp for collapse(2) schedule(static)
    for (int64_t win = 0; win < N1 * N2; ++win) {
      for (int64_t h = 0; h < HEADS; ++h) {
        windowPixels<H, W, WIN>(win, pixels.data());
        for (int64_t d = 0; d < DK; ++d) {
          const float *qd = q + (h * DK + d) * H * W;
          const float *kd = k + (h * DK + d) * H * W;
          for (int64_t t = 0; t < T; ++t) {
            bool real = pixels[t] >= 0;
            qs[t * DK + d] = real ? qd[pixels[t]] * scale : 0.f;
            kt[d * TP + t] = real ? kd[pixels[t]] : 0.f;
          }
        }
        for (int64_t d = 0; d < DV; ++d) {
          const float *vd = v + (h * DV + d) * H * W;
          for (int64_t t = 0; t < T; ++t)
            vt[tokenMajorV ? t * DV + d : d * TP + t] =
                pixels[t] >= 0 ? vd[pixels[t]] : 0.f;
        }
        for (int64_t i = 0; i < T; ++i) {
          if (pixels[i] < 0)
            continue; // a padded query: cropped away
          float m = -INFINITY, sum = 0.f;
          for (int64_t d = 0; d < DV; ++d)
            acc[d] = 0.f;
          const float *qi = &qs[i * DK];
          for (int64_t j0 = 0; j0 < T; j0 += kKeyBlock) {
            int64_t n = std::min(kKeyBlock, T - j0);
            int64_t nv = (n + L - 1) / L * L;
            // Scores of the block, in vectors, four vectors of keys in
            // flight (keys past T score -inf).
            int64_t jv = 0;
            for (; jv + 4 * L <= nv; jv += 4 * L) {
              R sc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
              for (int64_t d = 0; d < DK; ++d) {
                R qd = V::set1(qi[d]);
                const float *kr = &kt[d * TP + j0 + jv];
                for (int64_t u = 0; u < 4; ++u)
                  sc[u] = V::fma(qd, V::load(kr + u * L), sc[u]);
              }
              for (int64_t u = 0; u < 4; ++u)
                V::store(p + jv + u * L, sc[u]);
            }
            for (; jv < nv; jv += L) {
              R sc = V::zero();
              for (int64_t d = 0; d < DK; ++d)
                sc = V::fma(V::set1(qi[d]), V::load(&kt[d * TP + j0 + jv]),
                            sc);
              V::store(p + jv, sc);
            }
            for (int64_t j = n; j < nv; ++j)
              p[j] = -INFINITY;
            R mv = V::load(p);
            for (int64_t jv = L; jv < nv; jv += L)
              mv = V::max(mv, V::load(p + jv));
            alignas(64) float lanes[L];
            V::store(lanes, mv);
            float bm = m;
            for (int64_t l = 0; l < L; ++l)
              bm = std::max(bm, lanes[l]);
            float correction = expf32(m - bm); // 0 on the first block
            float blockSum = expShiftedRow(p, bm, n);
            for (int64_t j = n; j < nv; ++j)
              p[j] = 0.f;
            sum = sum * correction + blockSum;
            m = bm;
            if constexpr (tokenMajorV && DVV == 1) {
              // acc += Σ_j p[j] · v[j] for a one-vector v row: four keys'
              // partial sums in flight (independent FMA chains).
              R part[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
              const float *vb = &vt[j0 * DV];
              int64_t j = 0;
              for (; j + 4 <= n; j += 4)
                for (int64_t u = 0; u < 4; ++u)
                  part[u] = V::fma(V::set1(p[j + u]),
                                   V::load(vb + (j + u) * DV), part[u]);
              for (; j < n; ++j)
                part[0] = V::fma(V::set1(p[j]), V::load(vb + j * DV), part[0]);
              R total = V::add(V::add(part[0], part[1]),
                               V::add(part[2], part[3]));
              V::store(acc, V::fma(V::load(acc), V::set1(correction), total));
            } else if constexpr (tokenMajorV) {
              // Wider v rows: one broadcast per key, DVV chains.
              for (int64_t dv = 0; dv < DVV; ++dv)
                V::store(acc + dv * L,
                         V::mul(V::load(acc + dv * L), V::set1(correction)));
              for (int64_t j = 0; j < n; ++j) {
                R pj = V::set1(p[j]);
                const float *vr = &vt[(j0 + j) * DV];
                for (int64_t dv = 0; dv < DVV; ++dv)
                  V::store(acc + dv * L, V::fma(pj, V::load(vr + dv * L),
                                                V::load(acc + dv * L)));
              }
            } else {
              for (int64_t d = 0; d < DV; ++d) {
                const float *vr = &vt[d * TP + j0];
                R o = V::zero();
                for (int64_t jv = 0; jv < nv; jv += L)
                  o = V::fma(V::load(p + jv), V::load(vr + jv), o);
                alignas(64) float ol[L];
                V::store(ol, o);
                float dot = 0.f;
                for (int64_t l = 0; l < L; ++l)
                  dot += ol[l];
                acc[d] = acc[d] * correction + dot;
              }
            }
          }
          float inv = 1.f / sum;
          for (int64_t d = 0; d < DV; ++d)
            y[(h * DV + d) * H * W + pixels[i]] = acc[d] * inv;
        }
      }
    }
  }
}

/// Multi-head softmax attention over strided-grid windows (WIN = 0: the
/// whole map). q, k: [HEADS·DK, H, W]; v, y: [HEADS·DV, H, W]. With WIN > 0
/// the map is taken as zero-padded to whole windows: padded tokens are zero
/// keys and values (they still count in the softmax) and their own rows are
/// never computed, so neither the padded maps nor the crop exist. The
/// whole map runs as globalAttention, windows of up to kSmallWindowTokens
/// tokens as windowAttention, larger ones as largeWindowAttention.
template <int64_t H, int64_t W, int64_t HEADS, int64_t DK, int64_t DV,
          int64_t WIN>
void attention(const float *q, const float *k, const float *v, float scale,
               float *y) {
  if constexpr (WIN == 0)
    globalAttention<H, W, HEADS, DK, DV>(q, k, v, scale, y);
  else if constexpr (WIN * WIN <= kSmallWindowTokens)
    windowAttention<H, W, HEADS, DK, DV, WIN>(q, k, v, scale, y);
  else
    largeWindowAttention<H, W, HEADS, DK, DV, WIN>(q, k, v, scale, y);
}

//===----------------------------------------------------------------------===//
// EMA and squeeze-excite
//===----------------------------------------------------------------------===//

/// The EMA's directional gates: σ(conv1x1(pooled)) for the CG channels
/// of a group over its T = H + W pooled positions ([CG][T] both).
template <int64_t CG, int64_t T>
inline void emaGates(const float *pooled, const float *w1, const float *b1,
                     float *gate) {
  for (int64_t o = 0; o < CG; ++o)
    for (int64_t t = 0; t < T; ++t) {
      float s = b1[o];
      for (int64_t c = 0; c < CG; ++c)
        s += w1[o * CG + c] * pooled[c * T + t];
      gate[o * T + t] = sigmoid(s);
    }
}

/// Softmax over N values in place (maximum subtracted).
template <int64_t N> inline void softmaxInPlace(float *v) {
  float m = -INFINITY, sum = 0.f;
  for (int64_t c = 0; c < N; ++c)
    m = std::max(m, v[c]);
  for (int64_t c = 0; c < N; ++c)
    sum += (v[c] = expf32(v[c] - m));
  for (int64_t c = 0; c < N; ++c)
    v[c] /= sum;
}

/// EMA (Ouyang et al.) on one image: G groups of CG channels share the
/// weights of gn (CG), conv1x1 (CG×CG + CG) and conv3x3 (CG×CG×9 + CG).
/// Every per-pixel loop runs along a row (vectorisable); the 3×3 conv reads
/// zero-padded planes.
template <int64_t C, int64_t H, int64_t W, int64_t G>
void ema(const float *x, const float *gnW, const float *gnB, const float *w1,
         const float *b1, const float *w3, const float *b3, float *y) {
  constexpr int64_t CG = C / G, HW = H * W, WP = W + 2;
#pragma omp parallel
  {
    std::vector<float> pooled(CG * (H + W)), gate(CG * (H + W));
    std::vector<float> x1(CG * HW), x2(CG * HW), plane((H + 2) * WP, 0.f);
    std::vector<float> wgt(HW);
#pragma omp for schedule(static)
    for (int64_t g = 0; g < G; ++g) {
      const float *gx = x + g * CG * HW;
      // Directional means, the shared 1×1 conv and the sigmoid gates.
      for (int64_t c = 0; c < CG; ++c) {
        const float *xc = gx + c * HW;
        float *ph = &pooled[c * (H + W)], *pw = ph + H;
        for (int64_t j = 0; j < W; ++j)
          pw[j] = 0.f;
        for (int64_t i = 0; i < H; ++i) {
          float s = 0.f;
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < W; ++j) {
            s += xc[i * W + j];
            pw[j] += xc[i * W + j];
          }
          ph[i] = s / W;
        }
        for (int64_t j = 0; j < W; ++j)
          pw[j] /= H;
      }
      emaGates<CG, H + W>(pooled.data(), w1, b1, gate.data());
      // x1 = GroupNorm(gx · σ(h) · σ(w)), one channel per group.
      for (int64_t c = 0; c < CG; ++c) {
        const float *xc = gx + c * HW;
        const float *gh = &gate[c * (H + W)], *gw = gh + H;
        float *out = &x1[c * HW];
        float sum = 0.f;
        for (int64_t i = 0; i < H; ++i) {
#pragma omp simd reduction(+ : sum)
          for (int64_t j = 0; j < W; ++j) {
            out[i * W + j] = xc[i * W + j] * gh[i] * gw[j];
            sum += out[i * W + j];
          }
        }
        float mean = sum / HW, var = 0.f;
#pragma omp simd reduction(+ : var)
        for (int64_t i = 0; i < HW; ++i)
          var += (out[i] - mean) * (out[i] - mean);
        float inv = 1.f / std::sqrt(var / HW + 1e-5f);
        float scale = inv * gnW[c], shift = gnB[c] - mean * scale;
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i)
          out[i] = out[i] * scale + shift;
      }
      // x2 = conv3x3(gx) + b3 over padded planes.
      for (int64_t o = 0; o < CG; ++o)
        for (int64_t i = 0; i < HW; ++i)
          x2[o * HW + i] = b3[o];
      for (int64_t c = 0; c < CG; ++c) {
        for (int64_t i = 0; i < H; ++i)
          std::memcpy(&plane[(i + 1) * WP + 1], gx + c * HW + i * W,
                      sizeof(float) * W);
        for (int64_t o = 0; o < CG; ++o) {
          const float *f = w3 + (o * CG + c) * 9;
          float *out = &x2[o * HW];
          for (int64_t i = 0; i < H; ++i)
            for (int64_t ky = 0; ky < 3; ++ky) {
              const float *row = &plane[(i + ky) * WP];
              for (int64_t kx = 0; kx < 3; ++kx) {
                float fv = f[ky * 3 + kx];
#pragma omp simd
                for (int64_t j = 0; j < W; ++j)
                  out[i * W + j] += row[j + kx] * fv;
              }
            }
        }
      }
      // Channel softmaxes of the global means, cross-weighted sum, gate.
      auto softmaxOfMeans = [&](const std::vector<float> &t, float *a) {
        for (int64_t c = 0; c < CG; ++c) {
          float acc = 0.f;
#pragma omp simd reduction(+ : acc)
          for (int64_t i = 0; i < HW; ++i)
            acc += t[c * HW + i];
          a[c] = acc / HW;
        }
        softmaxInPlace<CG>(a);
      };
      float a1[CG], a2[CG];
      softmaxOfMeans(x1, a1);
      softmaxOfMeans(x2, a2);
      for (int64_t i = 0; i < HW; ++i)
        wgt[i] = 0.f;
      for (int64_t c = 0; c < CG; ++c) {
        const float *p2 = &x2[c * HW], *p1 = &x1[c * HW];
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i)
          wgt[i] += a1[c] * p2[i] + a2[c] * p1[i];
      }
      for (int64_t c = 0; c < CG; ++c) {
        const float *xc = gx + c * HW;
        gateRow(xc, wgt.data(), y + (g * CG + c) * HW, HW);
      }
    }
  }
}

/// Floats emaConvRow reads past the end of its last zero-bordered plane
/// (whole chunks from a row of W + 2).
template <int64_t W>
constexpr int64_t kEmaPlaneSlack = RowChunks<W>::kRowFloats + 2;

/// The largest divisor of n that is at most m (≥ 1).
constexpr int64_t largestDivisorAtMost(int64_t n, int64_t m) {
  for (int64_t d = m < n ? m : n; d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

/// One output row of the EMA's shared 3×3 convolution over CG zero-bordered
/// planes (plane c at planes + c·PS, rows WP floats apart, `planes` pointing
/// at the row above the output row's): x2[o·RF + j] = b3[o] + Σ_c Σ_ky,kx
/// plane_c[ky·WP + j + kx] · w3[o][c][ky][kx] for o < CG, j < W (RF =
/// RowChunks<W>::kRowFloats; lanes past W hold garbage). Blocks of OB
/// output channels × NVC vectors of the row stay in registers across all
/// CG·9 taps (each tap: NVC loads, OB broadcasts, OB·NVC FMAs), in the
/// order of the plain loop (bias, then c, ky, kx), so the same sums; the
/// plain row loop ran 16–20 GFLOP/s on 20–80-wide rows (Zen 5, session 18).
template <int64_t CG, int64_t W, int64_t WP, int64_t PS>
inline void emaConvRow(const float *planes, const float *w3, const float *b3,
                       float *x2) {
  using V = Isa;
  using R = typename V::Reg;
  constexpr int64_t L = V::kLanes, NVC = RowChunks<W>::kChunkVectors;
  constexpr int64_t RF = RowChunks<W>::kRowFloats;
  // OB · NVC accumulators, NVC inputs and a broadcast in the ISA's 32
  // (AVX-512) or 16 vector registers: OB the largest divisor of CG that fits.
  constexpr int64_t kRegisters = L == 16 ? 32 : 16;
  constexpr int64_t kMaxBlock = (kRegisters - 1 - NVC) / NVC;
  constexpr int64_t OB =
      largestDivisorAtMost(CG, kMaxBlock > 0 ? kMaxBlock : 1);
  for (int64_t j0 = 0; j0 < RF; j0 += NVC * L) {
    for (int64_t o0 = 0; o0 < CG; o0 += OB) {
      R acc[OB][NVC];
#pragma GCC unroll 64
      for (int64_t ob = 0; ob < OB; ++ob)
#pragma GCC unroll 64
        for (int64_t v = 0; v < NVC; ++v)
          acc[ob][v] = V::set1(b3[o0 + ob]);
      for (int64_t c = 0; c < CG; ++c) {
        const float *p = planes + c * PS + j0;
        const float *f = w3 + (o0 * CG + c) * 9;
        for (int64_t tap = 0; tap < 9; ++tap) {
          const float *r = p + tap / 3 * WP + tap % 3;
          R in[NVC];
#pragma GCC unroll 64
          for (int64_t v = 0; v < NVC; ++v)
            in[v] = V::load(r + v * L);
#pragma GCC unroll 64
          for (int64_t ob = 0; ob < OB; ++ob) {
            R fv = V::set1(f[ob * CG * 9 + tap]);
#pragma GCC unroll 64
            for (int64_t v = 0; v < NVC; ++v)
              acc[ob][v] = V::fma(in[v], fv, acc[ob][v]);
          }
        }
      }
#pragma GCC unroll 64
      for (int64_t ob = 0; ob < OB; ++ob)
#pragma GCC unroll 64
        for (int64_t v = 0; v < NVC; ++v)
          V::store(x2 + (o0 + ob) * RF + j0 + v * L, acc[ob][v]);
    }
  }
}

/// The EMA of `ema` computed in three streaming passes per group, without
/// the x1 / x2 maps, optionally on BN(x) (`scale` / `shift` per channel, or
/// null): (1) normalise x into zero-bordered planes while taking the
/// directional means, the row/column sums and the corners from which the
/// global mean of conv3x3 follows exactly; (2) the GroupNorm statistics of
/// x·σ(h)·σ(w) (row-wise mean and M2, merged across rows in double); (3) per
/// row, conv3x3, the normalised x1 and the gated result. The global mean of
/// x1 is the GroupNorm bias, so both channel softmaxes are known before (3).
template <int64_t C, int64_t H, int64_t W, int64_t G>
void emaStreaming(const float *x, const float *scale, const float *shift,
                  const float *gnW, const float *gnB, const float *w1,
                  const float *b1, const float *w3, const float *b3, float *y) {
  constexpr int64_t CG = C / G, HW = H * W, WP = W + 2, HP = H + 2;
#pragma omp parallel
  {
    // The planes' slack: emaConvRow's last vectors read past the last row.
    std::vector<float> planes(CG * HP * WP + kEmaPlaneSlack<W>, 0.f),
        pooled(CG * (H + W)), gate(CG * (H + W));
    std::vector<float> x2(CG * RowChunks<W>::kRowFloats), wgt(W);
    double total[CG];
    float corner[CG][4], gnScale[CG], gnShift[CG], a1[CG], a2[CG];
#pragma omp for schedule(static)
    for (int64_t g = 0; g < G; ++g) {
      // Pass 1: normalised planes, directional means, sums and corners.
      for (int64_t c = 0; c < CG; ++c) {
        int64_t ch = g * CG + c;
        float s = scale ? scale[ch] : 1.f, t = scale ? shift[ch] : 0.f;
        const float *xc = x + ch * HW;
        float *plane = &planes[c * HP * WP];
        float *ph = &pooled[c * (H + W)], *pw = ph + H;
        for (int64_t j = 0; j < W; ++j)
          pw[j] = 0.f;
        double all = 0.0;
        for (int64_t i = 0; i < H; ++i) {
          float *row = plane + (i + 1) * WP + 1, rs = 0.f;
#pragma omp simd reduction(+ : rs)
          for (int64_t j = 0; j < W; ++j) {
            row[j] = xc[i * W + j] * s + t;
            rs += row[j];
            pw[j] += row[j];
          }
          ph[i] = rs; // row sum for now
          all += rs;
        }
        total[c] = all;
        const float *first = plane + WP + 1, *last = plane + H * WP + 1;
        corner[c][0] = first[0];
        corner[c][1] = first[W - 1];
        corner[c][2] = last[0];
        corner[c][3] = last[W - 1];
      }
      // Global mean of conv3x3 from the sums: tap (ky, kx) misses the last
      // row (ky = 0) or the first (ky = 2), and likewise for columns.
      for (int64_t o = 0; o < CG; ++o) {
        double acc = 0.0;
        for (int64_t c = 0; c < CG; ++c) {
          const float *ph = &pooled[c * (H + W)], *pw = ph + H;
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx) {
              double part = total[c];
              int64_t rowOut = ky == 0 ? H - 1 : ky == 2 ? 0 : -1;
              int64_t colOut = kx == 0 ? W - 1 : kx == 2 ? 0 : -1;
              if (rowOut >= 0)
                part -= ph[rowOut];
              if (colOut >= 0)
                part -= pw[colOut];
              if (rowOut >= 0 && colOut >= 0)
                part += corner[c][(rowOut ? 2 : 0) + (colOut ? 1 : 0)];
              acc += part * w3[(o * CG + c) * 9 + ky * 3 + kx];
            }
        }
        a2[o] = static_cast<float>(acc / HW) + b3[o];
      }
      for (int64_t c = 0; c < CG; ++c) {
        float *ph = &pooled[c * (H + W)], *pw = ph + H;
        for (int64_t i = 0; i < H; ++i)
          ph[i] /= W;
        for (int64_t j = 0; j < W; ++j)
          pw[j] /= H;
      }
      emaGates<CG, H + W>(pooled.data(), w1, b1, gate.data());
      // Pass 2: GroupNorm statistics of x·σ(h)·σ(w), one channel per group.
      for (int64_t c = 0; c < CG; ++c) {
        const float *plane = &planes[c * HP * WP];
        const float *gh = &gate[c * (H + W)], *gw = gh + H;
        double mean = 0.0, m2 = 0.0;
        for (int64_t i = 0; i < H; ++i) {
          const float *row = plane + (i + 1) * WP + 1;
          float rs = 0.f;
#pragma omp simd reduction(+ : rs)
          for (int64_t j = 0; j < W; ++j)
            rs += row[j] * gh[i] * gw[j];
          float rm = rs / W, rq = 0.f;
#pragma omp simd reduction(+ : rq)
          for (int64_t j = 0; j < W; ++j) {
            float d = row[j] * gh[i] * gw[j] - rm;
            rq += d * d;
          }
          // Chan et al.: merge (i rows so far) with this row.
          double n = static_cast<double>(i) * W, delta = rm - mean;
          mean += delta * W / (n + W);
          m2 += rq + delta * delta * n * W / (n + W);
        }
        float inv = 1.f / std::sqrt(static_cast<float>(m2 / HW) + 1e-5f);
        gnScale[c] = inv * gnW[c];
        gnShift[c] = gnB[c] - static_cast<float>(mean) * gnScale[c];
      }
      // Channel softmaxes: GAP(x1) = gn bias, GAP(x2) from pass 1.
      for (int64_t c = 0; c < CG; ++c)
        a1[c] = gnB[c];
      softmaxInPlace<CG>(a1);
      softmaxInPlace<CG>(a2);
      // Pass 3: per row, conv3x3, x1 and the gate.
      for (int64_t i = 0; i < H; ++i) {
        emaConvRow<CG, W, WP, HP * WP>(planes.data() + i * WP, w3, b3,
                                       x2.data());
        for (int64_t j = 0; j < W; ++j)
          wgt[j] = 0.f;
        for (int64_t c = 0; c < CG; ++c) {
          const float *row = &planes[c * HP * WP + (i + 1) * WP + 1];
          const float *gw = &gate[c * (H + W) + H];
          float gh = gate[c * (H + W) + i], s1 = gnScale[c] * gh,
                t1 = gnShift[c];
          const float *p2 = &x2[c * RowChunks<W>::kRowFloats];
          float w1c = a1[c], w2c = a2[c];
#pragma omp simd
          for (int64_t j = 0; j < W; ++j)
            wgt[j] += w1c * p2[j] + w2c * (row[j] * gw[j] * s1 + t1);
        }
        // σ of the row's weights once, then each channel's row times it
        // (gateRow per channel took the same σ CG times).
        sigmoidRow(wgt.data(), wgt.data(), W);
        for (int64_t c = 0; c < CG; ++c) {
          const float *row = &planes[c * HP * WP + (i + 1) * WP + 1];
          float *out = y + ((g * CG + c) * H + i) * W;
#pragma omp simd
          for (int64_t j = 0; j < W; ++j)
            out[j] = row[j] * wgt[j];
        }
      }
    }
  }
}

/// timm SqueezeExcite: y = x · σ(W2 act(W1 mean(x) + b1) + b2).
template <int64_t C, int64_t HW, int64_t R, Act A>
void squeezeExcite(const float *x, const float *w1, const float *b1,
                   const float *w2, const float *b2, float *y) {
  float mean[C], hidden[R];
  for (int64_t c = 0; c < C; ++c) {
    float s = 0.f;
    for (int64_t i = 0; i < HW; ++i)
      s += x[c * HW + i];
    mean[c] = s / HW;
  }
  for (int64_t r = 0; r < R; ++r) {
    float s = b1[r];
    for (int64_t c = 0; c < C; ++c)
      s += w1[r * C + c] * mean[c];
    hidden[r] = activate<A>(s);
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    float s = b2[c];
    for (int64_t r = 0; r < R; ++r)
      s += w2[c * R + r] * hidden[r];
    float gate = sigmoid(s);
    for (int64_t i = 0; i < HW; ++i)
      y[c * HW + i] = x[c * HW + i] * gate;
  }
}

//===----------------------------------------------------------------------===//
// Detection decoding
//===----------------------------------------------------------------------===//

/// One level of a Detect head: map [4·RM + NC, H, W] -> columns
/// [offset, offset + H·W) of the result [4 + NC, A]: DFL expectation, anchor
/// at the cell centre, xywh times STRIDE, sigmoid scores. Each thread takes
/// an equal run of pixels: the boxes block by block (the softmax runs along
/// the pixels of a block, vector loops), then the scores class row by class
/// row over the whole run. Every input row is thus read as one long stream
/// (RM at a time for the boxes, one at a time for the scores): in blocks of
/// 256 pixels for all 4·RM + NC rows at once, they were 144 short streams
/// the hardware prefetcher did not follow, and the loads waited on memory
/// (0.555 → 0.46 ms stand-alone on the Xeon of docs/design-notes.md,
/// session 22). The results are the same.
template <int64_t NC, int64_t RM, int64_t H, int64_t W, int64_t STRIDE,
          int64_t A>
void detectDecodeLevel(const float *x, const float *dfl, int64_t offset,
                       float *y) {
  constexpr int64_t HW = H * W, BLOCK = 1024;
  using V = Isa;
  using R = typename V::Reg;
#pragma omp parallel
  {
    // Pixels [begin, end): an equal run of whole vectors per thread.
    constexpr int64_t L = V::kLanes;
    int64_t v0, v1;
    threadRows((HW + L - 1) / L, v0, v1);
    const int64_t begin = std::min(HW, v0 * L), end = std::min(HW, v1 * L);
    for (int64_t p0 = begin; p0 < end; p0 += BLOCK) {
      const int64_t n = std::min(BLOCK, end - p0);
      alignas(64) float dist[4][BLOCK];
      for (int64_t side = 0; side < 4; ++side) {
        // Softmax over the RM bins of each pixel, then its expectation.
        const float *bins = x + side * RM * HW + p0;
        int64_t i = 0;
        for (; i + V::kLanes <= n; i += V::kLanes) {
          R m = V::load(bins + i);
          for (int64_t r = 1; r < RM; ++r)
            m = V::max(m, V::load(bins + r * HW + i));
          R sum = V::zero(), expect = V::zero();
          for (int64_t r = 0; r < RM; ++r) {
            R e = expVector<V>(V::sub(V::load(bins + r * HW + i), m));
            sum = V::add(sum, e);
            expect = V::fma(e, V::set1(dfl[r]), expect);
          }
          V::store(dist[side] + i, V::div(expect, sum));
        }
        for (; i < n; ++i) {
          float m = bins[i];
          for (int64_t r = 1; r < RM; ++r)
            m = std::max(m, bins[r * HW + i]);
          float sum = 0.f, expect = 0.f;
          for (int64_t r = 0; r < RM; ++r) {
            float e = expf32(bins[r * HW + i] - m);
            sum += e;
            expect += e * dfl[r];
          }
          dist[side][i] = expect / sum;
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        int64_t p = p0 + i;
        float ax = static_cast<float>(p % W) + 0.5f;
        float ay = static_cast<float>(p / W) + 0.5f;
        float x1 = ax - dist[0][i], y1 = ay - dist[1][i];
        float x2 = ax + dist[2][i], y2 = ay + dist[3][i];
        int64_t col = offset + p;
        y[0 * A + col] = (x1 + x2) / 2 * STRIDE;
        y[1 * A + col] = (y1 + y2) / 2 * STRIDE;
        y[2 * A + col] = (x2 - x1) * STRIDE;
        y[3 * A + col] = (y2 - y1) * STRIDE;
      }
    }
    if (end > begin)
      for (int64_t c = 0; c < NC; ++c)
        sigmoidRow(x + (4 * RM + c) * HW + begin,
                   y + (4 + c) * A + offset + begin, end - begin);
  }
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

/// Whether the `count` floats of each of `images` images (`stride` floats
/// apart from `x`) are all finite. Tests the exponent bits, so it holds
/// whatever floating-point flags the model was built with. Profiling runs
/// call it on every kernel's result to name the first non-finite one.
inline bool allFinite(const float *x, int64_t count, int64_t stride,
                      int64_t images) {
  uint32_t bad = 0;
  for (int64_t b = 0; b < images; ++b)
    for (int64_t i = 0; i < count; ++i) {
      uint32_t bits;
      std::memcpy(&bits, x + b * stride + i, sizeof bits);
      bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
  return bad == 0;
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_KERNELS_H
