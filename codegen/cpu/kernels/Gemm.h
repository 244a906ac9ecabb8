//===- Gemm.h - packed, cache-blocked GEMM with fused epilogue ----*- C++ -*-===//
//
// C[m, n] = act(Σ_k A[m, k] · B[k, n] + bias[m]) + R[m, n] for every
// convolution and projection of a model. A (weights) arrives packed by
// irmb-compile (Packing.h). B is never a dense matrix: column n of row k is
// `base[koff[k] + (n / WO)·rowStep + (n % WO)·colStep]`, which covers a 1×1
// convolution's input (koff = k·HW), an implicit-GEMM convolution over a
// zero-padded input or its stride-2 phase planes, and strided gathers.
//
// Blocking (BLIS order): the columns are cut into panels of kTileCols; each
// thread takes an equal contiguous range of panels (so both cores get the
// same share of every layer, however small); per block of kPanelsPerBlock
// panels and K block of kBlockK rows, the panels that are not one
// contiguous stretch of every row of B are packed once into a thread-local
// buffer (panel-major, [panel][k][kTileCols], zero past N, in L2) and the
// others are read where they lie, then each row tile of A (in L1) runs the
// micro-kernel against the block's panels in turn, so a tile's rows of C are written as consecutive
// stretches (panel by panel for all row tiles would touch M far-apart lines
// of C per panel, and wait on them), the lines two tiles ahead prefetched.
// The epilogue (bias, activation, residual) runs on each row tile's
// finished stretch of the block, row by row, while it is in L1. A
// convolution over its padded or phase-split input runs on that input's
// row grid instead (gridGemmPanelRange): no panel is packed at all.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_GEMM_H
#define IRMB_CODEGEN_CPU_KERNELS_GEMM_H

#include "MicroKernel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace irmb::kernels {

/// Element-wise activations (matches irmb::Activation).
enum class Act { None = 0, Relu = 1, Relu6 = 2, Silu = 3 };

