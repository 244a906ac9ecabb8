//===- WinogradTransforms.h - Winograd F(m×m, 3×3) matrices -------*- C++ -*-===//
//
// The three matrices of Lavin & Gray's minimal filtering algorithm
// F(m×m, 3×3) for m = 2 (4×4 input tiles, 16 multiplies per 4 outputs
// instead of 36) and m = 4 (6×6 tiles, interpolation points 0, ±1, 1/2,
// −2, ∞; 36 multiplies per 16 outputs instead of 144):
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// for a 3×3 filter g and an (m+2)×(m+2) input tile d. Shared by
// irmb-compile, which transforms every Winograd convolution's weights once
// (in double) while it writes the weights blob, and by the kernel library
// (Winograd.h), which applies Bᵀ and Aᵀ at run time. Plain C++, no
// intrinsics: the emitter (built without -march) includes it too.
//
// Transformed weights: U[ξ][co][ci] with ξ = i·(m+2) + j the position in
// the transformed tile; each U[ξ] is an M = Cout, K = Cin GEMM operand and
// is packed for the micro-kernels like any other weight (Packing.h).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CPU_KERNELS_WINOGRADTRANSFORMS_H
#define IRMB_CODEGEN_CPU_KERNELS_WINOGRADTRANSFORMS_H

#include <cstdint>
#include <vector>

