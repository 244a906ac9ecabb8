//===- MicroKernel.h - register-blocked GEMM micro-kernels --------*- C++ -*-===//
//
// The innermost loop of every convolution and projection: C[R × NV·L] +=
// A_tile · B_panel over one K block, with the R·NV accumulators held in
// named vector variables (not an array), so no compiler or tuning can place
// them in memory: each K step is NV loads of the packed B panel, R
// broadcasts of the packed A tile and R·NV FMAs. Written with intrinsics
// through a small ISA traits class (AVX-512: 16 floats, AVX2 + FMA: 8, SSE2:
// 4 with a separate multiply and add), selected by the -march the model is
// built with. Each instantiation is a separate (noinline, internal: no PLT
// call) function, which
// the assembly test (test/Codegen/microkernel-asm.test) disassembles to
// check that its inner loop never touches the stack.
//
// Operands: `a` is the packed tile of Packing.h (K block start); `b` the
// K block's first row of the B panel, the next rows `ldb` floats apart (a
// panel Gemm.h packed, [kc][NV·L], or a dense B read where it lies) or, in
// the `Offsets` form, at b + koff[k] (an implicit-GEMM convolution's taps
// read from its zero-padded or phase-split input); `c` row-major with row
// stride ldc; `accumulate` adds to C instead of overwriting it.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_MICROKERNEL_H
#define IRMB_CODEGEN_CPU_KERNELS_MICROKERNEL_H

#include "Packing.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <immintrin.h>
#include <type_traits>

