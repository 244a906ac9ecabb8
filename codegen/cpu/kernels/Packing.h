//===- Packing.h - weight layout the CPU GEMM micro-kernels read --*- C++ -*-===//
//
// The packed layout of a GEMM's constant operand A (a convolution's weights,
// M output channels × K = Cin·kh·kw), shared by irmb-compile, which packs
// every weight matrix once while it writes the weights blob, and by the
// kernel library, whose micro-kernels read it. A is cut into row tiles of
// `tileRows` rows (the last tile keeps the rows that are left, no zero
// padding); each tile is stored k-major, so one K step of a micro-kernel
// reads its rows' values as one contiguous group:
//
//   packed[t·tileRows·K + k·rows(t) + i] = A[t·tileRows + i][k]
//
// and the K block [k0, k1) of tile t starts at t·tileRows·K + k0·rows(t).
// The packed matrix has exactly M·K floats. The direct convolution's
// weights have the transposed arrangement (packCoLanes: output channels in
// lanes). Plain C++, no intrinsics: the emitter (built without -march)
// includes it too.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_PACKING_H
#define IRMB_CODEGEN_CPU_KERNELS_PACKING_H

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace irmb::kernels {

/// Rows of the micro-kernel tile of each ISA the CPU target compiles for
/// (the A operand is packed for it): AVX-512 8 rows × 48 columns, AVX2 6 ×
/// 16, SSE (no AVX2) 4 × 8.
constexpr int64_t kAvx512TileRows = 8, kAvx2TileRows = 6, kSseTileRows = 4;
/// Columns of each ISA's tile (a GEMM panel of B), which irmb-select-kernels
/// sizes Winograd by.
constexpr int64_t kAvx512TileCols = 48, kAvx2TileCols = 16, kSseTileCols = 8;
/// Output channels per block of the direct stride-2 convolution
/// (DirectConv.h; its weights are packed for them, packCoLanes): AVX-512 32
/// (two vectors, so 32-, 64- and 128-channel layers fill every lane; the
/// GEMM's 48 left a third of them empty), AVX2 16, SSE 8.
constexpr int64_t kAvx512DirectCols = 32, kAvx2DirectCols = 16,
                  kSseDirectCols = 8;

/// Packs the row-major M×K matrix `a` into `packed` (M·K floats) for
/// micro-kernel tiles of `tileRows` rows.
template <typename T>
inline void packWeights(const T *a, int64_t M, int64_t K, int64_t tileRows,
                        T *packed) {
  for (int64_t m0 = 0; m0 < M; m0 += tileRows) {
    int64_t rows = std::min(tileRows, M - m0);
    T *tile = packed + m0 * K;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < rows; ++i)
        tile[k * rows + i] = a[(m0 + i) * K + k];
  }
}

/// packWeights of the M×K matrix A[m][k] = at[k·lda + m] (A given
/// transposed, e.g. attention's keys [d][token] as the token × d operand):
/// each K step of a tile reads `rows` consecutive floats.
template <typename T>
inline void packTransposed(const T *at, int64_t lda, int64_t M, int64_t K,
                           int64_t tileRows, T *packed) {
  for (int64_t m0 = 0; m0 < M; m0 += tileRows) {
    int64_t rows = std::min(tileRows, M - m0);
    T *tile = packed + m0 * K;
    for (int64_t k = 0; k < K; ++k)
      std::memcpy(tile + k * rows, at + k * lda + m0, sizeof(T) * rows);
  }
}

/// packWeights for each of `groups` independent M×K matrices stored one
/// after the other (a grouped convolution's weights).
template <typename T>
inline void packGroupedWeights(const T *a, int64_t groups, int64_t M, int64_t K,
                               int64_t tileRows, T *packed) {
  for (int64_t g = 0; g < groups; ++g)
    packWeights(a + g * M * K, M, K, tileRows, packed + g * M * K);
}

/// Packs the row-major M×K matrix `a` (a 3×3 convolution's OIHW weights,
/// K = Cin·9) for the direct convolution (DirectConv.h), output channels in
/// vector lanes: blocks of `lanes` rows, each stored k-major,
///
///   packed[(b·K + k)·lanes + j] = A[b·lanes + j][k]   (0 where b·lanes + j ≥ M)
///
/// so a K step reads one block's `lanes` weights as consecutive floats;
/// `packed` holds ceil(M / lanes)·lanes·K floats.
template <typename T>
inline void packCoLanes(const T *a, int64_t M, int64_t K, int64_t lanes,
                        T *packed) {
  for (int64_t b = 0; b * lanes < M; ++b)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < lanes; ++j) {
        int64_t m = b * lanes + j;
        packed[(b * K + k) * lanes + j] = m < M ? a[m * K + k] : T(0);
      }
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_PACKING_H