/// e^x for float32 within about 1 ulp (Cephes expf): range reduction by
/// ln 2, a degree-6 polynomial, the exponent written into the bits. Written
/// without branches or calls so loops over it vectorise; -inf gives 0.
inline float expf32(float x) {
  x = std::min(std::max(x, -87.3365f), 88.3762f);
  // Round to nearest with the 1.5·2^23 trick (vectorises, unlike floorf).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = n * -0.693359375f + x;
  r = n * 2.12194440e-4f + r;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = r * (p * r + 1.0f) + 1.0f;
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

/// Where the columns of B come from (see the file comment). `koff` null
/// means koff[k] = k · kStride. A batch of images puts its images' columns
/// side by side: each image has `rows` output rows of `wo` columns, and
/// image i's sources start `imageStride` floats after image i − 1's.
struct BSource {
  const float *base;
  const int64_t *koff;
  int64_t kStride, wo, rowStep, colStep;
  int64_t rows = 1, imageStride = 0;
  /// Floats readable from `base` (per image), or 0 if unknown: a source
  /// with room past its last row can be read on its row grid (gridGemm).
  int64_t extent = 0;
  int64_t koffset(int64_t k) const { return koff ? koff[k] : k * kStride; }
};

/// A dense row-major B (row stride ldb) of `cols` columns per image, the
/// images `imageStride` floats apart (one image: cols = ldb).
inline BSource denseB(const float *b, int64_t ldb, int64_t cols = 0,
                      int64_t imageStride = 0) {
  return {b, nullptr, ldb, cols > 0 ? cols : INT64_MAX / 4, 0, 1, 1,
          imageStride};
}

/// Where C (and the residual, which has C's layout) lives: row stride ldc;
/// with a batch, `imageCols` columns per image and each image's C
/// `imageStride` floats after the previous one's (the residual's
/// `resImageStride`). imageCols 0: one image.
struct CLayout {
  int64_t ldc, imageCols = 0, imageStride = 0, resImageStride = 0;
  /// Offset of global column n in C (or, with `res`, the residual).
  int64_t column(int64_t n, bool res = false) const {
    if (imageCols == 0)
      return n;
    return (n / imageCols) * (res ? resImageStride : imageStride) +
           n % imageCols;
  }
  /// Columns from n to the end of its image.
  int64_t imageRest(int64_t n) const {
    return imageCols == 0 ? INT64_MAX / 4 : imageCols - n % imageCols;
  }
};

/// Panels packed per block: kPanelsPerBlock · kTileCols columns of B.
constexpr int64_t kPanelsPerBlock = 8;
/// How far ahead along C's rows (in floats) a row tile prefetches the lines
/// it writes next: two tiles, about as long as a DRAM miss takes.
constexpr int64_t kPrefetchAhead = 2 * kTileCols;

/// This thread's index and the team size inside a parallel region.
inline void threadShare(int64_t &thread, int64_t &threads) {
#ifdef _OPENMP
  thread = omp_get_thread_num();
  threads = omp_get_num_threads();
#else
  thread = 0;
  threads = 1;
#endif
}

/// Rows [r0, r1) of `rows` output rows for the calling thread of a
/// parallel region: an equal run per thread, in thread order. Kernels that
/// split a map by rows this way leave each thread's share of their result
/// in its own core's cache, where the next kernel's share of the same rows
/// (GEMM panels, direct and Winograd row bands, depthwise rows) reads it:
/// on the Zen 5 server of docs/benchmarks.md, a convolution whose input
/// another core wrote ran 1.5–2× slower at 2 threads than one whose input
/// its own threads wrote.
inline void threadRows(int64_t rows, int64_t &r0, int64_t &r1) {
  int64_t thread, threads;
  threadShare(thread, threads);
  r0 = rows * thread / threads;
  r1 = rows * (thread + 1) / threads;
}

/// A piece of a packed panel: columns [col, col + len) of the panel read
/// consecutive floats from `src` on (plus the row's koffset).
struct PanelPiece {
  int64_t col, src, len;
};

/// The pieces of the panels of one block (panel p's pieces are
/// pieces[first[p] .. first[p + 1])), and whether a panel is one whole
/// contiguous piece.
struct BlockLayout {
  std::vector<PanelPiece> pieces;
  std::vector<int64_t> first;
  std::vector<char> whole;
  bool packs = false; ///< whether any panel is not whole (needs packing)

  /// Columns [n0, n0 + cols) of B.
  void build(const BSource &b, int64_t n0, int64_t cols) {
    pieces.clear();
    first.clear();
    whole.clear();
    int64_t oy = n0 / b.wo, ox = n0 % b.wo, image = 0;
    if (b.imageStride != 0) {
      image = oy / b.rows;
      oy %= b.rows;
    }
    for (int64_t p0 = 0; p0 < cols; p0 += kTileCols) {
      first.push_back(static_cast<int64_t>(pieces.size()));
      int64_t end = std::min(cols, p0 + kTileCols);
      for (int64_t j = p0; j < end;) {
        // Consecutive columns of one output row are consecutive sources
        // when colStep is 1.
        int64_t len = b.colStep == 1 ? std::min(end - j, b.wo - ox) : 1;
        pieces.push_back({j - p0,
                          image * b.imageStride + oy * b.rowStep +
                              ox * b.colStep,
                          len});
        j += len;
        ox += len;
        if (ox == b.wo) {
          ox = 0;
          if (++oy == b.rows && b.imageStride != 0) {
            oy = 0;
            ++image;
          }
        }
      }
      whole.push_back(pieces.size() - first.back() == 1 &&
                      end - p0 == kTileCols);
    }
    first.push_back(static_cast<int64_t>(pieces.size()));
    packs = std::find(whole.begin(), whole.end(), 0) != whole.end();
  }
};

/// Where the micro-kernel reads a panel's K block: row k at b + k·ldb, or
/// at b + koff[k] where koff is not null (see microKernel).
struct BPanel {
  const float *b;
  int64_t ldb;
  const int64_t *koff;
};

/// Packs rows [k0, k0 + kc) of a block's panels that are not whole into
/// `dst` ([panel][kc][kTileCols], zeros past the block's last column). A
/// whole panel (one contiguous stretch of every row) is not copied: the
/// micro-kernel reads it where it lies (wholePanel). Measured on the Xeon of
/// docs/benchmarks.md (session 11): reading whole panels in place is
/// 1.0–1.17× the packed copy on 1×1 convolutions (also where H·W floats are
/// a multiple of 4 KiB, so all rows of a panel share L1 sets: 0.98–1.01)
/// and 1.06–1.24× on stride-2 convolutions.
inline void packBBlock(const BSource &b, const BlockLayout &layout, int64_t k0,
                       int64_t kc, float *dst) {
  using V = Isa;
  const int64_t panels = static_cast<int64_t>(layout.whole.size());
  // The layout's arrays in locals: `layout` is thread-local, and GCC
  // recomputed its address (a __tls_get_addr call in a dlopen'ed model) on
  // every panel of every row.
  const PanelPiece *const pieces = layout.pieces.data();
  const int64_t *const first = layout.first.data();
  const char *const whole = layout.whole.data();
  // Row by row, so each source row is read as one contiguous stretch (rows
  // of a dense B are H·W floats apart: reading a panel's column strip over
  // all rows would touch kc pages, and for H·W a multiple of 1024 the same
  // few L1 sets, per panel).
  for (int64_t k = 0; k < kc; ++k) {
    const float *row = b.base + b.koffset(k0 + k);
    for (int64_t p = 0; p < panels; ++p) {
      if (whole[p])
        continue; // the micro-kernel reads it where it lies (wholePanel)
      float *d = dst + (p * kc + k) * kTileCols;
      for (int64_t v = 0; v < kTileVectors; ++v)
        V::store(d + v * V::kLanes, V::zero());
      for (int64_t i = first[p]; i < first[p + 1]; ++i) {
        const PanelPiece &piece = pieces[i];
        const float *from = row + piece.src;
        if (b.colStep == 1 && V::kLanes == 16) {
          // AVX-512: whole vectors, then the rest as one masked vector (a
          // piece never runs past its panel, so neither do the stores):
          // 1.03-1.08 on the stride-2 convolutions, whose panels straddle
          // output rows. (AVX2 has no cheap masked move: GCC's vectorized
          // loop below.)
          float *to = d + piece.col;
          int64_t j = 0;
          for (; j + V::kLanes <= piece.len; j += V::kLanes)
            V::store(to + j, V::load(from + j));
          if (j < piece.len)
            V::storeFirst(to + j, V::loadFirst(from + j, piece.len - j),
                          piece.len - j);
        } else if (b.colStep == 1) {
          for (int64_t j = 0; j < piece.len; ++j)
            d[piece.col + j] = from[j];
        } else {
          d[piece.col] = *from;
        }
      }
    }
  }
}

/// expf32 on N vectors at once, in place (the same operations, lane by
/// lane). Each step runs on all N before the next, so N independent
/// dependency chains are in flight: one chain of ~20 dependent operations
/// would leave the FP pipes waiting on latency.
template <typename V, int N> inline void expVectors(typename V::Reg (&x)[N]) {
  using R = typename V::Reg;
  R n[N], r[N], p[N];
  const R magic = V::set1(12582912.0f);
#define IRMB_EACH for (int u = 0; u < N; ++u)
  IRMB_EACH x[u] = V::min(V::max(x[u], V::set1(-87.3365f)), V::set1(88.3762f));
  IRMB_EACH n[u] =
      V::sub(V::fma(x[u], V::set1(1.44269504088896341f), magic), magic);
  // r = x − n·ln 2 in two parts (Cody–Waite), each one FMA.
  IRMB_EACH r[u] = V::fma(n[u], V::set1(-0.693359375f), x[u]);
  IRMB_EACH r[u] = V::fma(n[u], V::set1(2.12194440e-4f), r[u]);
  IRMB_EACH p[u] = V::fma(V::set1(1.9875691500E-4f), r[u],
                          V::set1(1.3981999507E-3f));
  IRMB_EACH p[u] = V::fma(p[u], r[u], V::set1(8.3334519073E-3f));
  IRMB_EACH p[u] = V::fma(p[u], r[u], V::set1(4.1665795894E-2f));
  IRMB_EACH p[u] = V::fma(p[u], r[u], V::set1(1.6666665459E-1f));
  IRMB_EACH p[u] = V::fma(p[u], r[u], V::set1(5.0000001201E-1f));
  // p·r² + r + 1 as r·(p·r + 1) + 1: two FMAs.
  IRMB_EACH p[u] = V::fma(r[u], V::fma(p[u], r[u], V::set1(1.0f)),
                          V::set1(1.0f));
  IRMB_EACH x[u] = V::mul(p[u], V::pow2(n[u]));
}

/// expf32 on a vector.
template <typename V> inline typename V::Reg expVector(typename V::Reg x) {
  typename V::Reg v[1] = {x};
  expVectors<V, 1>(v);
  return v[0];
}

/// e[u] = e^z[u] on N vectors, z = −x[u] where `Negate`, else x[u], for z
/// in [ln 2^−126, 88] (the callers clamp; NaN stays NaN). e^z = 2^n · e^t:
/// adding 1.5·2^23 + 127 to z·log2(e) rounds it to n and leaves n + 127 in
/// the low mantissa bits, which shifted into the exponent field give 2^n
/// (no float-to-int conversion; n + 127 in [1, 254], a normal float);
/// t = z − n·ln 2 in one FMA (its error, below 2.5e-7 relative, only where
/// e^z < 2^−16; two steps where the ISA has no fused multiply-add);
/// e^t = 1 + t·p(t), p of degree 5 fitted for relative error 1.7e-8 on
/// [−ln2/2, ln2/2]. Negating inside (the log2(e) factor's sign, and
/// −n·ln 2 − x as one fused negative multiply-subtract) rounds exactly as
/// on a negated input and costs no instruction.
template <typename V, int N, bool Negate>
inline void expInRange(const typename V::Reg (&x)[N], typename V::Reg (&e)[N]) {
  using R = typename V::Reg;
  const R magic = V::set1(12583039.0f); // 1.5·2^23 + 127
  R v[N], s[N], t[N], p[N];
  IRMB_EACH v[u] = V::fma(x[u], V::set1(Negate ? -1.44269504f : 1.44269504f),
                          magic);
  IRMB_EACH s[u] = V::exponentBits(v[u]);
  IRMB_EACH v[u] = V::sub(v[u], magic);
  if constexpr (V::kFused && Negate) {
    IRMB_EACH t[u] = V::fnmsub(v[u], V::set1(0.693147182f), x[u]);
  } else if constexpr (V::kFused) {
    IRMB_EACH t[u] = V::fma(v[u], V::set1(-0.693147182f), x[u]);
  } else {
    // Without a fused multiply-add, n·ln 2 in two parts (Cody–Waite).
    IRMB_EACH t[u] = Negate ? V::sub(V::zero(), x[u]) : x[u];
    IRMB_EACH t[u] = V::fma(v[u], V::set1(-0.693359375f), t[u]);
    IRMB_EACH t[u] = V::fma(v[u], V::set1(2.12194440e-4f), t[u]);
  }
  IRMB_EACH p[u] = V::fma(V::set1(1.384365372e-3f), t[u],
                          V::set1(8.374155499e-3f));
  IRMB_EACH p[u] = V::fma(p[u], t[u], V::set1(4.166800156e-2f));
  IRMB_EACH p[u] = V::fma(p[u], t[u], V::set1(1.666643173e-1f));
  IRMB_EACH p[u] = V::fma(p[u], t[u], V::set1(4.999999404e-1f));
  IRMB_EACH p[u] = V::fma(p[u], t[u], V::set1(1.f));
  IRMB_EACH e[u] = V::fma(V::mul(t[u], s[u]), p[u], s[u]);
}

/// e[u] = e^−|x[u]| on N vectors: −|x| ≤ 0 never overflows, so only the
/// lower clamp (2^n stays a normal float).
template <typename V, int N>
inline void expNegAbs(const typename V::Reg (&x)[N], typename V::Reg (&e)[N]) {
  typename V::Reg z[N];
  IRMB_EACH z[u] = V::max(V::negAbs(x[u]), V::set1(-87.33654f));
  expInRange<V, N, false>(z, e);
}

/// σ(x) = 1 / (1 + e^−x) on N vectors in place, as num / (1 + e) with e =
/// e^−|x| and num = 1 for x ≥ 0 (PyTorch's formula), e for x < 0 (the same
/// value without overflow): one correctly rounded division, which on
/// current x86 cores costs no more than a reciprocal estimate and its
/// Newton step and rounds less.
template <typename V, int N>
inline void sigmoidVectors(typename V::Reg (&x)[N]) {
  typename V::Reg e[N];
  expNegAbs<V, N>(x, e);
  IRMB_EACH x[u] = V::div(V::signSelect(x[u], e[u], V::set1(1.f)),
                          V::add(e[u], V::set1(1.f)));
}

/// activate<A> on N vectors in place.
template <Act A, typename V, int N>
inline void activateVectors(typename V::Reg (&x)[N]) {
  if constexpr (A == Act::Relu) {
    IRMB_EACH x[u] = V::max(x[u], V::zero());
  } else if constexpr (A == Act::Relu6) {
    IRMB_EACH x[u] = V::min(V::max(x[u], V::zero()), V::set1(6.f));
  } else if constexpr (A == Act::Silu) {
    // x / (1 + e^−x) (PyTorch's formula) with −x clamped to [ln 2^−126,
    // 88]: e^88 < FLT_MAX keeps 1 + e finite, so below x = −88 the result is
    // x / 1.65e38 (true: x·e^x, smaller still; both below 1e-35 in size
    // unless |x| passes 1e3, where a network's values never are; −inf gives
    // −inf, as before) and above x = 87.3 it is x. NaN stays NaN (the
    // numerator is the unclamped x). Three instructions fewer than
    // x · num / (1 + e^−|x|) (no sign select, no multiply): SiLU is the
    // epilogue of most convolutions (docs/design-notes.md, session 18).
    typename V::Reg z[N], e[N];
    IRMB_EACH z[u] = V::min(V::max(x[u], V::set1(-88.f)), V::set1(87.33654f));
    expInRange<V, N, true>(z, e);
    IRMB_EACH x[u] = V::div(x[u], V::add(e[u], V::set1(1.f)));
  }
}
#undef IRMB_EACH

/// activate<A> on a vector.
template <Act A, typename V>
inline typename V::Reg activateVector(typename V::Reg x) {
  typename V::Reg v[1] = {x};
  activateVectors<A, V, 1>(v);
  return v[0];
}

/// y[j] = act(x[j] + bias) (+ res[j]) for j < n, in vectors, four at a time
/// (the tail as one partial vector); y may be x. `res` may be null.
template <Act A>
inline void biasActivateRow(const float *x, float bias, const float *res,
                            float *y, int64_t n) {
  using V = Isa;
  using R = typename V::Reg;
  constexpr int64_t L = V::kLanes;
  R bv = V::set1(bias);
  int64_t j = 0;
  for (; j + 4 * L <= n; j += 4 * L) {
    R v[4];
    for (int u = 0; u < 4; ++u)
      v[u] = V::add(V::load(x + j + u * L), bv);
    activateVectors<A, V, 4>(v);
    for (int u = 0; u < 4; ++u)
      V::store(y + j + u * L,
               res ? V::add(v[u], V::load(res + j + u * L)) : v[u]);
  }
  for (; j + L <= n; j += L) {
    R v = activateVector<A, V>(V::add(V::load(x + j), bv));
    if (res)
      v = V::add(v, V::load(res + j));
    V::store(y + j, v);
  }
  if (j < n) {
    // The tail as one partial vector (the same formula as the rest).
    R v = activateVector<A, V>(V::add(V::loadFirst(x + j, n - j), bv));
    if (res)
      v = V::add(v, V::loadFirst(res + j, n - j));
    V::storeFirst(y + j, v, n - j);
  }
}

/// Four vectors of sums v[u], each the pixels [p, p + pixels) of one output
/// channel of an NCHW result (`y` and `res` at the first channel's pixel p,
/// channels cs floats apart), as act(v[u] + bias[u]) (+ res) into the
/// first n ≤ 4 channels: whole vectors, or the first `pixels` lanes. The
/// same operations per lane as biasActivateRow (for kernels that hold a
/// vector per channel in registers: the direct and stem convolutions).
/// `bias` and `res` may be null.
template <Act A>
inline void activateStoreChannels(Isa::Reg (&v)[4], int64_t n,
                                  const float *bias, const float *res,
                                  float *y, int64_t cs, int64_t pixels) {
  using V = Isa;
  for (int u = 0; u < 4; ++u)
    v[u] = V::add(v[u], V::set1(bias && u < n ? bias[u] : 0.f));
  activateVectors<A, V, 4>(v);
  for (int64_t u = 0; u < std::min<int64_t>(n, 4); ++u) {
    const int64_t at = u * cs;
    if (pixels == V::kLanes) {
      V::store(y + at, res ? V::add(v[u], V::load(res + at)) : v[u]);
    } else {
      const typename V::Reg w =
          res ? V::add(v[u], V::loadFirst(res + at, pixels)) : v[u];
      V::storeFirst(y + at, w, pixels);
    }
  }
}

/// 1 / (1 + e^-x) on a vector.
template <typename V> inline typename V::Reg sigmoidVector(typename V::Reg x) {
  typename V::Reg v[1] = {x};
  sigmoidVectors<V, 1>(v);
  return v[0];
}

/// y[j] = x[j] · σ(gate[j]) for j < n (y may be x or gate).
inline void gateRow(const float *x, const float *gate, float *y, int64_t n) {
  using V = Isa;
  int64_t j = 0;
  for (; j + V::kLanes <= n; j += V::kLanes)
    V::store(y + j, V::mul(V::load(x + j), sigmoidVector<V>(V::load(gate + j))));
  if (j < n)
    V::storeFirst(y + j,
                  V::mul(V::loadFirst(x + j, n - j),
                         sigmoidVector<V>(V::loadFirst(gate + j, n - j))),
                  n - j);
}

/// y[j] = σ(x[j]) for j < n (y may be x), four vectors at a time (four
/// independent chains, see expVectors).
inline void sigmoidRow(const float *x, float *y, int64_t n) {
  using V = Isa;
  constexpr int64_t L = V::kLanes;
  int64_t j = 0;
  for (; j + 4 * L <= n; j += 4 * L) {
    typename V::Reg v[4];
    for (int u = 0; u < 4; ++u)
      v[u] = V::load(x + j + u * L);
    sigmoidVectors<V, 4>(v);
    for (int u = 0; u < 4; ++u)
      V::store(y + j + u * L, v[u]);
  }
  for (; j + L <= n; j += L)
    V::store(y + j, sigmoidVector<V>(V::load(x + j)));
  if (j < n)
    V::storeFirst(y + j, sigmoidVector<V>(V::loadFirst(x + j, n - j)), n - j);
}

/// y[j] = act(x[j] · scale + shift) for j < n (y may be x).
template <Act A>
inline void affineActivateRow(const float *x, float scale, float shift,
                              float *y, int64_t n) {
  using V = Isa;
  typename V::Reg sv = V::set1(scale), tv = V::set1(shift);
  int64_t j = 0;
  for (; j + V::kLanes <= n; j += V::kLanes)
    V::store(y + j, activateVector<A, V>(V::fma(V::load(x + j), sv, tv)));
  if (j < n)
    V::storeFirst(y + j,
                  activateVector<A, V>(V::fma(V::loadFirst(x + j, n - j), sv, tv)),
                  n - j);
}

/// p[j] = e^(p[j] − m) for j < n; returns their sum.
inline float expShiftedRow(float *p, float m, int64_t n) {
  using V = Isa;
  typename V::Reg mv = V::set1(m), sv = V::zero();
  int64_t j = 0;
  for (; j + V::kLanes <= n; j += V::kLanes) {
    typename V::Reg e = expVector<V>(V::sub(V::load(p + j), mv));
    V::store(p + j, e);
    sv = V::add(sv, e);
  }
  alignas(64) float lanes[V::kLanes];
  V::store(lanes, sv);
  float sum = 0.f;
  for (int64_t l = 0; l < V::kLanes; ++l)
    sum += lanes[l];
  for (; j < n; ++j)
    sum += (p[j] = expf32(p[j] - m));
  return sum;
}

/// Bias, activation and residual on a finished rows × cols tile of C. A
/// full-width tile runs its rows × kTileVectors vectors four at a time
/// (independent chains, see expVectors), whatever row they belong to.
template <Act A>
inline void epilogue(float *c, int64_t ldc, const float *bias,
                     const float *res, int64_t rows, int64_t cols) {
  if (!bias && !res && A == Act::None)
    return;
  using V = Isa;
  using R = typename V::Reg;
  constexpr int64_t L = V::kLanes, NV = kTileVectors;
  if (cols != kTileCols) {
    for (int64_t i = 0; i < rows; ++i)
      biasActivateRow<A>(c + i * ldc, bias ? bias[i] : 0.f,
                         res ? res + i * ldc : nullptr, c + i * ldc, cols);
    return;
  }
  // Vector q of the tile is row q / NV, columns (q % NV)·L ...
  auto at = [&](int64_t q) { return (q / NV) * ldc + (q % NV) * L; };
  int64_t total = rows * NV, q = 0;
  for (; q + 4 <= total; q += 4) {
    R v[4];
    for (int u = 0; u < 4; ++u) {
      v[u] = V::load(c + at(q + u));
      if (bias)
        v[u] = V::add(v[u], V::set1(bias[(q + u) / NV]));
    }
    activateVectors<A, V, 4>(v);
    for (int u = 0; u < 4; ++u)
      V::store(c + at(q + u),
               res ? V::add(v[u], V::load(res + at(q + u))) : v[u]);
  }
  for (; q < total; ++q) {
    R v = V::load(c + at(q));
    if (bias)
      v = V::add(v, V::set1(bias[q / NV]));
    v = activateVector<A, V>(v);
    V::store(c + at(q), res ? V::add(v, V::load(res + at(q))) : v);
  }
}

/// Whether the panel of C's global columns [j0, j0 + kTileCols) is a whole
/// tile the micro-kernel writes in place: inside N and inside one image
/// (otherwise it goes through a tile on the stack).
inline bool directPanel(const CLayout &cl, int64_t N, int64_t j0) {
  return N - j0 >= kTileCols && cl.imageRest(j0) >= kTileCols;
}

/// Asks for the `rows` rows of kTileCols floats at `offset` floats after p
/// (row stride ldc) to be brought into cache for writing. A prefetch never
/// faults, so they may lie past the end of C; the addresses are computed as
/// integers, not as (out-of-bounds) pointers.
inline void prefetchTile(const float *p, int64_t offset, int64_t ldc,
                         int64_t rows) {
  const uintptr_t base = reinterpret_cast<uintptr_t>(p) + 4 * offset;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < kTileCols; j += 16)
      __builtin_prefetch(reinterpret_cast<const void *>(base + 4 * (i * ldc + j)),
                         1, 3);
}

