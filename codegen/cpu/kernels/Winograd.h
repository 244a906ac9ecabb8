//===- Winograd.h - 3×3 stride-1 convolution by Winograd F(m×m, 3×3) -*- C++ -*-===//
//
// A 3×3, stride-1, padding-1 convolution as (m+2)² independent GEMMs on
// Winograd-transformed tiles (WinogradTransforms.h): 2.25× (m = 2) or 4×
// (m = 4) fewer multiplies than the direct GEMM, at the price of two
// transforms and a larger rounding error (measured in docs/design-notes.md).
// The tiles are cut into bands (winogradBands in WinogradTransforms.h: a
// few tile rows of a large map, or whole images of small ones), and each
// band runs three phases before the next, so its V and M stay in cache.
// Row bands belong to one thread each (an equal run of tile rows per
// thread, V and M of its own); whole-image bands are shared by the threads
// phase by phase, in the caller's scratch:
//
//  1. Input transform, channel by channel: the band's rows of the
//     zero-padded channel are split into m column phases (phase q holds
//     padded columns m·t + q), so the (m+2)² values of L horizontally
//     adjacent tiles are L-wide contiguous vector loads; Bᵀ d B is applied
//     in registers and written to V[ξ][ci][tile] in the packed-panel
//     layout the micro-kernels read (no B packing pass). On AVX-512 a
//     group is L consecutive tiles of the band, running on across tile
//     rows (one masked load per row it touches), stored straight into its
//     panels; elsewhere a group is L tiles of one row, staged per channel
//     and copied to the panels.
//  2. For each tile position ξ the GEMM M[ξ] = U[ξ] · V[ξ] (Cout × Cin times
//     Cin × band tiles, Gemm.h's packed GEMM; U is transformed and packed by
//     irmb-compile), or each thread an equal share of a shared band's
//     (ξ, panel) pairs.
//  3. Output transform per output channel: Aᵀ M A in registers on L
//     tiles at a time in band order (a group runs on across tile rows, so
//     no lanes idle at a row's end), the m×m results interleaved into the
//     band's output rows, then bias, activation and residual on each row
//     in vectors.
//
// The constant transform matrices are applied by fully unrolled loops that
// skip their zero coefficients at compile time and turn ±1 into add/sub.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_WINOGRAD_H
#define IRMB_CODEGEN_CPU_KERNELS_WINOGRAD_H

#include "Gemm.h"
#include "HugePages.h"
#include "WinogradTransforms.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace irmb::kernels {

/// y[i·ys] = Σ_k C[i][k] · x[k·xs] for the constant N×K matrix C, on
/// vectors. Called with compile-time strides; after unrolling, the
/// coefficient tests fold away.
template <int64_t N, int64_t K>
inline void applyConstantMatrix(const float (&C)[N][K], const Isa::Reg *x,
                                int64_t xs, Isa::Reg *y, int64_t ys) {
  // Past the pragmas' 8 the loops stay loops that load and test every
  // coefficient at run time: 4× slower, and nothing fails (measured with a
  // 9 × 10 matrix, docs/design-notes.md, session 16). Raise both together.
  static_assert(N <= 8 && K <= 8, "applyConstantMatrix unrolls up to 8 × 8");
  using V = Isa;
#pragma GCC unroll 8
  for (int64_t i = 0; i < N; ++i) {
    V::Reg acc = V::zero();
    bool first = true;
#pragma GCC unroll 8
    for (int64_t k = 0; k < K; ++k) {
      const float c = C[i][k];
      if (c == 0.f)
        continue;
      V::Reg v = x[k * xs];
      if (first)
        acc = c == 1.f ? v : c == -1.f ? V::sub(V::zero(), v)
                                       : V::mul(V::set1(c), v);
      else
        acc = c == 1.f    ? V::add(acc, v)
              : c == -1.f ? V::sub(acc, v)
                          : V::fma(V::set1(c), v, acc);
      first = false;
    }
    y[i * ys] = acc;
  }
}