namespace irmb::kernels {

#if defined(__AVX512F__)
/// AVX-512: 32 zmm registers; tile 8 × 3 vectors = 24 accumulators.
struct Isa {
  using Reg = __m512;
  static constexpr int64_t kLanes = 16, kRows = kAvx512TileRows, kVectors = 3;
  /// The direct convolution's tile (DirectConv.h): 12 pixels × 2 vectors.
  static constexpr int64_t kDirectRows = 12, kDirectVectors = 2;
  static constexpr const char *kName = "avx512";
  static constexpr bool kFused = true; ///< fma() rounds once
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float *p) { return _mm512_loadu_ps(p); }
  static void store(float *p, Reg v) { _mm512_storeu_ps(p, v); }
  /// p[0 .. n) into the first n lanes (0 < n < 16), zeros after; masked,
  /// so nothing past p + n is read.
  static Reg loadFirst(const float *p, int64_t n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
  /// The first n lanes of v into p[0 .. n) (0 < n < 16), masked.
  static void storeFirst(float *p, Reg v, int64_t n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
  }
  static Reg broadcast(const float *p) { return _mm512_set1_ps(*p); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  /// −(a·b) − c, rounded once.
  static Reg fnmsub(Reg a, Reg b, Reg c) { return _mm512_fnmsub_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  /// 1 / a to about 14 bits.
  static Reg rcp(Reg a) { return _mm512_rcp14_ps(a); }
  static Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg set1(float v) { return _mm512_set1_ps(v); }
  /// The even lanes of a then b (lanes 0, 2, ..., 30 of the pair) and
  /// their odd lanes: a pair of floats' columns split by parity.
  static void evenOdd(Reg a, Reg b, Reg &evens, Reg &odds) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                           20, 22, 24, 26, 28, 30);
    evens = _mm512_permutex2var_ps(a, even, b);
    odds = _mm512_permutex2var_ps(
        a, _mm512_add_epi32(even, _mm512_set1_epi32(1)), b);
  }
  /// p[0], p[2], ..., p[30] (reads 32 floats).
  static Reg evens(const float *p) {
    const __m512i index = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                            20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(load(p), index, load(p + 16));
  }
  /// row[at .. at + 16), zero where it falls outside row[0 .. n): the lanes
  /// outside are masked off and never read (the address is formed as an
  /// integer, as it may lie before or past the row).
  static Reg rowLanes(const float *row, int64_t at, int64_t n) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(row) + 4 * at;
    if (at >= 0 && at + 16 <= n)
      return _mm512_loadu_ps(reinterpret_cast<const void *>(p));
    const int64_t lo = std::max<int64_t>(0, -at);
    const int64_t hi = std::min<int64_t>(16, n - at);
    const __mmask16 mask =
        hi <= lo ? 0
                 : static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
    return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const void *>(p));
  }
  /// 2^n for integral n in [-127, 128] held as floats.
  static Reg pow2(Reg n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  /// −|x|.
  static Reg negAbs(Reg x) {
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x),
                                               _mm512_set1_epi32(INT32_MIN)));
  }
  /// Per lane: ifNeg where x's sign bit is set, else ifNonNeg.
  static Reg signSelect(Reg x, Reg ifNeg, Reg ifNonNeg) {
    __mmask16 m = _mm512_test_epi32_mask(_mm512_castps_si512(x),
                                         _mm512_set1_epi32(INT32_MIN));
    return _mm512_mask_blend_ps(m, ifNonNeg, ifNeg);
  }
  /// The float whose exponent field is the low 9 bits of v's bits.
  static Reg exponentBits(Reg v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(v), 23));
  }
  /// The 16 × 16 matrix whose row i is r[i], transposed in place: pairs,
  /// quads, then 128-bit and 256-bit lanes (64 shuffles).
  static void transpose(Reg (&r)[16]) {
    Reg t[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
      r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    // r[4q + j] now holds, per 128-bit lane l, column 4l + j of rows 4q..4q+3.
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
      t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
      t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
      t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; ++i) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
      r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
      r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
    }
  }
};
#elif defined(__AVX2__) && defined(__FMA__)
/// AVX2 + FMA: 16 ymm registers; tile 6 × 2 vectors = 12 accumulators,
/// 2 B vectors and one broadcast.
struct Isa {
  using Reg = __m256;
  static constexpr int64_t kLanes = 8, kRows = kAvx2TileRows, kVectors = 2;
  static constexpr int64_t kDirectRows = 6, kDirectVectors = 2;
  static constexpr const char *kName = "avx2";
  static constexpr bool kFused = true; ///< fma() rounds once
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float *p) { return _mm256_loadu_ps(p); }
  static void store(float *p, Reg v) { _mm256_storeu_ps(p, v); }
  /// p[0 .. n) into the first n lanes (0 < n < kLanes), zeros after, and
  /// back: through a vector on the stack (defined after the ISAs).
  static Reg loadFirst(const float *p, int64_t n);
  static void storeFirst(float *p, Reg v, int64_t n);
  static Reg broadcast(const float *p) { return _mm256_broadcast_ss(p); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  /// −(a·b) − c, rounded once.
  static Reg fnmsub(Reg a, Reg b, Reg c) { return _mm256_fnmsub_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  /// 1 / a to about 12 bits.
  static Reg rcp(Reg a) { return _mm256_rcp_ps(a); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  /// p[0], p[2], ..., p[14] (reads 16 floats).
  static Reg evens(const float *p) {
    __m256 t = _mm256_shuffle_ps(load(p), load(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  /// 2^n for integral n in [-127, 128] held as floats.
  static Reg pow2(Reg n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  /// −|x|.
  static Reg negAbs(Reg x) { return _mm256_or_ps(x, _mm256_set1_ps(-0.f)); }
  /// Per lane: ifNeg where x's sign bit is set, else ifNonNeg.
  static Reg signSelect(Reg x, Reg ifNeg, Reg ifNonNeg) {
    return _mm256_blendv_ps(ifNonNeg, ifNeg, x);
  }
  /// The float whose exponent field is the low 9 bits of v's bits.
  static Reg exponentBits(Reg v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), 23));
  }
  /// The 8 × 8 matrix whose row i is r[i], transposed in place.
  static void transpose(Reg (&r)[8]) {
    Reg t[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; ++i) {
      t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
      t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; ++i)
      r[i] = t[i];
  }
};
#else
/// SSE2 (any x86-64): 16 xmm registers; tile 4 × 2 vectors, multiply + add.
struct Isa {
  using Reg = __m128;
  static constexpr int64_t kLanes = 4, kRows = kSseTileRows, kVectors = 2;
  static constexpr int64_t kDirectRows = 4, kDirectVectors = 2;
  static constexpr const char *kName = "sse";
  static constexpr bool kFused = false; ///< fma() is a multiply, then an add
  static Reg zero() { return _mm_setzero_ps(); }
  static Reg load(const float *p) { return _mm_loadu_ps(p); }
  static void store(float *p, Reg v) { _mm_storeu_ps(p, v); }
  /// p[0 .. n) into the first n lanes (0 < n < kLanes), zeros after, and
  /// back: through a vector on the stack (defined after the ISAs).
  static Reg loadFirst(const float *p, int64_t n);
  static void storeFirst(float *p, Reg v, int64_t n);
  static Reg broadcast(const float *p) { return _mm_set1_ps(*p); }
  static Reg fma(Reg a, Reg b, Reg c) {
    return _mm_add_ps(_mm_mul_ps(a, b), c);
  }
  static Reg add(Reg a, Reg b) { return _mm_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm_div_ps(a, b); }
  /// 1 / a to about 12 bits.
  static Reg rcp(Reg a) { return _mm_rcp_ps(a); }
  static Reg min(Reg a, Reg b) { return _mm_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm_max_ps(a, b); }
  static Reg set1(float v) { return _mm_set1_ps(v); }
  /// p[0], p[2], p[4], p[6] (reads 8 floats).
  static Reg evens(const float *p) {
    return _mm_shuffle_ps(load(p), load(p + 4), _MM_SHUFFLE(2, 0, 2, 0));
  }
  /// 2^n for integral n in [-127, 128] held as floats.
  static Reg pow2(Reg n) {
    __m128i e = _mm_add_epi32(_mm_cvtps_epi32(n), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(e, 23));
  }
  /// −|x|.
  static Reg negAbs(Reg x) { return _mm_or_ps(x, _mm_set1_ps(-0.f)); }
  /// Per lane: ifNeg where x's sign bit is set, else ifNonNeg.
  static Reg signSelect(Reg x, Reg ifNeg, Reg ifNonNeg) {
    __m128 m = _mm_castsi128_ps(_mm_srai_epi32(_mm_castps_si128(x), 31));
    return _mm_or_ps(_mm_and_ps(m, ifNeg), _mm_andnot_ps(m, ifNonNeg));
  }
  /// The float whose exponent field is the low 9 bits of v's bits.
  static Reg exponentBits(Reg v) {
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_castps_si128(v), 23));
  }
  /// The 4 × 4 matrix whose row i is r[i], transposed in place.
  static void transpose(Reg (&r)[4]) { _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]); }
};
#endif

