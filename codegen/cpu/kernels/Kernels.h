//===- Kernels.h - CPU kernels instantiated by generated code --*- C++ -*-===//
//
// The kernel library that code emitted by irmb-compile --target cpu calls:
// fp32, NCHW, one image per call (the generated run() loops over the batch).
// Every shape reaches the kernels as a compile-time constant of the calling
// function, so loops have constant trip counts and the host compiler
// vectorises them for the chosen ISA (-march). Threads: OpenMP.
//
// Header-only and self-contained (no MLIR, no LibTorch): it is compiled into
// every model .so and into the kernel unit tests.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_KERNELS_H
#define IRMB_CODEGEN_CPU_KERNELS_KERNELS_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace irmb::kernels {

/// Element-wise activations (matches mlir::irmb::Activation).
enum class Act { None = 0, Relu = 1, Relu6 = 2, Silu = 3 };

/// e^x for float32 within about 1 ulp (Cephes expf): range reduction by
/// ln 2, a degree-6 polynomial, the exponent written into the bits. Written
/// without branches or calls so loops over it vectorise; -inf gives 0.
inline float expf32(float x) {
  x = std::min(std::max(x, -87.3365f), 88.3762f);
  // Round to nearest with the 1.5·2^23 trick (vectorises, unlike floorf).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * __builtin_bit_cast(float, bits);
}

template <Act A> inline float activate(float x) {
  if constexpr (A == Act::Relu)
    return x > 0.f ? x : 0.f;
  else if constexpr (A == Act::Relu6)
    return std::min(std::max(x, 0.f), 6.f);
  else if constexpr (A == Act::Silu)
    return x / (1.f + expf32(-x));
  else
    return x;
}

inline float sigmoid(float x) { return 1.f / (1.f + expf32(-x)); }

//===----------------------------------------------------------------------===//
// GEMM with fused bias and activation
//===----------------------------------------------------------------------===//

#if defined(__AVX512F__)
constexpr int64_t kVectorFloats = 16;
#else
constexpr int64_t kVectorFloats = 8;
#endif
/// One SIMD register of floats (GCC vector extension: AVX-512 zmm or AVX2
/// ymm, whichever -march provides).
typedef float Vec __attribute__((vector_size(kVectorFloats * 4)));

/// Register tile: MR rows × (2 vectors) columns of C, 12 accumulators.
#if defined(__AVX512F__)
constexpr int64_t kTileRows = 8, kTileVectors = 3; // 24 of 32 zmm registers
#else
constexpr int64_t kTileRows = 6, kTileVectors = 2; // 12 of 16 ymm registers
#endif
constexpr int64_t kTileCols = kTileVectors * kVectorFloats;
/// K block kept in cache while a tile accumulates.
constexpr int64_t kBlockK = 256;

/// Row k of a dense B: `b + k·ldb`.
struct DenseRows {
  const float *b;
  int64_t ldb;
  const float *row(int64_t k) const { return b + k * ldb; }
  DenseRows shifted(int64_t columns) const { return {b + columns, ldb}; }
};

/// Row k of an implicit-GEMM convolution's B: `b + koff[k]` (B is never
/// materialised; rows are read from the padded input).
struct OffsetRows {
  const float *b;
  const int64_t *koff;
  const float *row(int64_t k) const { return b + koff[k]; }
  OffsetRows shifted(int64_t columns) const { return {b + columns, koff}; }
};

/// Accumulates rows [0, ROWS) × NV vectors of columns of A[:, k0:k1] ·
/// B[k0:k1, :] into C (first block: overwrite). The inner loop is ROWS
/// broadcasts, NV loads and ROWS·NV FMAs (compiled with -ffp-contract=fast).
template <int64_t ROWS, int64_t NV, typename BRows>
inline void gemmTile(const float *a, int64_t lda, BRows b, float *c,
                     int64_t ldc, int64_t k0, int64_t k1, bool first) {
  Vec acc[ROWS][NV];
  for (int64_t i = 0; i < ROWS; ++i)
    for (int64_t v = 0; v < NV; ++v) {
      if (first)
        acc[i][v] = Vec{};
      else
        std::memcpy(&acc[i][v], c + i * ldc + v * kVectorFloats, sizeof(Vec));
    }
  for (int64_t k = k0; k < k1; ++k) {
    const float *brow = b.row(k);
    Vec bv[NV];
    for (int64_t v = 0; v < NV; ++v)
      std::memcpy(&bv[v], brow + v * kVectorFloats, sizeof(Vec));
    for (int64_t i = 0; i < ROWS; ++i) {
      float av = a[i * lda + k];
      for (int64_t v = 0; v < NV; ++v)
        acc[i][v] += av * bv[v];
    }
  }
  for (int64_t i = 0; i < ROWS; ++i)
    for (int64_t v = 0; v < NV; ++v)
      std::memcpy(c + i * ldc + v * kVectorFloats, &acc[i][v], sizeof(Vec));
}