/// d[i][j] = the vector at at(i, j) for the K × K positions of a tile
/// (fully unrolled: `at` is inlined with constant i and j).
template <int64_t K, typename At>
inline void loadTileVectors(Isa::Reg (&d)[K][K], At at) {
#pragma GCC unroll 8
  for (int64_t i = 0; i < K; ++i)
#pragma GCC unroll 8
    for (int64_t j = 0; j < K; ++j)
      d[i][j] = Isa::load(at(i, j));
}

/// Floats of the zero-bordered row splitColumnPhases works in: the row
/// with one zero in front, zeros up to the last phase column and the
/// vector slack of the two evens passes (the first reads up to
/// 2·(2·PW + 2L) + 2L floats).
template <int64_t M, int64_t W, int64_t PW>
constexpr int64_t kPaddedRow = M * PW + 6 * Isa::kLanes;

/// The M column phases of one input row with a zero border of one:
/// phase q (at out + q · phaseStride) gets padded[M·t + q] for t < PW,
/// where padded[0] = 0, padded[1 .. W] = row and zeros after. M is 2 or 4:
/// one or two passes of the ISA's even-lane gather. `padded` is a scratch
/// row of kPaddedRow<M, W, PW> floats.
template <int64_t M, int64_t W, int64_t PW>
inline void splitColumnPhases(const float *row, float *out, int64_t phaseStride,
                              float *padded) {
  using V = Isa;
  constexpr int64_t NP = kPaddedRow<M, W, PW>, L = V::kLanes;
  static_assert(M == 2 || M == 4, "Winograd tiles are F(2) or F(4)");
#if defined(__AVX512F__)
  // In registers, straight from the row: per L tiles, the M·L padded floats
  // as M vectors (masked where they fall outside the row: the zero border
  // and the zeros after it, never touched), then M / 2 levels of two-source
  // even/odd lane permutes. Through the zero-bordered copy and the evens
  // passes this took 40 % of the input transform of a 64-channel 80²
  // convolution (Zen 5).
  (void)padded;
  static_assert(L == 16, "AVX-512 vectors");
  for (int64_t t = 0; t < PW; t += L) {
    // padded[M·t + j] = row[M·t + j − 1] (at may be −1 or reach past W:
    // rowLanes zeroes the lanes outside the row).
    const int64_t at = M * t - 1;
    if constexpr (M == 2) {
      V::Reg e, o;
      V::evenOdd(V::rowLanes(row, at, W), V::rowLanes(row, at + 16, W), e, o);
      V::store(out + t, e);
      V::store(out + phaseStride + t, o);
    } else {
      // e0/o0: even/odd floats of the first two vectors; e1/o1 of the next
      // two; then phase q is the (q / 2)-parity lanes of the (q % 2) pair.
      V::Reg e0, o0, e1, o1, p[4];
      V::evenOdd(V::rowLanes(row, at, W), V::rowLanes(row, at + 16, W), e0, o0);
      V::evenOdd(V::rowLanes(row, at + 32, W), V::rowLanes(row, at + 48, W),
                 e1, o1);
      V::evenOdd(e0, e1, p[0], p[2]);
      V::evenOdd(o0, o1, p[1], p[3]);
      for (int64_t q = 0; q < 4; ++q)
        V::store(out + q * phaseStride + t, p[q]);
    }
  }
  return;
#endif
  padded[0] = 0.f;
  std::memcpy(padded + 1, row, sizeof(float) * W);
  std::memset(padded + 1 + W, 0, sizeof(float) * (NP - 1 - W));
  // evens(p) reads 2L floats from p: phase r of stride 2 up to `count`.
  auto halve = [&](const float *from, float *to, int64_t count) {
    for (int64_t t = 0; t < count; t += L)
      V::store(to + t, V::evens(from + 2 * t));
  };
  if constexpr (M == 2) {
    halve(padded, out, PW);
    halve(padded + 1, out + phaseStride, PW);
  } else {
    // padded[4t + q] = E_{q % 2}[2t + q / 2] with E_r[s] = padded[2s + r].
    alignas(64) float e[2][2 * PW + 3 * L];
    halve(padded, e[0], 2 * PW + 2 * L);
    halve(padded + 1, e[1], 2 * PW + 2 * L);
    for (int64_t q = 0; q < 4; ++q)
      halve(e[q % 2] + q / 2, out + q * phaseStride, PW);
  }
}

