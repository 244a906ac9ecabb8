//===- WinogradStride2.h - 3×3 stride-2 convolution by minimal filtering -*- C++ -*-===//
//
// A 3×3, stride-2, padding-1, one-group convolution (every downsampling
// Conv of the YOLO models) as 81 GEMMs on transformed tiles: each 4 × 4
// block of outputs reads a 10 × 10 block of the zero-padded input, which
// WinogradStride2 (WinogradTransforms.h) turns into 9 × 9 positions —
// F(4, 2) on the inputs the taps g0 and g2 meet, the odd inputs that only
// g1 meets as they are — 81 multiplies per output block and channel pair
// instead of 144. It runs as Winograd.h's stride-1 kernel does: bands of
// tile rows, each through three phases in one parallel region.
//
//  1. Input transform, channel by channel: the band's padded rows are split
//     into 8 column phases (phase q holds padded columns 8t + q), so the
//     10 columns of L horizontally adjacent tiles are L-wide contiguous
//     loads; Bᵀ d B in registers, staged in tile order, copied into the
//     packed panels V[ξ][ci][tile] the micro-kernels read.
//  2. For each position ξ the GEMM M[ξ] = U[g(ξ)] · V[ξ] (U transformed and
//     packed by irmb-compile; positions of one weight group share it).
//  3. Output transform per output channel: Aᵀ M A, interleaved into output
//     rows, then bias, activation and residual.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_WINOGRADSTRIDE2_H
#define IRMB_CODEGEN_CPU_KERNELS_WINOGRADSTRIDE2_H

#include "Winograd.h"