/// gemmTile for a runtime row count (1..kTileRows).
template <int64_t NV, typename BRows>
inline void gemmRows(int64_t rows, const float *a, int64_t lda, BRows b,
                     float *c, int64_t ldc, int64_t k0, int64_t k1,
                     bool first) {
  switch (rows) {
  case 8:
    if constexpr (kTileRows >= 8)
      return gemmTile<8, NV>(a, lda, b, c, ldc, k0, k1, first);
    [[fallthrough]];
  case 7:
    if constexpr (kTileRows >= 7)
      return gemmTile<7, NV>(a, lda, b, c, ldc, k0, k1, first);
    [[fallthrough]];
  case 6:
    return gemmTile<6, NV>(a, lda, b, c, ldc, k0, k1, first);
  case 5:
    return gemmTile<5, NV>(a, lda, b, c, ldc, k0, k1, first);
  case 4:
    return gemmTile<4, NV>(a, lda, b, c, ldc, k0, k1, first);
  case 3:
    return gemmTile<3, NV>(a, lda, b, c, ldc, k0, k1, first);
  case 2:
    return gemmTile<2, NV>(a, lda, b, c, ldc, k0, k1, first);
  default:
    return gemmTile<1, NV>(a, lda, b, c, ldc, k0, k1, first);
  }
}

/// Scalar edge tile (fewer columns than one vector).
template <typename BRows>
inline void gemmEdge(const float *a, int64_t lda, BRows b, float *c,
                     int64_t ldc, int64_t rows, int64_t cols, int64_t k0,
                     int64_t k1, bool first) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float s = first ? 0.f : c[i * ldc + j];
      for (int64_t k = k0; k < k1; ++k)
        s += a[i * lda + k] * b.row(k)[j];
      c[i * ldc + j] = s;
    }
}

/// One output tile: rows × cols of C from A (lda = K) and B, K blocked,
/// then the epilogue while the tile is in cache: bias, activation and the
/// residual `res` (C's layout, or null).
template <Act A, typename BRows>
inline void gemmBlock(const float *a, int64_t K, BRows b, const float *bias,
                      const float *res, float *c, int64_t ldc, int64_t rows,
                      int64_t cols) {
  for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
    int64_t k1 = std::min(K, k0 + kBlockK);
    bool first = k0 == 0;
    // Whole vectors of columns in one register tile; scalar columns left.
    int64_t vectors = cols / kVectorFloats, j = vectors * kVectorFloats;
    if (vectors >= 3 && kTileVectors >= 3) {
      gemmRows<(kTileVectors >= 3 ? 3 : 2)>(rows, a, K, b, c, ldc, k0, k1,
                                            first);
    } else if (vectors == 2) {
      gemmRows<2>(rows, a, K, b, c, ldc, k0, k1, first);
    } else if (vectors == 1) {
      gemmRows<1>(rows, a, K, b, c, ldc, k0, k1, first);
    }
    if (j < cols)
      gemmEdge(a, K, b.shifted(j), c + j, ldc, rows, cols - j, k0, k1, first);
  }
  for (int64_t i = 0; i < rows; ++i) {
    float bv = bias ? bias[i] : 0.f;
    float *crow = c + i * ldc;
    if (res) {
      const float *rrow = res + i * ldc;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j)
        crow[j] = activate<A>(crow[j] + bv) + rrow[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j)
        crow[j] = activate<A>(crow[j] + bv);
    }
  }
}