#if !defined(__AVX512F__)
// AVX2 and SSE have no cheap masked moves (AMD cores take 10+ cycles for a
// masked store): the partial vectors go through a vector on the stack.
inline Isa::Reg Isa::loadFirst(const float *p, int64_t n) {
  alignas(64) float lanes[kLanes] = {};
  std::memcpy(lanes, p, sizeof(float) * n);
  return load(lanes);
}
inline void Isa::storeFirst(float *p, Reg v, int64_t n) {
  alignas(64) float lanes[kLanes];
  store(lanes, v);
  std::memcpy(p, lanes, sizeof(float) * n);
}
#endif

/// Rows and columns of the full register tile, and the K block.
constexpr int64_t kTileRows = Isa::kRows, kTileVectors = Isa::kVectors;
constexpr int64_t kVectorFloats = Isa::kLanes;
constexpr int64_t kTileCols = kTileVectors * kVectorFloats;
static_assert(kTileCols == (kTileRows == kAvx512TileRows ? kAvx512TileCols
                            : kTileRows == kAvx2TileRows ? kAvx2TileCols
                                                         : kSseTileCols),
              "Packing.h's tile columns name this ISA's tile");
/// The direct convolution's register tile: pixels × output channels.
constexpr int64_t kDirectTileRows = Isa::kDirectRows;
constexpr int64_t kDirectTileCols = Isa::kDirectVectors * kVectorFloats;
static_assert(kDirectTileCols == (kTileRows == kAvx512TileRows ? kAvx512DirectCols
                                  : kTileRows == kAvx2TileRows ? kAvx2DirectCols
                                                               : kSseDirectCols),
              "Packing.h's direct columns name this ISA's direct tile");
/// K block: the packed B panel (kBlockK × kTileCols floats, 16–24 KiB) stays
/// in L1 while every row tile of A streams past it.
constexpr int64_t kBlockK = kTileCols >= 48 ? 128 : 256;

// One accumulator row: its R·NV variables are named c<row><vector>, row i
// of C at c + i·ldc; a K step broadcasts row i's value from a + i·AS and
// multiplies it with the step's B vectors b0, b1, b2. (Also the direct
// convolution's micro-kernel, DirectConv.h, which undefines them.)
#define IRMB_ROW_DECL(i)                                                       \
  typename V::Reg c##i##0 = V::zero(), c##i##1 = V::zero(),                   \
                  c##i##2 = V::zero();