/// The K block [k0, k0 + kc) of whole panel p of a block, where it lies in
/// B (its one piece starts `src` floats into every row).
inline BPanel wholePanel(const BSource &b, int64_t src, int64_t k0) {
  if (b.koff)
    return {b.base + src, 0, b.koff + k0};
  return {b.base + src + k0 * b.kStride, b.kStride, nullptr};
}

/// Row tile m0 of packed A (M rows, K columns) times one panel of B
/// (`panel`: kc rows of the K block starting at k0, kTileCols floats each)
/// into C's global columns [j0, j0 + w): accumulating into C after the
/// first K block, and with the epilogue after the last. A panel narrower
/// than kTileCols (the last of N) or split between two images goes through
/// a full-width tile on the stack. `ahead` is how far (in floats of C's
/// row) the tile written next after this one lies, or 0: its lines are
/// prefetched for writing, so that the next tile's stores and its
/// epilogue's loads do not wait on lines of C that are not in cache.
/// `deferred`: a direct tile (directPanel) leaves its epilogue to the
/// caller (rowEpilogue), which runs it over several tiles' columns at once.
template <Act A>
inline void rowTile(int64_t m0, int64_t M, int64_t K, int64_t k0, int64_t kc,
                    const float *apacked, const BPanel &panel,
                    const float *bias, const float *res, float *c,
                    const CLayout &cl, int64_t j0, int64_t w, int64_t ahead,
                    bool deferred = false) {
  bool accumulate = k0 > 0, last = k0 + kc == K;
  const int64_t ldc = cl.ldc;
  int64_t rows = std::min(kTileRows, M - m0);
  const float *a = apacked + m0 * K + k0 * rows;
  const float *bm = bias ? bias + m0 : nullptr;
  if (directPanel(cl, j0 + w, j0)) {
    float *ct = c + m0 * ldc + cl.column(j0);
    const float *rt = res ? res + m0 * ldc + cl.column(j0, true) : nullptr;
    if (ahead) {
      prefetchTile(ct, ahead, ldc, rows);
      if (last && rt)
        prefetchTile(rt, ahead, ldc, rows);
    }
    microKernelRows(rows, kc, a, panel.b, panel.ldb, panel.koff, ct, ldc,
                    accumulate);
    if (last && !deferred)
      epilogue<A>(ct, ldc, bm, rt, rows, w);
    return;
  }
  // Through the stack tile, piece by piece (one per image it touches).
  alignas(64) float edge[kTileRows * kTileCols];
  auto pieces = [&](auto &&each) {
    for (int64_t off = 0; off < w;) {
      int64_t len = std::min(w - off, cl.imageRest(j0 + off));
      each(off, len);
      off += len;
    }
  };
  if (accumulate)
    pieces([&](int64_t off, int64_t len) {
      const float *from = c + m0 * ldc + cl.column(j0 + off);
      for (int64_t i = 0; i < rows; ++i)
        std::memcpy(edge + i * kTileCols + off, from + i * ldc,
                    sizeof(float) * len);
    });
  // Only the vectors that hold the panel's w columns are computed.
  microKernelRows(rows, kc, a, panel.b, panel.ldb, panel.koff, edge,
                  kTileCols, accumulate,
                  (w + kVectorFloats - 1) / kVectorFloats);
  pieces([&](int64_t off, int64_t len) {
    float *to = c + m0 * ldc + cl.column(j0 + off);
    for (int64_t i = 0; i < rows; ++i)
      std::memcpy(to + i * ldc, edge + i * kTileCols + off,
                  sizeof(float) * len);
    if (last)
      epilogue<A>(to, ldc, bm,
                  res ? res + m0 * ldc + cl.column(j0 + off, true) : nullptr,
                  rows, len);
  });
}