/// C[m, n] = act(Σ_k A[m, k] · B[k, n] + bias[m]) + R[m, n] for row-major
/// A (M×K), B (K×N, row stride ldb), C and the optional residual R (M×N, row
/// stride ldc): register tiles, K blocked, parallel over tiles.
template <Act A>
void gemm(int64_t M, int64_t N, int64_t K, const float *a, const float *b,
          int64_t ldb, const float *bias, const float *res, float *c,
          int64_t ldc) {
  int64_t mTiles = (M + kTileRows - 1) / kTileRows;
  int64_t nTiles = (N + kTileCols - 1) / kTileCols;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t nt = 0; nt < nTiles; ++nt) {
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      int64_t m0 = mt * kTileRows, n0 = nt * kTileCols;
      gemmBlock<A>(a + m0 * K, K, DenseRows{b + n0, ldb},
                   bias ? bias + m0 : nullptr,
                   res ? res + m0 * ldc + n0 : nullptr, c + m0 * ldc + n0, ldc,
                   std::min(kTileRows, M - m0), std::min(kTileCols, N - n0));
    }
  }
}

/// Implicit-GEMM stride-1 convolution of one group: C[m, oy·WO + ox] =
/// act(Σ_k A[m, k] · padded[koff[k] + oy·wp + ox] + bias[m]). Column tiles
/// stay inside one output row, so every B row segment is a contiguous read
/// of the padded input and no im2col matrix is written.
template <Act A>
void implicitConvGemm(int64_t M, int64_t HO, int64_t WO, int64_t K,
                      const float *a, const float *padded, const int64_t *koff,
                      int64_t wp, const float *bias, const float *res,
                      float *c) {
  int64_t mTiles = (M + kTileRows - 1) / kTileRows;
  int64_t xTiles = (WO + kTileCols - 1) / kTileCols;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t oy = 0; oy < HO; ++oy) {
    for (int64_t xt = 0; xt < xTiles; ++xt) {
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        int64_t m0 = mt * kTileRows, x0 = xt * kTileCols;
        int64_t at = m0 * HO * WO + oy * WO + x0;
        gemmBlock<A>(a + m0 * K, K, OffsetRows{padded + oy * wp + x0, koff},
                     bias ? bias + m0 : nullptr, res ? res + at : nullptr,
                     c + at, HO * WO, std::min(kTileRows, M - m0),
                     std::min(kTileCols, WO - x0));
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// Floats of scratch conv2d needs: the zero-padded input, plus either the
/// four stride-2 phase planes or one group's im2col matrix.
constexpr int64_t convScratchFloats(int64_t ci, int64_t h, int64_t w, int64_t k,
                                    int64_t s, int64_t p, int64_t d,
                                    int64_t g) {
  int64_t ho = (h + 2 * p - d * (k - 1) - 1) / s + 1;
  int64_t wo = (w + 2 * p - d * (k - 1) - 1) / s + 1;
  int64_t hp = h + 2 * p, wp = w + 2 * p;
  int64_t phases = 4 * ci * ((hp + 1) / 2) * ((wp + 1) / 2);
  return (k == 1 && s == 1 && p == 0)
             ? 0
             : ci * hp * wp + std::max(phases, (ci / g) * k * k * ho * wo);
}

/// Splits the zero-padded (by P) [C, H, W] map into its four stride-2
/// phases [2][2][C][HH][WH] (phase (py, px) holds padded pixels (2i + py,
/// 2j + px)), so a stride-2 convolution reads each tap contiguously. Reads
/// the unpadded input directly: each phase row is a zero head, a stride-2
/// copy and a zero tail.
template <int64_t C, int64_t H, int64_t W, int64_t P>
void splitPhases(const float *x, float *y) {
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
  constexpr int64_t HH = (HP + 1) / 2, WH = (WP + 1) / 2;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t ph = 0; ph < 4; ++ph)
    for (int64_t c = 0; c < C; ++c) {
      int64_t py = ph / 2, px = ph % 2;
      // Columns j with 0 <= 2j + px - P < W.
      int64_t jlo =
          std::min<int64_t>(WH, std::max<int64_t>(0, (P - px + 1) / 2));
      int64_t jhi =
          std::max<int64_t>(jlo, std::min<int64_t>(WH, (W + P - px + 1) / 2));
      float *dst = y + (ph * C + c) * HH * WH;
      for (int64_t i = 0; i < HH; ++i) {
        float *row = dst + i * WH;
        int64_t sy = 2 * i + py - P;
        if (sy < 0 || sy >= H) {
          std::memset(row, 0, sizeof(float) * WH);
          continue;
        }
        const float *src = x + (c * H + sy) * W;
        for (int64_t j = 0; j < jlo; ++j)
          row[j] = 0.f;
#pragma omp simd
        for (int64_t j = jlo; j < jhi; ++j)
          row[j] = src[2 * j + px - P];
        for (int64_t j = jhi; j < WH; ++j)
          row[j] = 0.f;
      }
    }
}

/// Copies [C, H, W] into a zero-bordered [C, H + 2P, W + 2P].
template <int64_t C, int64_t H, int64_t W, int64_t P>
void padBorder(const float *x, float *y) {
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    float *dst = y + c * HP * WP;
    std::memset(dst, 0, sizeof(float) * P * WP);
    for (int64_t i = 0; i < H; ++i) {
      float *row = dst + (i + P) * WP;
      for (int64_t j = 0; j < P; ++j)
        row[j] = row[P + W + j] = 0.f;
      std::memcpy(row + P, x + (c * H + i) * W, sizeof(float) * W);
    }
    std::memset(dst + (P + H) * WP, 0, sizeof(float) * P * WP);
  }
}