#define IRMB_ROW_LOAD(i)                                                       \
  if constexpr (R > i) {                                                       \
    c##i##0 = V::load(c + i * ldc);                                            \
    if constexpr (NV > 1)                                                      \
      c##i##1 = V::load(c + i * ldc + V::kLanes);                              \
    if constexpr (NV > 2)                                                      \
      c##i##2 = V::load(c + i * ldc + 2 * V::kLanes);                          \
  }
#define IRMB_ROW_FMA(i)                                                        \
  if constexpr (R > i) {                                                       \
    typename V::Reg ai = V::broadcast(a + i * AS);                             \
    c##i##0 = V::fma(ai, b0, c##i##0);                                         \
    if constexpr (NV > 1)                                                      \
      c##i##1 = V::fma(ai, b1, c##i##1);                                       \
    if constexpr (NV > 2)                                                      \
      c##i##2 = V::fma(ai, b2, c##i##2);                                       \
  }
#define IRMB_ROW_STORE(i)                                                      \
  if constexpr (R > i) {                                                       \
    V::store(c + i * ldc, c##i##0);                                            \
    if constexpr (NV > 1)                                                      \
      V::store(c + i * ldc + V::kLanes, c##i##1);                              \
    if constexpr (NV > 2)                                                      \
      V::store(c + i * ldc + 2 * V::kLanes, c##i##2);                          \
  }
#define IRMB_ROWS(op)                                                          \
  op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7)

/// How many K steps ahead the AVX-512 GEMM micro-kernel asks for the B
/// rows it reads (strided B only, see microKernel). The rows of a 1×1
/// convolution's B lie H·W floats apart, a stride no hardware prefetcher
/// follows, so each step's three lines came from L2 or beyond on demand.
/// Measured on the model-167 Xeon (docs/design-notes.md, session 23),
/// the 1×1 convolutions of yolo11n stand-alone, geometric mean over 11
/// shapes: 2 rows 1.04, 4 rows 1.07, 6 rows 1.06, 8 rows 1.06 (K = 32
/// 0.96), 12 rows 1.06 (K = 32 0.94).
constexpr int64_t kBPrefetchSteps = 4;
/// Whether the GEMM micro-kernel prefetches its B rows: AVX-512 only. The
/// AVX2 tile (6 × 16: one line of B a step) measured 1.01 on the same
/// shapes, 0.95 at K = 32–48, where its prefetches crowd the two load ports
/// already busy with eight loads a step.
constexpr bool kBPrefetch = Isa::kLanes == 16;

/// C[0:R, 0:NV·L] (+)= Σ_k a[k·R + i] · B_k[j] for k < kc, where B_k is
/// b + k·ldb, or b + koff[k] when `Offsets`: the micro-kernel (R ≤ 8 rows,
/// NV ≤ 3 vectors).
template <typename V, int64_t R, int64_t NV, bool Offsets = false>
__attribute__((noinline)) static void
microKernel(int64_t kc, const float *__restrict a, const float *__restrict b,
            int64_t ldb, const int64_t *__restrict koff, float *__restrict c,
            int64_t ldc, bool accumulate) {
  static_assert(R >= 1 && R <= 8 && NV >= 1 && NV <= 3, "tile shape");
  constexpr int64_t AS = 1; // a packed tile: a step's rows are consecutive
  // kBPrefetchSteps rows of B ahead, in bytes; the addresses are integers,
  // as a prefetch past the end of B never faults but a pointer there would
  // be out of bounds.
  [[maybe_unused]] const uintptr_t ahead =
      4 * kBPrefetchSteps * static_cast<uintptr_t>(ldb);
  IRMB_ROWS(IRMB_ROW_DECL)
  if (accumulate) {
    IRMB_ROWS(IRMB_ROW_LOAD)
  }
  // One K step: NV vectors of B, a broadcast of A per row, R·NV FMAs.
#define IRMB_K_STEP                                                            \
  {                                                                            \
    const float *bk = b;                                                       \
    if constexpr (Offsets) {                                                   \
      bk = b + *koff++;                                                        \
    } else {                                                                   \
      if constexpr (kBPrefetch)                                                \
        for (int64_t line = 0; line < (NV * V::kLanes + 15) / 16; ++line)      \
          __builtin_prefetch(reinterpret_cast<const void *>(                   \
                                 reinterpret_cast<uintptr_t>(b) + ahead +      \
                                 64 * line),                                   \
                             0, 3);                                            \
      b += ldb;                                                                \
    }                                                                          \
    typename V::Reg b0 = V::load(bk), b1 = b0, b2 = b0;                        \
    if constexpr (NV > 1)                                                      \
      b1 = V::load(bk + V::kLanes);                                            \
    if constexpr (NV > 2)                                                      \
      b2 = V::load(bk + 2 * V::kLanes);                                        \
    IRMB_ROWS(IRMB_ROW_FMA)                                                    \
    a += R;                                                                    \
  }
  if constexpr (NV >= 3) {
    // AVX-512's 8 × 3 tile: 24 FMAs a step already hide the loop's own
    // instructions; unrolled, GCC 12 ran out of general registers (the
    // loop bound on the stack under znver3 tuning) or, written out, hoisted
    // the steps' B loads past the 32 registers (-mtune=generic).
    for (int64_t k = kc; k > 0; --k)
      IRMB_K_STEP
  } else {
    // Four steps per iteration: with 12 FMAs a step the loop's pointer
    // updates and branch cost a step's worth of issue slots (AVX2 6 × 16 on
    // Zen 3, tile in L1: 75–80 → 84–95 GFLOP/s of a 94 peak). GCC's own
    // unroller, not four steps written out: from a written-out body GCC 12
    // (generic and icelake tuning) hoisted the steps' B loads past the 16
    // registers and spilled them.
#pragma GCC unroll 4
    for (int64_t k = kc; k > 0; --k)
      IRMB_K_STEP
  }
  IRMB_ROWS(IRMB_ROW_STORE)
}

#undef IRMB_K_STEP

/// f(std::integral_constant<int64_t, R>{}) for the runtime row count n,
/// R = n clamped to [1, kMax]: how a micro-kernel call picks its
/// compile-time tile height (a full tile, the common case, is one compare).
template <int64_t kMax, typename F> inline void withRows(int64_t n, F &&f) {
  if constexpr (kMax > 1)
    if (n < kMax)
      return withRows<kMax - 1>(n, f);
  f(std::integral_constant<int64_t, kMax>{});
}

/// microKernelRows for one B addressing form and tile width (NV vectors).
template <bool Offsets, int64_t NV>
inline void microKernelRowsOf(int64_t rows, int64_t kc, const float *a,
                              const float *b, int64_t ldb,
                              const int64_t *koff, float *c, int64_t ldc,
                              bool accumulate) {
  withRows<kTileRows>(rows, [&](auto r) {
    microKernel<Isa, decltype(r)::value, NV, Offsets>(kc, a, b, ldb, koff, c,
                                                      ldc, accumulate);
  });
}

/// microKernelRowsOf for a runtime tile width of `vectors` (1 ..
/// kTileVectors) vectors.
template <bool Offsets>
inline void microKernelRowsWide(int64_t vectors, int64_t rows, int64_t kc,
                                const float *a, const float *b, int64_t ldb,
                                const int64_t *koff, float *c, int64_t ldc,
                                bool accumulate) {
  if (vectors >= kTileVectors)
    return microKernelRowsOf<Offsets, kTileVectors>(rows, kc, a, b, ldb, koff,
                                                    c, ldc, accumulate);
  if constexpr (kTileVectors > 2)
    if (vectors == 2)
      return microKernelRowsOf<Offsets, 2>(rows, kc, a, b, ldb, koff, c, ldc,
                                           accumulate);
  microKernelRowsOf<Offsets, 1>(rows, kc, a, b, ldb, koff, c, ldc, accumulate);
}

/// The micro-kernel of the model's ISA for a runtime row count (1 ..
/// kTileRows; a matrix's last row tile may be narrower), B's rows at
/// b + k·ldb, or at b + koff[k] where koff is not null. `vectors` < the
/// tile's kTileVectors computes only the first `vectors` vectors of C's
/// columns (a GEMM's last, partial panel: AVX-512's 48-column panels of a
/// 100-tile Winograd GEMM did a third of their work on columns past N).
inline void microKernelRows(int64_t rows, int64_t kc, const float *a,
                            const float *b, int64_t ldb, const int64_t *koff,
                            float *c, int64_t ldc, bool accumulate,
                            int64_t vectors = kTileVectors) {
  if (koff)
    return microKernelRowsWide<true>(vectors, rows, kc, a, b, ldb, koff, c,
                                     ldc, accumulate);
  microKernelRowsWide<false>(vectors, rows, kc, a, b, ldb, koff, c, ldc,
                             accumulate);
}
} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_MICROKERNEL_H