/// The deferred epilogues of row tile m0 over panels [p0, p1): each run of
/// direct panels whose columns are contiguous in C (one image) as one
/// pass of rows, so the activation's constants and chains are set up once
/// per row of the block instead of once per tile (the SiLU epilogue of a
/// K = 27 GEMM took a quarter of its time tile by tile).
template <Act A>
inline void rowEpilogue(int64_t m0, int64_t M, int64_t N, const float *bias,
                        const float *res, float *c, const CLayout &cl,
                        int64_t p0, int64_t p1) {
  const int64_t rows = std::min(kTileRows, M - m0), ldc = cl.ldc;
  auto full = [&](int64_t p) { return directPanel(cl, N, p * kTileCols); };
  for (int64_t p = p0; p < p1;) {
    if (!full(p)) {
      ++p;
      continue;
    }
    const int64_t j0 = p * kTileCols;
    int64_t q = p + 1;
    while (q < p1 && full(q) &&
           cl.column(q * kTileCols) == cl.column(j0) + (q - p) * kTileCols)
      ++q;
    epilogue<A>(c + m0 * ldc + cl.column(j0), ldc, bias ? bias + m0 : nullptr,
                res ? res + m0 * ldc + cl.column(j0, true) : nullptr, rows,
                (q - p) * kTileCols);
    p = q;
  }
}