/// General grouped conv (NCHW, one image): zero-pad once; stride 1 runs as
/// an implicit GEMM over the padded input, other strides im2col without
/// bounds checks then GEMM; bias, activation and the residual `res` (the
/// result's layout, or null) fused. 1×1 stride-1 unpadded convs read the
/// input directly. `scratch` holds convScratchFloats(...) floats.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t K, int64_t S,
          int64_t P, int64_t D, int64_t G, Act A>
void conv2d(const float *x, const float *w, const float *bias, const float *res,
            float *y, float *scratch) {
  constexpr int64_t HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t CIG = CI / G, COG = CO / G, KK = CIG * K * K;
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
  if constexpr (K == 1 && S == 1 && P == 0) {
    for (int64_t g = 0; g < G; ++g)
      gemm<A>(COG, HO * WO, KK, w + g * COG * KK, x + g * CIG * H * W, HO * WO,
              bias ? bias + g * COG : nullptr,
              res ? res + g * COG * HO * WO : nullptr, y + g * COG * HO * WO,
              HO * WO);
    return;
  }
  // Stride 2 (no dilation) as an implicit GEMM over the four phase planes
  // of the padded input, split straight from x.
  if constexpr (S == 2 && D == 1 && WO % kVectorFloats == 0) {
    constexpr int64_t HH = (HP + 1) / 2, WH = (WP + 1) / 2;
    float *phases = scratch;
    splitPhases<CI, H, W, P>(x, phases);
    int64_t koff[KK];
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t r = 0; r < KK; ++r) {
        int64_t ci = g * CIG + r / (K * K), ky = (r / K) % K, kx = r % K;
        int64_t phase = (ky % 2) * 2 + kx % 2;
        koff[r] = (phase * CI + ci) * HH * WH + (ky / 2) * WH + kx / 2;
      }
      implicitConvGemm<A>(COG, HO, WO, KK, w + g * COG * KK, phases, koff, WH,
                          bias ? bias + g * COG : nullptr,
                          res ? res + g * COG * HO * WO : nullptr,
                          y + g * COG * HO * WO);
    }
    return;
  }
  const float *padded = x;
  float *col = scratch;
  if constexpr (P > 0) {
    padBorder<CI, H, W, P>(x, scratch);
    padded = scratch;
    col = scratch + CI * HP * WP;
  }
  // Implicit GEMM when output rows split into whole vectors (no scalar
  // edge columns); otherwise im2col, whose columns span rows.
  if constexpr (S == 1 && WO % kVectorFloats == 0) {
    int64_t koff[KK];
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t r = 0; r < KK; ++r) {
        int64_t ci = g * CIG + r / (K * K), ky = (r / K) % K, kx = r % K;
        koff[r] = ci * HP * WP + ky * D * WP + kx * D;
      }
      implicitConvGemm<A>(COG, HO, WO, KK, w + g * COG * KK, padded, koff, WP,
                          bias ? bias + g * COG : nullptr,
                          res ? res + g * COG * HO * WO : nullptr,
                          y + g * COG * HO * WO);
    }
    return;
  }
  for (int64_t g = 0; g < G; ++g) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < KK; ++r) {
      int64_t ci = g * CIG + r / (K * K), ky = (r / K) % K, kx = r % K;
      float *dst = col + r * HO * WO;
      const float *src = padded + ci * HP * WP + ky * D * WP + kx * D;
      for (int64_t oy = 0; oy < HO; ++oy) {
        const float *row = src + oy * S * WP;
        if constexpr (S == 1) {
          std::memcpy(dst + oy * WO, row, sizeof(float) * WO);
        } else {
          for (int64_t ox = 0; ox < WO; ++ox)
            dst[oy * WO + ox] = row[ox * S];
        }
      }
    }
    gemm<A>(COG, HO * WO, KK, w + g * COG * KK, col, HO * WO,
            bias ? bias + g * COG : nullptr,
            res ? res + g * COG * HO * WO : nullptr, y + g * COG * HO * WO,
            HO * WO);
  }
}