/// The M results o[0 .. M) of L horizontally adjacent tiles interleaved
/// into one output row: to[l·M + j] = lane l of o[j] (writes L·M floats).
/// AVX2 and AVX-512 transpose in registers (AVX2 M = 4: a 4 × 8 transpose
/// in 12 shuffles, M = 2: 4); SSE goes through memory lane by lane.
template <int64_t M>
inline void interleaveTiles(const Isa::Reg (&o)[M], float *to) {
#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
  if constexpr (M == 4) {
    // Per 128-bit half: t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2/t3 for c, d;
    // u_l = a_l b_l c_l d_l | a_{l+4} b_{l+4} c_{l+4} d_{l+4}.
    __m256 t0 = _mm256_unpacklo_ps(o[0], o[1]), t1 = _mm256_unpackhi_ps(o[0], o[1]);
    __m256 t2 = _mm256_unpacklo_ps(o[2], o[3]), t3 = _mm256_unpackhi_ps(o[2], o[3]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    _mm256_storeu_ps(to, _mm256_permute2f128_ps(u0, u1, 0x20));
    _mm256_storeu_ps(to + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
    _mm256_storeu_ps(to + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
    _mm256_storeu_ps(to + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
    return;
  }
  if constexpr (M == 2) {
    __m256 lo = _mm256_unpacklo_ps(o[0], o[1]), hi = _mm256_unpackhi_ps(o[0], o[1]);
    _mm256_storeu_ps(to, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(to + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    return;
  }
#endif
#if defined(__AVX512F__)
  // The same in 512 bits: unpack and shuffle within 128-bit lanes, then a
  // transpose of the 128-bit lanes (M = 4: 16 shuffles, M = 2: 4).
  if constexpr (M == 4) {
    __m512 t0 = _mm512_unpacklo_ps(o[0], o[1]), t1 = _mm512_unpackhi_ps(o[0], o[1]);
    __m512 t2 = _mm512_unpacklo_ps(o[2], o[3]), t3 = _mm512_unpackhi_ps(o[2], o[3]);
    // u_l holds tile l, l + 4, l + 8, l + 12 (a b c d each).
    __m512 u0 = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 u1 = _mm512_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m512 u2 = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 u3 = _mm512_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m512 v0 = _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 v1 = _mm512_shuffle_f32x4(u2, u3, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 v2 = _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(3, 2, 3, 2));
    __m512 v3 = _mm512_shuffle_f32x4(u2, u3, _MM_SHUFFLE(3, 2, 3, 2));
    _mm512_storeu_ps(to, _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm512_storeu_ps(to + 16, _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(3, 1, 3, 1)));
    _mm512_storeu_ps(to + 32, _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm512_storeu_ps(to + 48, _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(3, 1, 3, 1)));
    return;
  }
  if constexpr (M == 2) {
    __m512 lo = _mm512_unpacklo_ps(o[0], o[1]), hi = _mm512_unpackhi_ps(o[0], o[1]);
    __m512 w0 = _mm512_shuffle_f32x4(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    __m512 w1 = _mm512_shuffle_f32x4(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
    _mm512_storeu_ps(to, _mm512_shuffle_f32x4(w0, w0, _MM_SHUFFLE(3, 1, 2, 0)));
    _mm512_storeu_ps(to + 16, _mm512_shuffle_f32x4(w1, w1, _MM_SHUFFLE(3, 1, 2, 0)));
    return;
  }
#endif
  constexpr int64_t L = Isa::kLanes;
  for (int64_t j = 0; j < M; ++j) {
    alignas(64) float lanes[L];
    Isa::store(lanes, o[j]);
    for (int64_t l = 0; l < L; ++l)
      to[l * M + j] = lanes[l];
  }
}

/// Convolution [CI, H, W] -> [CO, H, W], 3×3, stride 1, padding 1, groups
/// 1, by F(M×M, 3×3). `u` holds the transformed weights of
/// WinogradTransforms.h, each position ξ packed as an M = CO, K = CI GEMM
/// operand (Packing.h). bias, activation and the residual `res` (the
/// result's layout, or null) are fused. A batch of `images` runs the GEMMs
/// over several images' tiles at once where whole images fit a band;
/// image i's input, result and residual start xStride, yStride and
/// resStride floats after image i − 1's. `scratch` holds
/// winogradScratchFloats(CI, H, W, CO, M, kVectorFloats, images) floats.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t M, Act A>
void winogradConv3x3(const float *x, const float *u, const float *bias,
                     const float *res, float *y, float *scratch,
                     int64_t images = 1, int64_t xStride = 0,
                     int64_t yStride = 0, int64_t resStride = 0) {
  using Wg = Winograd<M>;
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t kA = Wg::kTile, L = V::kLanes;
  constexpr int64_t TY = (H + M - 1) / M, TX = (W + M - 1) / M;
  // The band plan (WinogradTransforms.h): BR tile rows of one image, or
  // (BR = TY) BI whole images, per band.
  const WinogradBands plan = winogradBands(CI, H, W, CO, M, images);
  const int64_t BR = plan.rows, BI = plan.images;
  // The largest band's tiles and panels, and the position strides of V
  // (packed GEMM B panels, [panel][CI][kTileCols]) and M ([CO][band
  // tiles]): winogradPositionStride keeps the kA² positions out of each
  // other's L1 sets.
  const int64_t maxTiles = BI * BR * TX;
  const int64_t VS =
      winogradPositionStride(panelCount(maxTiles) * CI * kTileCols);
  // M's rows are whole panels long (ldm below), so the GEMM writes every
  // panel in place (prepackedGemmPanelRange).
  const int64_t MS =
      winogradPositionStride(CO * panelCount(maxTiles) * kTileCols);
  // Phase planes of a band: BR·M + 2 padded rows and one more, TX + L
  // columns (vector slack). splitColumnPhases writes whole vectors, up to
  // L − 1 floats past a row's PW: into the next row, which is written
  // after it, and past the band's last row into the spare one.
  constexpr int64_t PW = TX + L;
  const int64_t PH = BR * M + 3;
#pragma omp parallel
  {
    thread_local std::vector<float> phaseStore, stageStore, rowStore;
    phaseStore.resize(M * PH * PW + kPaddedRow<M, W, PW>);
    float *phases = phaseStore.data(), *padded = phases + M * PH * PW;
    // One image-channel's transformed tiles of the band in natural order:
    // position ξ at stage + ξ·SS, tile t at t (L floats of slack).
    const int64_t SS = BR * TX + L;
    stageStore.resize(kA * kA * SS);
    float *stage = stageStore.data();
    // The output transform's M band rows of one output channel: a band's
    // tiles and the last group's vector slack, M floats a tile.
    const int64_t RS = (BR * TX + L) * M;
    rowStore.resize(M * RS);
    float *rows = rowStore.data();
    int64_t thread, threads;
    threadShare(thread, threads);

    // 1. Input transform of image-channels [ic0, ic1) of the band (images
    // [i0, i0 + ni), tile rows [ty0, ty0 + nr) of each) into V.
    auto transformInput = [&](int64_t i0, int64_t ty0, int64_t nr,
                              int64_t bandTiles, float *vbuf, int64_t ic0,
                              int64_t ic1) {
      for (int64_t ic = ic0; ic < ic1; ++ic) {
        const int64_t c = ic % CI, image = i0 + ic / CI;
        const float *xc = x + image * xStride + c * H * W;
        for (int64_t py = 0; py < nr * M + 2; ++py) {
          int64_t iy = ty0 * M + py - 1;
          if (iy < 0 || iy >= H) {
            for (int64_t q = 0; q < M; ++q)
              std::memset(phases + (q * PH + py) * PW, 0, sizeof(float) * PW);
            continue;
          }
          splitColumnPhases<M, W, PW>(xc + iy * W, phases + py * PW, PH * PW,
                                      padded);
        }
        // This image's tiles are the band's GEMM columns [g0, g0 +
        // bandTiles) (column n of panel p: V + (p·CI + c)·kTileCols + n).
        const int64_t g0 = (image - i0) * bandTiles;
        // Bᵀ d B of L tiles, d[r][q] their padded inputs at (r, q).
        auto transformTiles = [&](const R (&d)[kA][kA], R (&v)[kA][kA]) {
          R t[kA][kA];
#pragma GCC unroll 8
          for (int64_t q = 0; q < kA; ++q)
            applyConstantMatrix(Wg::kBt, &d[0][q], kA, &t[0][q], kA);
#pragma GCC unroll 8
          for (int64_t i = 0; i < kA; ++i)
            applyConstantMatrix(Wg::kBt, &t[i][0], 1, &v[i][0], 1);
        };
#if defined(__AVX512F__)
        if (g0 % L == 0) {
          // Straight into the packed panels: L consecutive tiles of the
          // band (in band order, running on across tile rows) are one
          // whole vector of a panel. Each tile row's stretch of the group
          // is one masked load per (r, q), so no lane is wasted on tiles
          // past a row's end (an 80-wide map's 20 tiles a row took 2 groups
          // a row through the staging copy, a 20-wide map's 5 took 1 each)
          // and nothing is staged and copied. The last group's lanes past
          // the image's tiles load zeros and are not stored (another
          // image's columns may follow: a masked store).
          const int64_t tiles = nr * TX;
          for (int64_t t0 = 0; t0 < tiles; t0 += L) {
            const int64_t end = std::min(tiles, t0 + L);
            R d[kA][kA], v[kA][kA];
#pragma GCC unroll 8
            for (int64_t r = 0; r < kA; ++r)
#pragma GCC unroll 8
              for (int64_t q = 0; q < kA; ++q)
                d[r][q] = V::zero();
            for (int64_t t = t0; t < end;) {
              const int64_t ty = t / TX, tx = t % TX;
              const int64_t len = std::min(end - t, TX - tx), l0 = t - t0;
              const __mmask16 mask =
                  static_cast<__mmask16>(((1u << len) - 1) << l0);
              // Lane l reads tile tx + (l − l0): the address is formed as
              // an integer, as it may lie before the buffer (the lanes
              // before l0 are masked off and never read).
              const uintptr_t row0 = reinterpret_cast<uintptr_t>(phases) +
                                     4 * (ty * M * PW + tx - l0);
#pragma GCC unroll 8
              for (int64_t r = 0; r < kA; ++r)
#pragma GCC unroll 8
                for (int64_t q = 0; q < kA; ++q)
                  d[r][q] = _mm512_mask_loadu_ps(
                      d[r][q], mask,
                      reinterpret_cast<const void *>(
                          row0 + 4 * (((q % M) * PH + r) * PW + q / M)));
              t += len;
            }
            transformTiles(d, v);
            const int64_t n = g0 + t0;
            float *to = vbuf + ((n / kTileCols) * CI + c) * kTileCols +
                        n % kTileCols;
            if (end - t0 == L) {
#pragma GCC unroll 8
              for (int64_t i = 0; i < kA; ++i)
#pragma GCC unroll 8
                for (int64_t j = 0; j < kA; ++j)
                  V::store(to + (i * kA + j) * VS, v[i][j]);
            } else {
              for (int64_t i = 0; i < kA; ++i)
                for (int64_t j = 0; j < kA; ++j)
                  V::storeFirst(to + (i * kA + j) * VS, v[i][j], end - t0);
            }
          }
          continue;
        }
#endif
        // Through the staging rows. Whole-vector stores only: a row's last
        // group spills into the next row's first tiles, which the next
        // row's first group (later, in this thread) overwrites. (Masked
        // stores cost 10+ cycles each on AMD cores; straddling panels
        // needed two per vector.)
        for (int64_t ty = 0; ty < nr; ++ty)
          for (int64_t tx0 = 0; tx0 < TX; tx0 += L) {
            R d[kA][kA], v[kA][kA];
            loadTileVectors(d, [&](int64_t r, int64_t q) {
              return phases + ((q % M) * PH + ty * M + r) * PW + tx0 + q / M;
            });
            transformTiles(d, v);
            float *dst = stage + ty * TX + tx0;
#pragma GCC unroll 8
            for (int64_t i = 0; i < kA; ++i)
#pragma GCC unroll 8
              for (int64_t j = 0; j < kA; ++j)
                V::store(dst + (i * kA + j) * SS, v[i][j]);
          }
        // Into the packed panels: whole panels by vectors, the (at most
        // two) panels shared with a neighbouring image column by column.
        for (int64_t p = g0 / kTileCols; p * kTileCols < g0 + bandTiles; ++p) {
          const int64_t lo = std::max(g0, p * kTileCols);
          const int64_t hi = std::min(g0 + bandTiles, (p + 1) * kTileCols);
          float *to = vbuf + (p * CI + c) * kTileCols;
          if (hi - lo == kTileCols) {
            const float *from = stage + (lo - g0);
            for (int64_t xi = 0; xi < kA * kA; ++xi)
              for (int64_t q = 0; q < kTileVectors; ++q)
                V::store(to + xi * VS + q * L,
                         V::load(from + xi * SS + q * L));
          } else {
            for (int64_t xi = 0; xi < kA * kA; ++xi)
              for (int64_t n = lo; n < hi; ++n)
                to[xi * VS + n - p * kTileCols] = stage[xi * SS + n - g0];
          }
        }
      }
    };
    // 2. The (ξ, panel) pairs [u0, u1) of the band's kA² GEMMs M = U · V
    // (NB columns in `panels` panels; M's rows panels · kTileCols apart).
    auto multiply = [&](int64_t NB, int64_t panels, const float *vbuf,
                        float *mbuf, int64_t u0, int64_t u1) {
      const int64_t ldm = panels * kTileCols;
      for (int64_t xi = u0 / panels; xi < kA * kA && xi * panels < u1; ++xi) {
        int64_t p0 = std::max(u0, xi * panels) - xi * panels;
        int64_t p1 = std::min(u1, (xi + 1) * panels) - xi * panels;
        if (p0 < p1)
          prepackedGemmPanelRange<Act::None>(CO, NB, CI, u + xi * CO * CI,
                                             vbuf + xi * VS, nullptr, nullptr,
                                             mbuf + xi * MS, ldm, p0, p1);
      }
    };
    // 3. Output transform, bias, activation and residual of image-output
    // channels [ico0, ico1) of the band. The band's tiles go L at a time in
    // tile order, a group running on across tile rows (an 80-wide map's 20
    // tiles a row take 1.25 groups instead of 2), each tile's M × M results
    // interleaved into M band rows: tile (ty, tx)'s row ii at ii·RS +
    // (ty·TX + tx)·M, so output row ty·M + ii is the W floats from
    // ii·RS + ty·TX·M on. M's rows are ldm floats apart.
    auto transformOutput = [&](int64_t i0, int64_t ty0, int64_t nr,
                               int64_t bandTiles, int64_t ldm,
                               const float *mbuf, int64_t ico0,
                               int64_t ico1) {
      const int64_t tiles = nr * TX;
      for (int64_t ico = ico0; ico < ico1; ++ico) {
        const int64_t co = ico % CO, image = i0 + ico / CO;
        float *yi = y + image * yStride;
        const float *ri = res ? res + image * resStride : nullptr;
        const float *from = mbuf + co * ldm + (image - i0) * bandTiles;
        // Output rows ty·M .. ty·M + M − 1, once tile row ty is complete.
        auto finishTileRow = [&](int64_t ty) {
          for (int64_t ii = 0; ii < M && (ty0 + ty) * M + ii < H; ++ii) {
            int64_t oy = (ty0 + ty) * M + ii;
            biasActivateRow<A>(rows + ii * RS + ty * TX * M,
                               bias ? bias[co] : 0.f,
                               ri ? ri + (co * H + oy) * W : nullptr,
                               yi + (co * H + oy) * W, W);
          }
        };
        // The last group's extra tiles are computed but never read. Each
        // tile row is finished as soon as its last group is done, while its
        // values are in L1 (the last group, t0 + L ≥ nr·TX, finishes the
        // rest).
        int64_t finished = 0;
        for (int64_t t0 = 0; t0 < tiles; t0 += L) {
          R mv[kA][kA], s[kA][M], o[M][M];
          loadTileVectors(mv, [&](int64_t i, int64_t j) {
            return from + (i * kA + j) * MS + t0;
          });
#pragma GCC unroll 8
          for (int64_t i = 0; i < kA; ++i)
            applyConstantMatrix(Wg::kAt, &mv[i][0], 1, &s[i][0], 1);
#pragma GCC unroll 8
          for (int64_t jj = 0; jj < M; ++jj)
            applyConstantMatrix(Wg::kAt, &s[0][jj], M, &o[0][jj], M);
#pragma GCC unroll 8
          for (int64_t ii = 0; ii < M; ++ii)
            interleaveTiles<M>(o[ii], rows + ii * RS + t0 * M);
          for (; finished < std::min(nr, (t0 + L) / TX); ++finished)
            finishTileRow(finished);
        }
      }
    };

    if (BR < TY) {
      // Banded: each thread takes an equal run of the images' tile rows
      // and takes it through all three phases alone, in bands of at most
      // BR rows as even as can be, in V and M of its own. The threads
      // share only U and the input, and need no barrier. (Sharing a band's
      // phases between the threads had each read half of V and M from the
      // other core: on a Zen 5 server 2 threads ran a 32 → 32 convolution
      // at 80² no faster than one.)
      // A band's V and M (about 1.5 MiB at 64 channels) in the thread's
      // scratch, on 2 MiB pages (HugePages.h).
      float *vbuf = threadScratch(kA * kA * (VS + MS) + 2 * L);
      float *mbuf = vbuf + kA * kA * VS + L;
      const int64_t allRows = images * TY;
      const int64_t r0 = allRows * thread / threads,
                    r1 = allRows * (thread + 1) / threads;
      for (int64_t r = r0; r < r1;) {
        const int64_t i0 = r / TY, ty0 = r % TY;
        // This image's rest of the run, cut into its share of bands.
        const int64_t left = std::min(r1, (i0 + 1) * TY) - r;
        const int64_t pieces = (left + BR - 1) / BR;
        const int64_t nr = (left + pieces - 1) / pieces;
        const int64_t NB = nr * TX;
        transformInput(i0, ty0, nr, NB, vbuf, 0, CI);
        multiply(NB, panelCount(NB), vbuf, mbuf, 0, kA * kA * panelCount(NB));
        transformOutput(i0, ty0, nr, NB, panelCount(NB) * kTileCols, mbuf, 0,
                        CO);
        r += nr;
      }
    } else {
      // Whole images, BI per band, in the caller's scratch: the threads
      // share each phase (channels, (ξ, panel) pairs, output channels).
      float *vbuf = scratch;                    // [kA²][VS]
      float *mbuf = scratch + kA * kA * VS + L; // [kA²][MS]
      for (int64_t i0 = 0; i0 < images; i0 += BI) {
        const int64_t ni = std::min(BI, images - i0), NB = ni * TX * TY;
        const int64_t panels = panelCount(NB), units = kA * kA * panels;
        transformInput(i0, 0, TY, TX * TY, vbuf, ni * CI * thread / threads,
                       ni * CI * (thread + 1) / threads);
#pragma omp barrier
        multiply(NB, panels, vbuf, mbuf, units * thread / threads,
                 units * (thread + 1) / threads);
#pragma omp barrier
        // No barrier after it: the next band's input transform writes only
        // V, and every thread passes the barrier after it before anyone
        // writes M again.
        transformOutput(i0, 0, TY, TX * TY, panels * kTileCols, mbuf,
                        ni * CO * thread / threads,
                        ni * CO * (thread + 1) / threads);
      }
    }
  }
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_WINOGRAD_H