/// Panels [p0, p1) of the packed GEMM (see packedGemm), run by the calling
/// thread with its own packing buffers: safe inside a parallel region.
template <Act A>
void gemmPanelRange(int64_t M, int64_t N, int64_t K, const float *apacked,
                    const BSource &b, const float *bias, const float *res,
                    float *c, const CLayout &cl, int64_t p0, int64_t p1) {
  // The thread's buffers, reused across calls. In a dlopen'ed model naming
  // a thread_local is a call to __tls_get_addr, so the loops below use a
  // local pointer to the packed block (and packBBlock reads the layout's
  // arrays through locals).
  thread_local std::vector<float> packedStore;
  thread_local BlockLayout layout;
  packedStore.resize(kBlockK * kPanelsPerBlock * kTileCols + kVectorFloats);
  float *const packed = packedStore.data();
  for (int64_t pb = p0; pb < p1; pb += kPanelsPerBlock) {
    int64_t pe = std::min(p1, pb + kPanelsPerBlock);
    int64_t n0 = pb * kTileCols, cols = std::min(N, pe * kTileCols) - n0;
    layout.build(b, n0, cols);
    // In locals: naming the thread_local is a __tls_get_addr call.
    const char *const whole = layout.whole.data();
    const PanelPiece *const pieces = layout.pieces.data();
    const int64_t *const first = layout.first.data();
    const bool packs = layout.packs;
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      int64_t kc = std::min(kBlockK, K - k0);
      if (packs)
        packBBlock(b, layout, k0, kc, packed);
      // Row tile by row tile across the block's panels: a tile's rows of C
      // are then written as consecutive stretches.
      for (int64_t m0 = 0; m0 < M; m0 += kTileRows) {
        for (int64_t p = pb; p < pe; ++p) {
          int64_t j0 = p * kTileCols;
          BPanel panel =
              whole[p - pb]
                  ? wholePanel(b, pieces[first[p - pb]].src, k0)
                  : BPanel{packed + (p - pb) * kc * kTileCols, kTileCols,
                           nullptr};
          rowTile<A>(m0, M, K, k0, kc, apacked, panel, bias, res, c, cl, j0,
                     std::min(kTileCols, N - j0), kPrefetchAhead,
                     /*deferred=*/true);
        }
        if (k0 + kc == K)
          rowEpilogue<A>(m0, M, N, bias, res, c, cl, pb, pe);
      }
    }
  }
}