namespace irmb::kernels {

/// Floats of the zero-bordered row splitEightPhases works in: the row with
/// one zero in front and zeros past it, as far as the phases' PW columns
/// (and the halving passes where the ISA has no 8 × 8 transpose) read.
template <int64_t PW> constexpr int64_t kEightPhaseRow = 8 * PW + 8 * Isa::kLanes;

/// The 8 column phases of one input row with a zero border of one: phase q
/// (at out + q · phaseStride) gets padded[8t + q] for t < PW (a multiple of
/// the vector width), where padded[0] = 0, padded[1 .. W] = row and zeros
/// after. With 8 lanes (AVX2) the row is a [PW][8] matrix and each 8 × 8
/// block is transposed in registers (24 shuffles per 64 floats); otherwise
/// three passes of the ISA's even-lane gather (padded[8t + q] = E_r[4t +
/// q / 2] with r = q % 2, E_r[s] = padded[2s + r], and so on). `padded` is
/// a scratch row of kEightPhaseRow<PW> floats.
template <int64_t W, int64_t PW>
inline void splitEightPhases(const float *row, float *out, int64_t phaseStride,
                             float *padded) {
  using V = Isa;
  constexpr int64_t NP = kEightPhaseRow<PW>, L = V::kLanes;
  static_assert(PW % L == 0, "phase rows are whole vectors");
  padded[0] = 0.f;
  std::memcpy(padded + 1, row, sizeof(float) * W);
  std::memset(padded + 1 + W, 0, sizeof(float) * (NP - 1 - W));
#if defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
  for (int64_t t = 0; t < PW; t += 8) {
    const float *b = padded + 8 * t;
    __m256 r0 = _mm256_loadu_ps(b), r1 = _mm256_loadu_ps(b + 8);
    __m256 r2 = _mm256_loadu_ps(b + 16), r3 = _mm256_loadu_ps(b + 24);
    __m256 r4 = _mm256_loadu_ps(b + 32), r5 = _mm256_loadu_ps(b + 40);
    __m256 r6 = _mm256_loadu_ps(b + 48), r7 = _mm256_loadu_ps(b + 56);
    __m256 a0 = _mm256_unpacklo_ps(r0, r1), a1 = _mm256_unpackhi_ps(r0, r1);
    __m256 a2 = _mm256_unpacklo_ps(r2, r3), a3 = _mm256_unpackhi_ps(r2, r3);
    __m256 a4 = _mm256_unpacklo_ps(r4, r5), a5 = _mm256_unpackhi_ps(r4, r5);
    __m256 a6 = _mm256_unpacklo_ps(r6, r7), a7 = _mm256_unpackhi_ps(r6, r7);
    __m256 c0 = _mm256_shuffle_ps(a0, a2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 c1 = _mm256_shuffle_ps(a0, a2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 c2 = _mm256_shuffle_ps(a1, a3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 c3 = _mm256_shuffle_ps(a1, a3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 c4 = _mm256_shuffle_ps(a4, a6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 c5 = _mm256_shuffle_ps(a4, a6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 c6 = _mm256_shuffle_ps(a5, a7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 c7 = _mm256_shuffle_ps(a5, a7, _MM_SHUFFLE(3, 2, 3, 2));
    // c0–c3 hold phases 0–3 of tiles 0–3 in their low halves and phases
    // 4–7 in their high halves; c4–c7 the same for tiles 4–7.
    _mm256_storeu_ps(out + 0 * phaseStride + t, _mm256_permute2f128_ps(c0, c4, 0x20));
    _mm256_storeu_ps(out + 1 * phaseStride + t, _mm256_permute2f128_ps(c1, c5, 0x20));
    _mm256_storeu_ps(out + 2 * phaseStride + t, _mm256_permute2f128_ps(c2, c6, 0x20));
    _mm256_storeu_ps(out + 3 * phaseStride + t, _mm256_permute2f128_ps(c3, c7, 0x20));
    _mm256_storeu_ps(out + 4 * phaseStride + t, _mm256_permute2f128_ps(c0, c4, 0x31));
    _mm256_storeu_ps(out + 5 * phaseStride + t, _mm256_permute2f128_ps(c1, c5, 0x31));
    _mm256_storeu_ps(out + 6 * phaseStride + t, _mm256_permute2f128_ps(c2, c6, 0x31));
    _mm256_storeu_ps(out + 7 * phaseStride + t, _mm256_permute2f128_ps(c3, c7, 0x31));
  }
#else
  auto halve = [&](const float *from, float *to, int64_t count) {
    for (int64_t t = 0; t < count; t += L)
      V::store(to + t, V::evens(from + 2 * t));
  };
  // e[r] = padded[2s + r], s < 4·PW + 3L; f[r][r2] = e[r][2s + r2], s < 2·PW + L.
  alignas(64) float e[2][4 * PW + 3 * L];
  alignas(64) float f[2][2][2 * PW + L];
  for (int64_t r = 0; r < 2; ++r)
    halve(padded + r, e[r], 4 * PW + 3 * L);
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t r2 = 0; r2 < 2; ++r2)
      halve(e[r] + r2, f[r][r2], 2 * PW + L);
  // q = r + 2·r2 + 4·r3: padded[8t + q] = f[r][r2][2t + r3].
  for (int64_t q = 0; q < 8; ++q)
    halve(f[q % 2][(q / 2) % 2] + q / 4, out + q * phaseStride, PW);
#endif
}

/// Convolution [CI, H, W] -> [CO, (H−1)/2 + 1, (W−1)/2 + 1], 3×3, stride 2,
/// padding 1, groups 1, by WinogradStride2. `u` holds winogradS2Weights'
/// 36 groups, each packed as an M = CO, K = CI GEMM operand (Packing.h).
/// bias, activation and the residual `res` (the result's layout, or null)
/// are fused. A batch runs image after image through the bands (whole
/// small images share a band, as in winogradConv3x3); image i's input,
/// result and residual start xStride, yStride and resStride floats after
/// image i − 1's. `scratch` holds winogradS2ScratchFloats(CI, H, W, CO,
/// kVectorFloats, images) floats.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, Act A>
void winogradConv3x3s2(const float *x, const float *u, const float *bias,
                       const float *res, float *y, float *scratch,
                       int64_t images = 1, int64_t xStride = 0,
                       int64_t yStride = 0, int64_t resStride = 0) {
  using Wg = WinogradStride2;
  using V = Isa;
  using R = V::Reg;
  constexpr int64_t kP = Wg::kPoints, kIn = Wg::kInputs, kOut = Wg::kOutputs;
  constexpr int64_t kXi = Wg::kPositions, L = V::kLanes;
  constexpr int64_t HO = stride2Extent(H), WO = stride2Extent(W);
  constexpr int64_t TY = (HO + kOut - 1) / kOut, TX = (WO + kOut - 1) / kOut;
  const WinogradBands plan = winogradS2Bands(CI, H, W, CO, images);
  const int64_t BR = plan.rows, BI = plan.images;
  const int64_t rowBands = (TY + BR - 1) / BR;
  const int64_t bands = BR < TY ? images * rowBands : (images + BI - 1) / BI;
  const int64_t maxTiles = BI * BR * TX;
  const int64_t VS =
      winogradPositionStride(panelCount(maxTiles) * CI * kTileCols);
  const int64_t MS = winogradPositionStride(CO * maxTiles);
  float *vbuf = scratch;               // [81][VS]
  float *mbuf = scratch + kXi * VS + L; // [81][MS]
  // Phase planes of a band: 8·BR + 2 padded rows of PW columns per phase
  // (tile tx reads phase columns tx and tx + 1 of each phase; whole vectors).
  constexpr int64_t PW = ((TX + L - 1) / L + 1) * L;
  const int64_t PH = BR * 2 * kOut + 2;
#pragma omp parallel
  {
    thread_local std::vector<float> phaseStore, stageStore;
    phaseStore.resize(8 * PH * PW + kEightPhaseRow<PW>);
    float *phases = phaseStore.data(), *padded = phases + 8 * PH * PW;
    const int64_t SS = BR * TX + L;
    stageStore.resize(kXi * SS);
    float *stage = stageStore.data();
    int64_t thread, threads;
    threadShare(thread, threads);
    for (int64_t band = 0; band < bands; ++band) {
      const int64_t i0 = BR < TY ? band / rowBands : band * BI;
      const int64_t ni = BR < TY ? 1 : std::min(BI, images - i0);
      const int64_t ty0 = BR < TY ? (band % rowBands) * BR : 0;
      const int64_t nr = std::min(BR, TY - ty0), bandTiles = nr * TX;
      const int64_t NB = ni * bandTiles, panels = panelCount(NB);
      // 1. Input transform (ends with the omp for's barrier: V complete).
#pragma omp for schedule(static)
      for (int64_t ic = 0; ic < ni * CI; ++ic) {
        const int64_t c = ic % CI, image = i0 + ic / CI;
        const float *xc = x + image * xStride + c * H * W;
        for (int64_t py = 0; py < nr * 2 * kOut + 2; ++py) {
          int64_t iy = ty0 * 2 * kOut + py - 1;
          if (iy < 0 || iy >= H) {
            for (int64_t q = 0; q < 8; ++q)
              std::memset(phases + (q * PH + py) * PW, 0, sizeof(float) * PW);
            continue;
          }
          splitEightPhases<W, PW>(xc + iy * W, phases + py * PW, PH * PW,
                                  padded);
        }
        // Whole-vector stores; a row's last group spills into the next
        // row's first tiles, which that row's first group overwrites later.
        for (int64_t ty = 0; ty < nr; ++ty)
          for (int64_t tx0 = 0; tx0 < TX; tx0 += L) {
            R t[kP][kIn];
            // Bᵀ on each input column q (padded column 8·tile + q).
#pragma GCC unroll 10
            for (int64_t q = 0; q < kIn; ++q) {
              R d[kIn];
#pragma GCC unroll 10
              for (int64_t r = 0; r < kIn; ++r)
                d[r] = V::load(phases + ((q % 8) * PH + ty * 2 * kOut + r) * PW +
                               tx0 + q / 8);
              applyConstantMatrix(Wg::kBt, d, 1, &t[0][q], kIn);
            }
            float *dst = stage + ty * TX + tx0;
#pragma GCC unroll 9
            for (int64_t i = 0; i < kP; ++i) {
              R v[kP];
              applyConstantMatrix(Wg::kBt, &t[i][0], 1, v, 1);
#pragma GCC unroll 9
              for (int64_t j = 0; j < kP; ++j)
                V::store(dst + (i * kP + j) * SS, v[j]);
            }
          }
        // Into the packed panels (as in winogradConv3x3).
        const int64_t g0 = (image - i0) * bandTiles;
        for (int64_t p = g0 / kTileCols; p * kTileCols < g0 + bandTiles; ++p) {
          const int64_t lo = std::max(g0, p * kTileCols);
          const int64_t hi = std::min(g0 + bandTiles, (p + 1) * kTileCols);
          float *to = vbuf + (p * CI + c) * kTileCols;
          if (hi - lo == kTileCols) {
            const float *from = stage + (lo - g0);
            for (int64_t xi = 0; xi < kXi; ++xi)
              for (int64_t q = 0; q < kTileVectors; ++q)
                V::store(to + xi * VS + q * L,
                         V::load(from + xi * SS + q * L));
          } else {
            for (int64_t xi = 0; xi < kXi; ++xi)
              for (int64_t n = lo; n < hi; ++n)
                to[xi * VS + n - p * kTileCols] = stage[xi * SS + n - g0];
          }
        }
      }
      // 2. The 81 GEMMs of the band: each thread an equal share of the
      // (ξ, panel) pairs.
      {
        int64_t units = kXi * panels;
        int64_t u0 = units * thread / threads,
                u1 = units * (thread + 1) / threads;
        for (int64_t xi = u0 / panels; xi < kXi && xi * panels < u1; ++xi) {
          int64_t p0 = std::max(u0, xi * panels) - xi * panels;
          int64_t p1 = std::min(u1, (xi + 1) * panels) - xi * panels;
          if (p0 < p1)
            prepackedGemmPanelRange<Act::None>(
                CO, NB, CI, u + winogradS2WeightGroup(xi) * CO * CI,
                vbuf + xi * VS, nullptr, nullptr, mbuf + xi * MS, NB, p0, p1);
        }
      }
#pragma omp barrier
      // 3. Output transform, bias, activation, residual (no barrier after
      // it: the next band's input transform writes only V).
#pragma omp for schedule(static) nowait
      for (int64_t ico = 0; ico < ni * CO; ++ico) {
        const int64_t co = ico % CO, image = i0 + ico / CO;
        float *yi = y + image * yStride;
        const float *ri = res ? res + image * resStride : nullptr;
        alignas(64) float rows[kOut][(TX + L - 1) / L * L * kOut];
        for (int64_t ty = 0; ty < nr; ++ty) {
          for (int64_t tx0 = 0; tx0 < TX; tx0 += L) {
            R s[kP][kOut], o[kOut][kOut];
            const float *from =
                mbuf + co * NB + (image - i0) * bandTiles + ty * TX + tx0;
#pragma GCC unroll 9
            for (int64_t i = 0; i < kP; ++i) {
              R mv[kP];
#pragma GCC unroll 9
              for (int64_t j = 0; j < kP; ++j)
                mv[j] = V::load(from + (i * kP + j) * MS);
              applyConstantMatrix(Wg::kAt, mv, 1, &s[i][0], 1);
            }
#pragma GCC unroll 4
            for (int64_t jj = 0; jj < kOut; ++jj)
              applyConstantMatrix(Wg::kAt, &s[0][jj], kOut, &o[0][jj], kOut);
#pragma GCC unroll 4
            for (int64_t ii = 0; ii < kOut; ++ii)
              interleaveTiles<kOut>(o[ii], rows[ii] + tx0 * kOut);
          }
          for (int64_t ii = 0; ii < kOut && (ty0 + ty) * kOut + ii < HO; ++ii) {
            int64_t oy = (ty0 + ty) * kOut + ii;
            biasActivateRow<A>(rows[ii], bias ? bias[co] : 0.f,
                               ri ? ri + (co * HO + oy) * WO : nullptr,
                               yi + (co * HO + oy) * WO, WO);
          }
        }
      }
    }
  }
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_WINOGRADSTRIDE2_H