namespace irmb::kernels {

/// The matrices of F(M×M, 3×3); M is 2 or 4.
template <int64_t M> struct Winograd;

template <> struct Winograd<2> {
  static constexpr int64_t kTile = 4;
  static constexpr float kBt[4][4] = {
      {1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr double kG[4][3] = {
      {1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr float kAt[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

template <> struct Winograd<4> {
  static constexpr int64_t kTile = 6;
  // Points 0, 1, −1, 1/2, −2, ∞ (Barabasz et al. 2020): 4× smaller worst
  // fp32 error than 0, ±1, ±2 for two more input-transform coefficients.
  static constexpr float kBt[6][6] = {
      {1, -1.5f, -2, 1.5f, 1, 0},     {0, -1, 0.5f, 2.5f, 1, 0},
      {0, 1, -2.5f, 0.5f, 1, 0},      {0, -2, -1, 2, 1, 0},
      {0, 0.5f, -1, -0.5f, 1, 0},     {0, 1, -1.5f, -2, 1.5f, 1}};
  static constexpr double kG[6][3] = {{1, 0, 0},
                                      {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                      {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                      {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                      {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                      {0, 0, 1}};
  static constexpr float kAt[4][6] = {{1, 1, 1, 1, 1, 0},
                                      {0, 1, -1, 0.5f, -2, 0},
                                      {0, 1, 1, 0.25f, 4, 0},
                                      {0, 1, -1, 0.125f, -8, 1}};
};

/// The transformed weights U[ξ][co][ci] = (G g[co][ci] Gᵀ)[ξ] of 3×3
/// weights w [CO][CI][3][3], computed in double.
template <int64_t M, typename T>
std::vector<float> winogradWeights(const T *w, int64_t CO, int64_t CI) {
  using Wg = Winograd<M>;
  constexpr int64_t kA = Wg::kTile;
  std::vector<float> u(kA * kA * CO * CI);
  for (int64_t co = 0; co < CO; ++co)
    for (int64_t ci = 0; ci < CI; ++ci) {
      const T *g = w + (co * CI + ci) * 9;
      double gg[kA][3]; // G · g
      for (int64_t i = 0; i < kA; ++i)
        for (int64_t c = 0; c < 3; ++c) {
          double s = 0;
          for (int64_t r = 0; r < 3; ++r)
            s += Wg::kG[i][r] * static_cast<double>(g[r * 3 + c]);
          gg[i][c] = s;
        }
      for (int64_t i = 0; i < kA; ++i)
        for (int64_t j = 0; j < kA; ++j) {
          double s = 0;
          for (int64_t c = 0; c < 3; ++c)
            s += gg[i][c] * Wg::kG[j][c];
          u[((i * kA + j) * CO + co) * CI + ci] = static_cast<float>(s);
        }
    }
  return u;
}

/// The stride, in floats, between two of the (m+2)² position blocks of
/// `floats` floats each: whole 64-byte lines, an odd number of them. Blocks
/// whose size is a multiple of 4 KiB (a 160 × 160 map's 1600 tiles × 16
/// channels) would otherwise start in the same L1 set, and the transforms,
/// which touch all (m+2)² blocks at the same offset in turn, would evict
/// their own lines (measured: 1.5× on such a layer).
constexpr int64_t winogradPositionStride(int64_t floats) {
  int64_t lines = (floats + 15) / 16;
  return 16 * (lines % 2 == 0 ? lines + 1 : lines);
}

/// How winogradConv3x3 cuts its tiles into bands, each run through all
/// three phases before the next, so that a band's transformed input V and
/// GEMM results M stay in cache instead of going out to memory and back.
/// A band is `rows` tile rows of one image or, with rows = all of them,
/// `images` whole images.
struct WinogradBands {
  int64_t rows, images;
};

/// Images whose V and M together are smaller than this run unbanded (all
/// images' tiles in one band): they stay in the last-level cache anyway.
constexpr int64_t kWinogradBandAbove = 3 * 1024 * 1024;
/// Bytes of V and M per band the plan aims at (with U and the thread's
/// staging, about what a 512 KiB L2 holds) ...
constexpr int64_t kWinogradBandBytes = 384 * 1024;
/// ... but no fewer tiles than this: each of a band's GEMMs is only its
/// tiles wide (narrow GEMMs waste their last panel).
constexpr int64_t kWinogradMinBandTiles = 64;

/// How well `tiles` GEMM columns fill the AVX-512 micro-kernel's panels
/// (48 columns, 3 vectors): the columns over what their panels cost, a
/// whole panel 3, a last one of 2 vectors 2.2 and of one 1.5 (its 8
/// broadcasts feed only 8 FMAs a step). Measured in winogradConv3x3 at
/// 80² (20 tiles a row), Zen 5: bands of 3 rows (60 tiles: 48 + 12) spent
/// 28 % of the GEMM time in the 12-column panel; bands of 4 (48 + 32) ran
/// yolov10n 1.2 % faster at 1 and 2 threads.
constexpr double winogradPanelFill(int64_t tiles) {
  int64_t vectors = (tiles % 48 + 15) / 16;
  double last = vectors == 0 ? 0 : vectors == 1 ? 1.5 : vectors == 2 ? 2.2 : 3;
  return static_cast<double>(tiles) / (16 * (tiles / 48 * 3 + last));
}

/// The band plan of winogradConv3x3<ci, h, w, co, m> for `images` images
/// (the same on every ISA: the compiler sizes the scratch from it). Every
/// band reads all of U again, so bands are used only where the U they
/// re-read is less than half the V and M traffic they keep in cache.
/// Measured on Zen 3 (docs/design-notes.md): 1.5× on 16 channels at
/// 160 × 160, 1.15× on 64 at 80 × 80; 0.92× on 64 and 128 channels at
/// 40 × 40, which these rules leave unbanded.
constexpr WinogradBands winogradBands(int64_t ci, int64_t h, int64_t w,
                                      int64_t co, int64_t m, int64_t images) {
  int64_t tx = (w + m - 1) / m, ty = (h + m - 1) / m;
  int64_t positions = (m + 2) * (m + 2), perTile = positions * (ci + co) * 4;
  int64_t unbanded = perTile * tx * ty, weights = positions * ci * co * 4;
  WinogradBands whole{ty, images};
  if (unbanded < kWinogradBandAbove)
    return whole;
  int64_t tiles = kWinogradBandBytes / perTile;
  if (tiles < kWinogradMinBandTiles)
    tiles = kWinogradMinBandTiles;
  int64_t rows = tiles / tx < 1 ? 1 : tiles / tx;
  int64_t bands = (ty + rows - 1) / rows;
  if (rows >= ty || weights * (bands - 1) > unbanded / 2)
    return whole;
  // Up to twice the rows where that fills the GEMM panels better.
  int64_t best = rows;
  for (int64_t r = rows + 1; r < 2 * rows && r < ty; ++r)
    if (winogradPanelFill(r * tx) > winogradPanelFill(best * tx))
      best = r;
  return {best, 1};
}

/// Tiles in the largest band of winogradBands(...).
constexpr int64_t winogradBandTiles(int64_t ci, int64_t h, int64_t w,
                                    int64_t co, int64_t m, int64_t images) {
  WinogradBands b = winogradBands(ci, h, w, co, m, images);
  return b.images * b.rows * ((w + m - 1) / m);
}

/// Floats of scratch winogradConv3x3<CI, H, W, CO, M> needs for `images`
/// images (`lanes`: the vector width it is built for, or more; the GEMM
/// panels are 3 vectors wide at most): one band's transformed input
/// [ξ][CI][tiles, rounded up to whole panels] and GEMM results
/// [ξ][CO][tiles, rounded up to whole panels], each position at
/// winogradPositionStride, plus one
/// vector of slack. None for a plan of row bands: each thread keeps its
/// own bands' V and M (winogradConv3x3).
constexpr int64_t winogradScratchFloats(int64_t ci, int64_t h, int64_t w,
                                        int64_t co, int64_t m, int64_t lanes,
                                        int64_t images = 1) {
  if (winogradBands(ci, h, w, co, m, images).rows < (h + m - 1) / m)
    return 0;
  int64_t a = m + 2, tiles = winogradBandTiles(ci, h, w, co, m, images);
  // Rounding up to whole panels of at most 3 vectors adds less than 3 vectors.
  int64_t padded = tiles + 3 * lanes;
  return a * a * (winogradPositionStride(padded * ci) +
                  winogradPositionStride(padded * co)) +
         2 * lanes;
}

} // namespace irmb::kernels

#endif // IRMB_CODEGEN_CPU_KERNELS_WINOGRADTRANSFORMS_H