/// Panels [p0, p1) of a GEMM whose B is already packed: `bpacked` holds
/// panel after panel, each K rows of kTileCols floats (columns past N may
/// hold anything: they reach no output). C's rows are ldc ≥ N rounded up
/// to whole vectors apart, so every panel, the last one of N included, is
/// computed in place: only the vectors that hold its columns, and the
/// columns of the last vector past N get values that nothing reads (no
/// tile through the stack and no copies, as rowTile needs for a C whose
/// rows end at N).
template <Act A>
void prepackedGemmPanelRange(int64_t M, int64_t N, int64_t K,
                             const float *apacked, const float *bpacked,
                             const float *bias, const float *res, float *c,
                             int64_t ldc, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t j0 = p * kTileCols, w = std::min(kTileCols, N - j0);
    const int64_t vectors = (w + kVectorFloats - 1) / kVectorFloats;
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const int64_t kc = std::min(kBlockK, K - k0);
      for (int64_t m0 = 0; m0 < M; m0 += kTileRows) {
        const int64_t rows = std::min(kTileRows, M - m0);
        float *ct = c + m0 * ldc + j0;
        microKernelRows(rows, kc, apacked + m0 * K + k0 * rows,
                        bpacked + (p * K + k0) * kTileCols, kTileCols,
                        nullptr, ct, ldc, k0 > 0, vectors);
        if (k0 + kc == K)
          epilogue<A>(ct, ldc, bias ? bias + m0 : nullptr,
                      res ? res + m0 * ldc + j0 : nullptr, rows, w);
      }
    }
  }
}