/// Depthwise conv (groups == channels, one filter per channel): each
/// channel is zero-padded into a thread-local plane so the inner loop runs
/// without bounds checks (and vectorises along x at stride 1); bias,
/// activation and the residual `res` (the result's layout, or null) fused.
template <int64_t C, int64_t H, int64_t W, int64_t K, int64_t S, int64_t P,
          int64_t D, Act A>
void depthwiseConv2d(const float *x, const float *w, const float *bias,
                     const float *res, float *y) {
  constexpr int64_t HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t HP = H + 2 * P, WP = W + 2 * P;
#pragma omp parallel
  {
    std::vector<float> plane(HP * WP, 0.f), acc(WO);
#pragma omp for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t i = 0; i < H; ++i)
        std::memcpy(&plane[(i + P) * WP + P], x + (c * H + i) * W,
                    sizeof(float) * W);
      const float *f = w + c * K * K;
      float bv = bias ? bias[c] : 0.f;
      float *dst = y + c * HO * WO;
      for (int64_t oy = 0; oy < HO; ++oy) {
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
        if (res) {
          const float *r = res + c * HO * WO + oy * WO;
#pragma omp simd
          for (int64_t ox = 0; ox < WO; ++ox)
            dst[oy * WO + ox] = activate<A>(acc[ox]) + r[ox];
        } else {
#pragma omp simd
          for (int64_t ox = 0; ox < WO; ++ox)
            dst[oy * WO + ox] = activate<A>(acc[ox]);
        }
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
    for (int64_t i = 0; i < HW; ++i)
      y[c * HW + i] = activate<A>(x[c * HW + i] * scale[c] + shift[c]);
}

template <int64_t N, Act A> void activation(const float *x, float *y) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < N; ++i)
    y[i] = activate<A>(x[i]);
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

template <int64_t C, int64_t H, int64_t W, int64_t K, int64_t S, int64_t P>
void maxPool(const float *x, float *y) {
  constexpr int64_t HO = (H + 2 * P - K) / S + 1, WO = (W + 2 * P - K) / S + 1;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    for (int64_t oy = 0; oy < HO; ++oy)
      for (int64_t ox = 0; ox < WO; ++ox) {
        float m = -INFINITY;
        for (int64_t ky = 0; ky < K; ++ky) {
          int64_t iy = oy * S - P + ky;
          if (iy < 0 || iy >= H)
            continue;
          for (int64_t kx = 0; kx < K; ++kx) {
            int64_t ix = ox * S - P + kx;
            if (ix >= 0 && ix < W)
              m = std::max(m, x[(c * H + iy) * W + ix]);
          }
        }
        y[(c * HO + oy) * WO + ox] = m;
      }
}

template <int64_t C, int64_t H, int64_t W, int64_t S>
void resizeNearest(const float *x, float *y) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < H * S; ++i)
      for (int64_t j = 0; j < W * S; ++j)
        y[(c * H * S + i) * W * S + j] = x[(c * H + i / S) * W + j / S];
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// Multi-head softmax attention over strided-grid windows (WIN = 0: the
/// whole map). q, k: [HEADS·DK, H, W]; v, y: [HEADS·DV, H, W]. With WIN > 0
/// the map is taken as zero-padded to whole windows: padded tokens are zero
/// keys and values (they still count in the softmax) and their own rows are
/// never computed, so neither the padded maps nor the crop exist. Per
/// window and head, k is gathered transposed ([d][token]) and v either the
/// same way (small DV: the P·V sums run along the keys) or token-major (DV
/// of at least one vector: each key's v row is added to the accumulator
/// with one broadcast, no horizontal sums); each query row runs an online
/// softmax over key blocks of kKeyBlock (running maximum and sum, rescaled
/// accumulator), so only one block of scores is ever held.
constexpr int64_t kKeyBlock = 64;
template <int64_t H, int64_t W, int64_t HEADS, int64_t DK, int64_t DV,
          int64_t WIN>