/// Panels of N columns.
constexpr int64_t panelCount(int64_t N) {
  return (N + kTileCols - 1) / kTileCols;
}

/// Columns of the row grid of a convolution's B (see gridGemmPanelRange):
/// `rows` output rows of rowStep columns, the first wo of each real.
inline int64_t gridColumns(const BSource &b) { return b.rows * b.rowStep; }

/// Whether B can be read on its row grid: one image of an implicit-GEMM
/// convolution whose taps are contiguous rows (colStep 1) of a source with
/// room for every whole grid panel's reads.
inline bool gridReadable(const BSource &b, int64_t N, int64_t K,
                         const CLayout &cl) {
  if (!b.koff || b.colStep != 1 || b.imageStride != 0 || cl.imageCols != 0 ||
      b.extent <= 0 || b.rowStep < b.wo || b.wo >= N || b.rows * b.wo != N)
    return false;
  int64_t reach = *std::max_element(b.koff, b.koff + K);
  return reach + panelCount(gridColumns(b)) * kTileCols <= b.extent;
}

/// Panels [p0, p1) of a GEMM over B's row grid: the columns of a
/// convolution's B (an output pixel's taps) read consecutive floats of its
/// padded or phase-split input along an output row and continue, past
/// rowStep − wo columns that reach no output (the padding), into the next
/// row. Run over that grid, every panel is one contiguous stretch of every
/// tap's row, so the micro-kernel reads B where it lies (no packing, no
/// panel straddling rows); C goes to a per-thread block buffer, from which
/// the epilogue writes each output row's real columns. The waste is
/// (rowStep − wo) / rowStep of the work: 1/81 at 80 wide, 1/21 at 20.
/// Measured on the Xeon of docs/benchmarks.md (session 11), stride-2 3×3
/// convolutions of yolo11n: 1.06–1.24× the packed form, bit-identical.
template <Act A>
void gridGemmPanelRange(int64_t M, int64_t K, const float *apacked,
                        const BSource &b, const float *bias, const float *res,
                        float *c, const CLayout &cl, int64_t p0, int64_t p1) {
  constexpr int64_t kBlockCols = kPanelsPerBlock * kTileCols;
  thread_local std::vector<float> blockStore;
  blockStore.resize(M * kBlockCols);
  float *const block = blockStore.data();
  const int64_t grid = gridColumns(b), step = b.rowStep, ldc = cl.ldc;
  for (int64_t pb = p0; pb < p1; pb += kPanelsPerBlock) {
    const int64_t pe = std::min(p1, pb + kPanelsPerBlock);
    const int64_t q0 = pb * kTileCols, q1 = std::min(grid, pe * kTileCols);
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const int64_t kc = std::min(kBlockK, K - k0);
      for (int64_t m0 = 0; m0 < M; m0 += kTileRows) {
        const int64_t rows = std::min(kTileRows, M - m0);
        for (int64_t p = pb; p < pe; ++p)
          microKernelRows(rows, kc, apacked + m0 * K + k0 * rows,
                          b.base + p * kTileCols, 0, b.koff + k0,
                          block + m0 * kBlockCols + (p - pb) * kTileCols,
                          kBlockCols, k0 > 0);
        if (k0 + kc < K)
          continue;
        // The row tile is finished: each output row's real columns.
        for (int64_t i = m0; i < m0 + rows; ++i) {
          const float *from = block + i * kBlockCols;
          for (int64_t q = q0; q < q1;) {
            const int64_t oy = q / step, ox = q % step;
            const int64_t len = std::min(q1 - q, step - ox);
            const int64_t real = std::min(len, b.wo - ox);
            if (real > 0) {
              const int64_t at = i * ldc + oy * b.wo + ox;
              biasActivateRow<A>(from + (q - q0), bias ? bias[i] : 0.f,
                                 res ? res + at : nullptr, c + at, real);
            }
            q += len;
          }
        }
      }
    }
  }
}

/// The packed GEMM: M rows of packed A (Packing.h, kTileRows tiles), N
/// columns of B (BSource; a batch of images side by side), K; C and the
/// residual (null or C's layout) as CLayout says. Call from outside a
/// parallel region: it opens its own, and each thread takes an equal
/// contiguous range of panels.
template <Act A>
void packedGemm(int64_t M, int64_t N, int64_t K, const float *apacked,
                const BSource &b, const float *bias, const float *res,
                float *c, const CLayout &cl) {
  if (gridReadable(b, N, K, cl)) {
    const int64_t panels = panelCount(gridColumns(b));
#pragma omp parallel
    {
      int64_t thread, threads;
      threadShare(thread, threads);
      gridGemmPanelRange<A>(M, K, apacked, b, bias, res, c, cl,
                            panels * thread / threads,
                            panels * (thread + 1) / threads);
    }
    return;
  }
  const int64_t panels = panelCount(N);
#pragma omp parallel
  {
    int64_t thread, threads;
    threadShare(thread, threads);
    gemmPanelRange<A>(M, N, K, apacked, b, bias, res, c, cl,
                      panels * thread / threads,
                      panels * (thread + 1) / threads);
  }
}

/// C = act(A·B + bias) + R for a packed A (M×K) and a dense row-major B
/// (K×N, row stride ldb); C and R have row stride ldc.
template <Act A>
void gemm(int64_t M, int64_t N, int64_t K, const float *apacked,
          const float *b, int64_t ldb, const float *bias, const float *res,
          float *c, int64_t ldc) {
  packedGemm<A>(M, N, K, apacked, denseB(b, ldb), bias, res, c, CLayout{ldc});
}

/// gemm over `images` images side by side: B image i at b + i·bStride
/// (N columns each), C and the residual at c + i·cStride, res + i·resStride.
template <Act A>
void batchedGemm(int64_t M, int64_t N, int64_t K, const float *apacked,
                 const float *b, int64_t ldb, const float *bias,
                 const float *res, float *c, int64_t ldc, int64_t images,
                 int64_t bStride, int64_t cStride, int64_t resStride) {
  packedGemm<A>(M, N * images, K, apacked, denseB(b, ldb, N, bStride), bias,
                res, c, CLayout{ldc, N, cStride, resStride});
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_GEMM_H