void attention(const float *q, const float *k, const float *v, float scale,
               float *y) {
  constexpr int64_t WH = WIN > 0 ? WIN : H, WW = WIN > 0 ? WIN : W;
  constexpr int64_t HP = (H + WH - 1) / WH * WH, WP = (W + WW - 1) / WW * WW;
  constexpr int64_t N1 = HP / WH, N2 = WP / WW, T = WH * WW;
  constexpr bool tokenMajorV = DV >= kVectorFloats;
#pragma omp parallel
  {
    std::vector<float> qs(T * DK), kt(DK * T), vt(DV * T);
    std::vector<int64_t> pixels(T);
    float p[kKeyBlock], acc[DV];
#pragma omp for collapse(2) schedule(static)
    for (int64_t win = 0; win < N1 * N2; ++win) {
      for (int64_t h = 0; h < HEADS; ++h) {
        int64_t a = win / N2, cc = win % N2;
        for (int64_t t = 0; t < T; ++t) {
          int64_t row = (t / WW) * N1 + a, col = (t % WW) * N2 + cc;
          pixels[t] = (row < H && col < W) ? row * W + col : -1;
        }
        for (int64_t d = 0; d < DK; ++d) {
          const float *qd = q + (h * DK + d) * H * W;
          const float *kd = k + (h * DK + d) * H * W;
          for (int64_t t = 0; t < T; ++t) {
            bool real = pixels[t] >= 0;
            qs[t * DK + d] = real ? qd[pixels[t]] * scale : 0.f;
            kt[d * T + t] = real ? kd[pixels[t]] : 0.f;
          }
        }
        for (int64_t d = 0; d < DV; ++d) {
          const float *vd = v + (h * DV + d) * H * W;
          for (int64_t t = 0; t < T; ++t)
            vt[tokenMajorV ? t * DV + d : d * T + t] =
                pixels[t] >= 0 ? vd[pixels[t]] : 0.f;
        }
        for (int64_t i = 0; i < T; ++i) {
          if (pixels[i] < 0)
            continue; // a padded query: cropped away
          float m = -INFINITY, sum = 0.f;
          for (int64_t d = 0; d < DV; ++d)
            acc[d] = 0.f;
          for (int64_t j0 = 0; j0 < T; j0 += kKeyBlock) {
            int64_t n = std::min(kKeyBlock, T - j0);
#pragma omp simd
            for (int64_t j = 0; j < n; ++j)
              p[j] = 0.f;
            for (int64_t d = 0; d < DK; ++d) {
              float qv = qs[i * DK + d];
              const float *kr = &kt[d * T + j0];
#pragma omp simd
              for (int64_t j = 0; j < n; ++j)
                p[j] += qv * kr[j];
            }
            float bm = m;
            for (int64_t j = 0; j < n; ++j)
              bm = std::max(bm, p[j]);
            float correction = expf32(m - bm); // 0 on the first block
            float blockSum = 0.f;
#pragma omp simd reduction(+ : blockSum)
            for (int64_t j = 0; j < n; ++j) {
              p[j] = expf32(p[j] - bm);
              blockSum += p[j];
            }
            sum = sum * correction + blockSum;
            m = bm;
            if constexpr (tokenMajorV) {
#pragma omp simd
              for (int64_t d = 0; d < DV; ++d)
                acc[d] *= correction;
              for (int64_t j = 0; j < n; ++j) {
                const float *vr = &vt[(j0 + j) * DV];
                float pj = p[j];
#pragma omp simd
                for (int64_t d = 0; d < DV; ++d)
                  acc[d] += pj * vr[d];
              }
            } else {
              for (int64_t d = 0; d < DV; ++d) {
                const float *vr = &vt[d * T + j0];
                float o = 0.f;
#pragma omp simd reduction(+ : o)
                for (int64_t j = 0; j < n; ++j)
                  o += p[j] * vr[j];
                acc[d] = acc[d] * correction + o;
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
        float *out = y + (g * CG + c) * HW;
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i)
          out[i] = xc[i] * sigmoid(wgt[i]);
      }
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
    std::vector<float> planes(CG * HP * WP, 0.f), pooled(CG * (H + W)),
        gate(CG * (H + W));
    std::vector<float> x2(CG * W), wgt(W);
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
        for (int64_t o = 0; o < CG; ++o) {
          float *out = &x2[o * W];
          for (int64_t j = 0; j < W; ++j)
            out[j] = b3[o];
          for (int64_t c = 0; c < CG; ++c) {
            const float *plane = &planes[c * HP * WP];
            const float *f = w3 + (o * CG + c) * 9;
            for (int64_t ky = 0; ky < 3; ++ky) {
              const float *row = plane + (i + ky) * WP;
              for (int64_t kx = 0; kx < 3; ++kx) {
                float fv = f[ky * 3 + kx];
#pragma omp simd
                for (int64_t j = 0; j < W; ++j)
                  out[j] += row[j + kx] * fv;
              }
            }
          }
        }
        for (int64_t j = 0; j < W; ++j)
          wgt[j] = 0.f;
        for (int64_t c = 0; c < CG; ++c) {
          const float *row = &planes[c * HP * WP + (i + 1) * WP + 1];
          const float *gw = &gate[c * (H + W) + H];
          float gh = gate[c * (H + W) + i], s1 = gnScale[c] * gh,
                t1 = gnShift[c];
          const float *p2 = &x2[c * W];
          float w1c = a1[c], w2c = a2[c];
#pragma omp simd
          for (int64_t j = 0; j < W; ++j)
            wgt[j] += w1c * p2[j] + w2c * (row[j] * gw[j] * s1 + t1);
        }
        for (int64_t c = 0; c < CG; ++c) {
          const float *row = &planes[c * HP * WP + (i + 1) * WP + 1];
          float *out = y + ((g * CG + c) * H + i) * W;
#pragma omp simd
          for (int64_t j = 0; j < W; ++j)
            out[j] = row[j] * sigmoid(wgt[j]);
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
/// at the cell centre, xywh times STRIDE, sigmoid scores. Work runs along
/// the pixels of a row block (vector loops), side by side.
template <int64_t NC, int64_t RM, int64_t H, int64_t W, int64_t STRIDE,
          int64_t A>
void detectDecodeLevel(const float *x, const float *dfl, int64_t offset,
                       float *y) {
  constexpr int64_t HW = H * W, BLOCK = 256;
  constexpr int64_t BLOCKS = (HW + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < BLOCKS; ++blk) {
    int64_t p0 = blk * BLOCK, n = std::min(BLOCK, HW - p0);
    float dist[4][BLOCK], m[BLOCK], sum[BLOCK], expect[BLOCK];
    for (int64_t side = 0; side < 4; ++side) {
      const float *bins = x + side * RM * HW + p0;
      for (int64_t i = 0; i < n; ++i)
        m[i] = bins[i];
      for (int64_t r = 1; r < RM; ++r)
#pragma omp simd
        for (int64_t i = 0; i < n; ++i)
          m[i] = std::max(m[i], bins[r * HW + i]);
      for (int64_t i = 0; i < n; ++i)
        sum[i] = expect[i] = 0.f;
      for (int64_t r = 0; r < RM; ++r) {
        float wr = dfl[r];
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) {
          float e = expf32(bins[r * HW + i] - m[i]);
          sum[i] += e;
          expect[i] += e * wr;
        }
      }
      for (int64_t i = 0; i < n; ++i)
        dist[side][i] = expect[i] / sum[i];
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
    for (int64_t c = 0; c < NC; ++c) {
      const float *logits = x + (4 * RM + c) * HW + p0;
      float *out = y + (4 + c) * A + offset + p0;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i)
        out[i] = sigmoid(logits[i]);
    }
  }
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_KERNELS_H
