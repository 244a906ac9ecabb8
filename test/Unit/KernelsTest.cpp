//===- KernelsTest.cpp - CPU kernels against LibTorch ---------------------===//
//
// The kernels of codegen/cpu/kernels/Kernels.h on shapes the seed models do
// not have (odd channel counts, groups, strides, dilations, non-square maps
// that are not multiples of anything, windows on several grids), against
// ATen.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/kernels/Kernels.h"

#include <ATen/ATen.h>
#include <omp.h>
#include <gtest/gtest.h>

using namespace irmb::kernels;

namespace {

double maxRelative(const at::Tensor &got, const at::Tensor &want) {
  return ((got - want).abs().max() / (want.abs().max() + 1e-6)).item<double>();
}

template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t K, int64_t S,
          int64_t P, int64_t D, int64_t G>
void checkConv() {
  at::manual_seed(CI * 131 + CO * 7 + K);
  at::Tensor x = at::randn({1, CI, H, W}), w = at::randn({CO, CI / G, K, K});
  at::Tensor b = at::randn({CO});
  at::Tensor want = at::silu(at::conv2d(x, w, b, {S, S}, {P, P}, {D, D}, G));
  at::Tensor got = at::empty_like(want);
  std::vector<float> col(convScratchFloats(CI, H, W, K, S, P, D, G) + 1);
  std::vector<float> packed(w.numel());
  packGroupedWeights(w.data_ptr<float>(), G, CO / G, CI / G * K * K, kTileRows,
                     packed.data());
  conv2d<CI, H, W, CO, K, S, P, D, G, Act::Silu>(
      x.data_ptr<float>(), packed.data(), b.data_ptr<float>(), nullptr,
      got.data_ptr<float>(), col.data());
  EXPECT_LT(maxRelative(got, want), 1e-5);
  // The same with a residual added after the activation.
  at::Tensor r = at::randn(want.sizes());
  conv2d<CI, H, W, CO, K, S, P, D, G, Act::Silu>(
      x.data_ptr<float>(), packed.data(), b.data_ptr<float>(),
      r.data_ptr<float>(), got.data_ptr<float>(), col.data());
  EXPECT_LT(maxRelative(got, want + r), 1e-5);
}

TEST(Kernels, Conv2dOddShapes) {
  checkConv<5, 11, 13, 7, 3, 2, 1, 1, 1>(); // odd everything, stride 2
  checkConv<6, 9, 10, 9, 3, 1, 2, 2, 3>();  // groups 3, dilation 2
  checkConv<33, 7, 5, 17, 1, 1, 0, 1, 1>(); // 1x1 read in place
  checkConv<8, 12, 12, 4, 5, 3, 0, 1, 2>(); // 5x5, stride 3, no padding
  // Stride 2 through the phase planes (32 output columns): odd widths,
  // no padding, padding 2.
  checkConv<3, 21, 63, 16, 3, 2, 1, 1, 1>();
  checkConv<4, 10, 64, 8, 2, 2, 0, 1, 1>();
  checkConv<5, 9, 63, 8, 5, 2, 2, 1, 1>();
  // K = 9·40 crosses K blocks; 13 output channels leave a narrow last row
  // tile; 27 columns per row split panels across output rows.
  checkConv<40, 6, 27, 13, 3, 1, 1, 1, 1>();
  checkConv<64, 9, 7, 19, 3, 2, 1, 1, 1>();
  checkConv<300, 5, 3, 9, 1, 1, 0, 1, 1>();
}

/// Convolutions whose B is read on its row grid (gridGemmPanelRange: stride
/// 2 through the phase planes, padded stride 1, groups), with the scratch
/// exactly as large as convScratchFloats says (the grid's last panel reads
/// into its slack: ASan in scripts/sanitize.sh sees any read past it), on
/// 1, 2, 3 and 7 threads (grid panels split between them; 7 leaves some
/// without any at 20 × 10), bit-identical across thread counts.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t K, int64_t S,
          int64_t P, int64_t G>
void checkGridConv() {
  at::manual_seed(CI * 17 + W);
  at::Tensor x = at::randn({1, CI, H, W}), w = at::randn({CO, CI / G, K, K});
  at::Tensor b = at::randn({CO}), r;
  at::Tensor want = at::silu(at::conv2d(x, w, b, {S, S}, {P, P}, {1, 1}, G));
  r = at::randn(want.sizes());
  std::vector<float> packed(w.numel());
  packGroupedWeights(w.data_ptr<float>(), G, CO / G, CI / G * K * K, kTileRows,
                     packed.data());
  const int before = omp_get_max_threads();
  at::Tensor first;
  for (int threads : {1, 2, 3, 7}) {
    SCOPED_TRACE(threads);
    omp_set_num_threads(threads);
    std::vector<float> scratch(convScratchFloats(CI, H, W, K, S, P, 1, G),
                               NAN);
    at::Tensor got = at::full(want.sizes(), NAN);
    conv2d<CI, H, W, CO, K, S, P, 1, G, Act::Silu>(
        x.data_ptr<float>(), packed.data(), b.data_ptr<float>(),
        r.data_ptr<float>(), got.data_ptr<float>(), scratch.data());
    EXPECT_LT(maxRelative(got, want + r), 1e-5);
    if (threads == 1)
      first = got;
    else
      EXPECT_TRUE(at::equal(got, first));
  }
  omp_set_num_threads(before);
}

TEST(Kernels, Conv2dOnRowGrid) {
  checkGridConv<16, 40, 20, 24, 3, 2, 1, 1>();  // 10 columns of 11 real
  checkGridConv<8, 33, 97, 13, 3, 2, 1, 1>();   // odd map, 49 of 50
  checkGridConv<12, 20, 37, 18, 3, 1, 1, 3>();  // padded stride 1, groups
  checkGridConv<6, 15, 15, 9, 5, 1, 2, 1>();    // 5×5: slack (K − 1) more
  checkGridConv<4, 21, 64, 8, 5, 2, 2, 1>();    // stride 2, 5×5
  // Stride 2 in bands (phaseBandedConv; on AVX-512 16 panels, about 16
  // phase rows a band): several bands a thread up to 3 threads, so rows are
  // split while other threads' GEMMs read theirs; 5×5 reaches two rows into
  // the next thread's range.
  checkGridConv<16, 160, 96, 20, 3, 2, 1, 1>();
  checkGridConv<16, 130, 141, 8, 5, 2, 2, 1>();
  // A phase row wider than two tiles (some threads' panels inside one row);
  // an even K on an odd map (its last phase row is never split nor read:
  // the NaN scratch shows it); 256 channels (the band clamped to one block
  // of panels, several on every thread).
  checkGridConv<8, 21, 200, 8, 3, 2, 1, 1>();
  checkGridConv<4, 11, 13, 8, 2, 2, 0, 1>();
  checkGridConv<256, 34, 160, 8, 3, 2, 1, 1>();
}

/// conv2d's 3×3, stride-2, padding-1 convolutions of at most
/// kStemMaxInputChannels input channels (on AVX-512 stemConv3x3s2,
/// StemConv.h; elsewhere the phase-split GEMM) against ATen, for two
/// images with gaps between their tensors and a residual, the output filled
/// with NaN first (every value is written, nothing between the images), on
/// 1, 2, 3 and 7 threads (output rows split between them), bit-identical
/// across thread counts.
template <int64_t CI, int64_t H, int64_t W, int64_t CO> void checkStemConv() {
  constexpr int64_t HO = (H - 1) / 2 + 1, WO = (W - 1) / 2 + 1;
  constexpr int64_t XS = CI * H * W + 5, YS = CO * HO * WO + 7;
  at::manual_seed(CI * 41 + W * 5 + CO);
  at::Tensor x = at::randn({2, XS}), w = at::randn({CO, CI, 3, 3});
  at::Tensor b = at::randn({CO}), r = at::randn({2, YS});
  std::vector<float> packed(w.numel());
  packWeights(w.data_ptr<float>(), CO, CI * 9, kTileRows, packed.data());
  std::vector<float> scratch(2 * convScratchFloats(CI, H, W, 3, 2, 1, 1, 1));
  const int before = omp_get_max_threads();
  at::Tensor first;
  for (int threads : {1, 2, 3, 7}) {
    SCOPED_TRACE(threads);
    omp_set_num_threads(threads);
    at::Tensor got = at::full({2, YS}, NAN);
    conv2d<CI, H, W, CO, 3, 2, 1, 1, 1, Act::Silu>(
        x.data_ptr<float>(), packed.data(), b.data_ptr<float>(),
        r.data_ptr<float>(), got.data_ptr<float>(), scratch.data(), 2, XS, YS,
        YS);
    for (int64_t i = 0; i < 2; ++i) {
      SCOPED_TRACE(i);
      at::Tensor xi = x[i].narrow(0, 0, CI * H * W).view({1, CI, H, W});
      at::Tensor want =
          at::silu(at::conv2d(xi, w, b, {2, 2}, {1, 1})).flatten() +
          r[i].narrow(0, 0, CO * HO * WO);
      EXPECT_LT(maxRelative(got[i].narrow(0, 0, CO * HO * WO), want), 1e-5);
      EXPECT_TRUE(at::isnan(got[i].narrow(0, CO * HO * WO, YS - CO * HO * WO))
                      .all()
                      .item<bool>());
    }
    if (threads == 1)
      first = got;
    else
      EXPECT_TRUE(at::equal(got.nan_to_num(0.f), first.nan_to_num(0.f)));
  }
  omp_set_num_threads(before);
}

TEST(Kernels, StemConv) {
  checkStemConv<3, 37, 53, 16>(); // 27 pixels a row: a partial group
  checkStemConv<1, 8, 9, 8>();    // one channel, odd width, one tile of A
  checkStemConv<4, 20, 66, 20>(); // 33 pixels; 16 + 4 channels (a short
                                  // last pass and A tile)
  checkStemConv<2, 2, 2, 16>();   // one output pixel
  checkStemConv<3, 64, 64, 32>(); // two passes of 16 channels
}

/// The direct 3×3 stride-2 convolution (DirectConv.h) against ATen and
/// against conv2d's implicit GEMM through phase planes, which sums in the
/// same order: the results must be bit-identical, on 1, 2, 3 and 7 threads
/// (rows split between them; 7 leaves some without any on small maps), for
/// two images with a residual (image strides past the images' ends), the
/// output filled with NaN first.
template <int64_t CI, int64_t H, int64_t W, int64_t CO> void checkDirectConv() {
  constexpr int64_t HO = (H - 1) / 2 + 1, WO = (W - 1) / 2 + 1, K = CI * 9;
  at::manual_seed(CI * 29 + W * 3 + CO);
  at::Tensor x = at::randn({2, CI, H, W}), w = at::randn({CO, CI, 3, 3});
  at::Tensor b = at::randn({CO}), r = at::randn({2, CO, HO, WO});
  at::Tensor want =
      at::silu(at::conv2d(x, w, b, {2, 2}, {1, 1}, {1, 1}, 1)) + r;
  std::vector<float> lanes(directConvWeightFloats(CI, CO), NAN);
  packCoLanes(w.data_ptr<float>(), CO, K, kDirectTileCols, lanes.data());
  std::vector<float> packed(w.numel());
  packWeights(w.data_ptr<float>(), CO, K, kTileRows, packed.data());
  std::vector<float> scratch(convScratchFloats(CI, H, W, 3, 2, 1, 1, 1));
  at::Tensor viaGemm = at::empty_like(want);
  for (int64_t i = 0; i < 2; ++i)
    conv2d<CI, H, W, CO, 3, 2, 1, 1, 1, Act::Silu>(
        x[i].data_ptr<float>(), packed.data(), b.data_ptr<float>(),
        r[i].data_ptr<float>(), viaGemm[i].data_ptr<float>(), scratch.data());
  const int before = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    SCOPED_TRACE(threads);
    omp_set_num_threads(threads);
    at::Tensor got = at::full(want.sizes(), NAN);
    directConv3x3s2<CI, H, W, CO, Act::Silu>(
        x.data_ptr<float>(), lanes.data(), b.data_ptr<float>(),
        r.data_ptr<float>(), got.data_ptr<float>(), 2, CI * H * W,
        CO * HO * WO, CO * HO * WO);
    EXPECT_LT(maxRelative(got, want), 1e-5);
    EXPECT_TRUE(at::equal(got, viaGemm));
  }
  omp_set_num_threads(before);
}

// A row of WO pixels runs in ceil(WO / R) equal tiles (R = 12 pixels on
// AVX-512, 6 on AVX2); the splits in the comments are AVX-512's. Together
// the shapes run every AVX-512 tile height (1–12 pixels).
TEST(Kernels, DirectConvStride2) {
  checkDirectConv<16, 40, 20, 24>();  // a partial channel block; 10 pixels
  checkDirectConv<5, 11, 13, 7>();    // odd map: right border copy; 7
  checkDirectConv<3, 21, 63, 16>();   // the stem's 3 channels, odd: 10+11+11
  checkDirectConv<40, 9, 7, 19>();    // channel blocks of 16 + 16 + 8; 4
  checkDirectConv<7, 9, 200, 40>();   // 100 pixels a row: 11s and 12s
  checkDirectConv<4, 1, 1, 8>();      // one pixel: every tap but one padding
  checkDirectConv<8, 2, 3, 5>();      // narrower than a tile: 2
  checkDirectConv<6, 6, 26, 33>();    // 13 pixels: 6 + 7
  checkDirectConv<64, 20, 20, 64>();  // yolo-like, 4 channel blocks (AVX2)
  checkDirectConv<17, 7, 52, 65>();   // 26 pixels: 8 + 9 + 9; 65 channels
  checkDirectConv<33, 5, 53, 32>();   // 27 pixels, odd: 9 + 9 + 9
  checkDirectConv<9, 3, 55, 70>();    // 28 pixels, odd: 9 + 9 + 10
  checkDirectConv<7, 5, 31, 40>();    // 16 pixels, odd: 8 + 8, no middle tile
  checkDirectConv<5, 4, 6, 20>();     // 3 pixels
  checkDirectConv<4, 3, 10, 16>();    // 5 pixels
  checkDirectConv<6, 3, 12, 17>();    // 6 pixels
  checkDirectConv<3, 5, 18, 33>();    // 9 pixels
  checkDirectConv<2, 4, 22, 32>();    // 11 pixels
}

/// Every micro-kernel tile shape (rows 1..8, 1..3 vectors: the AVX-512 tile
/// is 8 × 3, AVX2 6 × 2) against plain loops, overwriting and accumulating,
/// with this build's ISA.
template <int64_t R, int64_t NV> void checkMicroKernel() {
  constexpr int64_t NR = NV * kVectorFloats, KC = 37, LDC = NR + 5;
  std::vector<float> a(KC * R), b(KC * NR), c(R * LDC, 0.5f), want(R * LDC);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<float>((i * 7) % 11) - 5.f;
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<float>((i * 5) % 13) / 4.f - 1.f;
  for (bool accumulate : {false, true}) {
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < LDC; ++j) {
        float s = accumulate ? c[i * LDC + j] : 0.f;
        if (j < NR)
          for (int64_t k = 0; k < KC; ++k)
            s += a[k * R + i] * b[k * NR + j];
        want[i * LDC + j] = j < NR ? s : c[i * LDC + j];
      }
    microKernel<Isa, R, NV>(KC, a.data(), b.data(), NR, nullptr, c.data(), LDC,
                            accumulate);
    for (int64_t i = 0; i < R * LDC; ++i)
      ASSERT_NEAR(c[i], want[i], 1e-3 * (1 + std::abs(want[i])))
          << R << "x" << NV << " element " << i << " accumulate "
          << accumulate;
  }
}

template <int64_t NV> void checkMicroKernelRows() {
  checkMicroKernel<1, NV>();
  checkMicroKernel<2, NV>();
  checkMicroKernel<3, NV>();
  checkMicroKernel<4, NV>();
  checkMicroKernel<5, NV>();
  checkMicroKernel<6, NV>();
  checkMicroKernel<7, NV>();
  checkMicroKernel<8, NV>();
}

TEST(Kernels, MicroKernelTiles) {
  checkMicroKernelRows<1>();
  checkMicroKernelRows<2>();
  checkMicroKernelRows<3>();
}

/// The kernels' scratch allocator (HugePages.h): large buffers start on a
/// 2 MiB boundary and keep their contents when a vector grows past the
/// threshold and shrinks back; small ones come from operator new; a size
/// past what memory can hold throws instead of wrapping around; the
/// thread's shared scratch keeps its largest buffer.
TEST(Kernels, HugePageScratch) {
  HugeVector<float> v(16);
  for (int i = 0; i < 16; ++i)
    v[i] = static_cast<float>(i);
  v.resize(kHugePageMinBytes / sizeof(float) + 1, 7.f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePageBytes, 0u);
  EXPECT_EQ(v[15], 15.f);
  EXPECT_EQ(v.back(), 7.f);
  v.resize(3 * kHugePageBytes / sizeof(float)); // more than one huge page
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePageBytes, 0u);
  v.back() = 1.f;
  EXPECT_EQ(v[15], 15.f);
  HugeVector<float>(4).swap(v); // back to a small buffer
  EXPECT_EQ(v.size(), 4u);
  HugePageAllocator<float> alloc;
  EXPECT_THROW(alloc.allocate(static_cast<std::size_t>(-1) / sizeof(float)),
               std::bad_alloc);
  // The thread's scratch grows to the largest request and stays there.
  float *big = threadScratch(kHugePageBytes / sizeof(float) + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % kHugePageBytes, 0u);
  big[kHugePageBytes / sizeof(float)] = 3.f;
  EXPECT_EQ(threadScratch(16), big);
}

/// The packed GEMM on shapes around every tile, panel and K-block edge,
/// against ATen, with bias, activation and residual, and a row stride
/// wider than N (a concat slot).
TEST(Kernels, PackedGemmEdges) {
  at::manual_seed(11);
  for (int64_t M : {int64_t{1}, int64_t{5}, kTileRows, kTileRows + 1, 3 * kTileRows + 2, int64_t{67}})
    // Last panels of 1, 3 and 7 columns (one vector), L + 5 (two vectors)
    // and kTileCols − 1 (the full tile).
    for (int64_t N : {int64_t{1}, kTileCols - 1, kTileCols + 3,
                      2 * kTileCols + kVectorFloats + 5,
                      kPanelsPerBlock * kTileCols + 7, int64_t{1000}})
      for (int64_t K : {int64_t{1}, int64_t{7}, kBlockK, kBlockK + 9, 2 * kBlockK + 1}) {
        int64_t ldc = N + 3;
        at::Tensor a = at::randn({M, K}), b = at::randn({K, N}),
                   bias = at::randn({M}), r = at::randn({M, ldc});
        at::Tensor want = at::relu(at::matmul(a, b) + bias.unsqueeze(1)) +
                          r.slice(1, 0, N);
        std::vector<float> packed(M * K);
        packWeights(a.data_ptr<float>(), M, K, kTileRows, packed.data());
        at::Tensor c = at::zeros({M, ldc});
        gemm<Act::Relu>(M, N, K, packed.data(), b.data_ptr<float>(), N,
                        bias.data_ptr<float>(), r.data_ptr<float>(),
                        c.data_ptr<float>(), ldc);
        EXPECT_LT(maxRelative(c.slice(1, 0, N), want), 1e-5)
            << M << "x" << N << "x" << K;
        // Columns past N (another tensor's channels) stay untouched.
        EXPECT_EQ(c.slice(1, N, ldc).abs().max().item<float>(), 0.f)
            << M << "x" << N << "x" << K;
      }
}

/// A 3×3 stride-1 convolution by Winograd F(M×M, 3×3) against ATen's
/// direct one (bias, SiLU and a residual fused); the error bound grows with
/// the tile (measured against the double-precision convolution, relative to
/// the largest output: 1–5e-7 for M = 2, as the direct GEMM; 1–7e-6 for
/// M = 4).
template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t M>
void checkWinograd(double bound) {
  at::manual_seed(CI * 17 + H * 5 + W + CO * 3 + M);
  at::Tensor x = at::randn({1, CI, H, W}), w = at::randn({CO, CI, 3, 3});
  at::Tensor b = at::randn({CO}), r = at::randn({1, CO, H, W});
  at::Tensor want =
      at::silu(at::conv2d(x.to(at::kDouble), w.to(at::kDouble),
                          b.to(at::kDouble), {1, 1}, {1, 1}))
          .to(at::kFloat) +
      r;
  std::vector<float> u = winogradWeights<M>(w.data_ptr<float>(), CO, CI);
  constexpr int64_t kA = M + 2;
  std::vector<float> packed(u.size());
  for (int64_t xi = 0; xi < kA * kA; ++xi)
    packWeights(u.data() + xi * CO * CI, CO, CI, kTileRows,
                packed.data() + xi * CO * CI);
  std::vector<float> scratch(
      winogradScratchFloats(CI, H, W, CO, M, kVectorFloats));
  at::Tensor got = at::full_like(want, NAN);
  winogradConv3x3<CI, H, W, CO, M, Act::Silu>(
      x.data_ptr<float>(), packed.data(), b.data_ptr<float>(),
      r.data_ptr<float>(), got.data_ptr<float>(), scratch.data());
  EXPECT_LT(maxRelative(got, want), bound)
      << "F(" << M << ") " << CI << "x" << H << "x" << W << " -> " << CO;
}

TEST(Kernels, WinogradConv3x3) {
  for (double m2 : {1e-6}) {
    checkWinograd<16, 20, 20, 16, 2>(m2);
    checkWinograd<5, 7, 9, 3, 2>(m2);   // sizes not multiples of the tile
    checkWinograd<1, 1, 1, 1, 2>(m2);   // one pixel
    checkWinograd<33, 3, 37, 19, 2>(m2); // more tiles per row than lanes
    checkWinograd<300, 6, 5, 7, 2>(m2);  // K blocks
  }
  for (double m4 : {5e-6}) {
    checkWinograd<16, 20, 20, 16, 4>(m4);
    checkWinograd<5, 7, 9, 3, 4>(m4);
    checkWinograd<1, 1, 1, 1, 4>(m4);
    checkWinograd<33, 3, 37, 19, 4>(m4);
    checkWinograd<300, 6, 5, 7, 4>(m4);
    checkWinograd<64, 81, 70, 64, 4>(m4); // many GEMM panels
    static_assert(winogradBands(16, 161, 83, 16, 4, 1).rows == 6);
    // Row bands (41 tile rows of 21 in bands of 6), each thread its own
    // run of them, for team sizes that do not divide the rows.
    const int saved = omp_get_max_threads();
    for (int threads : {1, 2, 3, 5}) {
      omp_set_num_threads(threads);
      checkWinograd<16, 161, 83, 16, 4>(m4);
    }
    omp_set_num_threads(saved);
  }
}

/// A batch of images through one GEMM per group (the images' columns side
/// by side), with gaps between the images' tensors so every stride counts:
/// each image against ATen.
template <int64_t CI, int64_t H, int64_t W, int64_t CO, int64_t K, int64_t S,
          int64_t P, int64_t D, int64_t G, int64_t WINOGRAD = 0>
void checkBatchedConv(int64_t images) {
  at::manual_seed(CI + H + W + CO + images);
  constexpr int64_t HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  const int64_t xStride = CI * H * W + 5, yStride = CO * HO * WO + 3,
                rStride = CO * HO * WO + 7;
  at::Tensor xs = at::randn({images * xStride}),
             rs = at::randn({images * rStride});
  at::Tensor w = at::randn({CO, CI / G, K, K}), b = at::randn({CO});
  std::vector<float> packed, scratch;
  if constexpr (WINOGRAD > 0) {
    std::vector<float> u = winogradWeights<WINOGRAD>(w.data_ptr<float>(), CO, CI);
    packed.resize(u.size());
    for (int64_t xi = 0; xi < (WINOGRAD + 2) * (WINOGRAD + 2); ++xi)
      packWeights(u.data() + xi * CO * CI, CO, CI, kTileRows,
                  packed.data() + xi * CO * CI);
    scratch.resize(winogradScratchFloats(CI, H, W, CO, WINOGRAD,
                                         kVectorFloats, images));
  } else {
    packed.resize(w.numel());
    packGroupedWeights(w.data_ptr<float>(), G, CO / G, CI / G * K * K,
                       kTileRows, packed.data());
    scratch.resize(images * convScratchFloats(CI, H, W, K, S, P, D, G) + 1);
  }
  std::vector<float> ys(images * yStride, NAN);
  if constexpr (WINOGRAD > 0)
    winogradConv3x3<CI, H, W, CO, WINOGRAD, Act::Silu>(
        xs.data_ptr<float>(), packed.data(), b.data_ptr<float>(),
        rs.data_ptr<float>(), ys.data(), scratch.data(), images, xStride,
        yStride, rStride);
  else
    conv2d<CI, H, W, CO, K, S, P, D, G, Act::Silu>(
        xs.data_ptr<float>(), packed.data(), b.data_ptr<float>(),
        rs.data_ptr<float>(), ys.data(), scratch.data(), images, xStride,
        yStride, rStride);
  for (int64_t i = 0; i < images; ++i) {
    at::Tensor x = xs.slice(0, i * xStride, i * xStride + CI * H * W)
                       .view({1, CI, H, W});
    at::Tensor r = rs.slice(0, i * rStride, i * rStride + CO * HO * WO)
                       .view({1, CO, HO, WO});
    at::Tensor want =
        at::silu(at::conv2d(x, w, b, {S, S}, {P, P}, {D, D}, G)) + r;
    at::Tensor got = at::from_blob(ys.data() + i * yStride, {1, CO, HO, WO});
    EXPECT_LT(maxRelative(got, want), WINOGRAD == 4 ? 2e-5 : 1e-5)
        << "image " << i << " of " << images << ": " << CI << "x" << H << "x"
        << W << " -> " << CO << " k" << K << " s" << S << " winograd "
        << WINOGRAD;
  }
  // Nothing is written between the images' results.
  for (int64_t i = 0; i < images; ++i)
    for (int64_t j = CO * HO * WO; j < yStride; ++j)
      EXPECT_TRUE(std::isnan(ys[i * yStride + j])) << "gap of image " << i;
}

TEST(Kernels, BatchedConv) {
  for (int64_t images : {1, 2, 3}) {
    checkBatchedConv<33, 7, 5, 17, 1, 1, 0, 1, 1>(images); // 35 columns an image
    checkBatchedConv<5, 11, 13, 7, 3, 2, 1, 1, 1>(images); // phase planes
    checkBatchedConv<6, 9, 10, 9, 3, 1, 2, 2, 3>(images);  // padded, groups
    checkBatchedConv<16, 9, 7, 19, 3, 1, 1, 1, 1, 4>(images); // Winograd
    checkBatchedConv<16, 5, 3, 8, 3, 1, 1, 1, 1, 2>(images);
  }
  // Winograd bands (WinogradTransforms.h): row bands of 4 tile rows of 20
  // (3 by the band bytes, 4 fill the GEMM panels: 48 + 32 tiles; rows not
  // a multiple of a vector wide) in each of 2 images, and no bands where V
  // and M are small.
  static_assert(winogradBands(32, 80, 78, 32, 4, 2).rows == 4);
  static_assert(winogradBands(64, 20, 20, 64, 4, 5).images == 5);
  // Each thread its own range of the 2 × 20 tile rows (cut at the image
  // boundary, in bands of at most 4 rows) with its own V and M: 1, 2, 3
  // and 7 threads.
  const int before = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    SCOPED_TRACE(threads);
    omp_set_num_threads(threads);
    checkBatchedConv<32, 80, 78, 32, 3, 1, 1, 1, 1, 4>(2);
    checkBatchedConv<32, 80, 78, 32, 3, 1, 1, 1, 1, 4>(1);
  }
  omp_set_num_threads(before);
}

TEST(Kernels, DepthwiseConv) {
  at::manual_seed(3);
  at::Tensor x = at::randn({1, 5, 9, 10}), w = at::randn({5, 1, 5, 5});
  at::Tensor want = at::relu(at::conv2d(x, w, {}, {2, 2}, {2, 2}, {1, 1}, 5));
  at::Tensor got = at::empty_like(want);
  depthwiseConv2d<5, 9, 10, 5, 2, 2, 1, Act::Relu>(
      x.data_ptr<float>(), w.data_ptr<float>(), nullptr, nullptr,
      got.data_ptr<float>());
  EXPECT_LT(maxRelative(got, want), 1e-5);
  at::Tensor r = at::randn(want.sizes());
  // Each thread takes a range of the 5 output rows: 1, 2, 3 threads, and 7
  // (two with no rows).
  const int before = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    SCOPED_TRACE(threads);
    got.fill_(NAN);
    omp_set_num_threads(threads);
    depthwiseConv2d<5, 9, 10, 5, 2, 2, 1, Act::Relu>(
        x.data_ptr<float>(), w.data_ptr<float>(), nullptr, r.data_ptr<float>(),
        got.data_ptr<float>());
    EXPECT_LT(maxRelative(got, want + r), 1e-5);
  }
  omp_set_num_threads(before);
}

/// Stride 1 runs in registers on AVX-512, the row in chunks of at most 6
/// vectors (AVX2: accumulator rows): rows of 16–160, 3×3 to 9×9; stride
/// 2 in accumulator rows with strided reads: outputs 19 (odd input), 40, 80
/// and 21 wide; bias, SiLU and a residual.
template <int64_t K, int64_t W, int64_t S = 1> void checkDepthwise() {
  SCOPED_TRACE(testing::Message() << K << "x" << K << ", width " << W
                                  << ", stride " << S);
  constexpr int64_t C = 3, H = 7, P = K / 2;
  constexpr int64_t HO = (H + 2 * P - K) / S + 1, WO = (W + 2 * P - K) / S + 1;
  at::Tensor x = at::randn({1, C, H, W}), w = at::randn({C, 1, K, K}),
             b = at::randn({C}), r = at::randn({1, C, HO, WO});
  at::Tensor want =
      at::silu(at::conv2d(x, w, b, {S, S}, {P, P}, {1, 1}, C)) + r;
  at::Tensor got = at::full_like(want, NAN);
  depthwiseConv2d<C, H, W, K, S, P, 1, Act::Silu>(
      x.data_ptr<float>(), w.data_ptr<float>(), b.data_ptr<float>(),
      r.data_ptr<float>(), got.data_ptr<float>());
  EXPECT_LT(maxRelative(got, want), 1e-5);
}

TEST(Kernels, DepthwiseConvStride1) {
  at::manual_seed(4);
  checkDepthwise<3, 37>();
  checkDepthwise<3, 80>();
  checkDepthwise<5, 37>();
  checkDepthwise<5, 80>();
  // AVX-512's aligned plane rows and lane shifts: a 7×7 filter on a 20-wide
  // row (taps shifted by up to 6 lanes into the next vector), one whole
  // vector, two chunks (160 wide), and blocks of rows with a partial last
  // block (H = 7: blocks of 6 then 1 at 20 wide).
  checkDepthwise<7, 20>();
  checkDepthwise<3, 16>();
  checkDepthwise<3, 160>();
  checkDepthwise<9, 33>();
  checkDepthwise<17, 20>(); // wider than a vector: the accumulator rows
}

TEST(Kernels, DepthwiseConvStride2) {
  at::manual_seed(6);
  checkDepthwise<3, 37, 2>();
  checkDepthwise<3, 80, 2>();
  checkDepthwise<3, 160, 2>();
  checkDepthwise<5, 41, 2>();
}

/// ATen strided-grid window attention for comparison.
at::Tensor referenceAttention(const at::Tensor &q, const at::Tensor &k,
                              const at::Tensor &v, int64_t heads,
                              int64_t window, double scale) {
  int64_t h = q.size(2), w = q.size(3);
  if (window && (h % window || w % window)) {
    // Zero padding to whole windows, then crop.
    int64_t pb = (window - h % window) % window,
            pr = (window - w % window) % window;
    auto pad = [&](const at::Tensor &t) {
      return at::constant_pad_nd(t, {0, pr, 0, pb}, 0.0);
    };
    return referenceAttention(pad(q), pad(k), pad(v), heads, window, scale)
        .slice(2, 0, h)
        .slice(3, 0, w);
  }
  int64_t wh = window ? window : h, ww = window ? window : w;
  int64_t n1 = h / wh, n2 = w / ww, t = wh * ww, bw = n1 * n2;
  auto split = [&](const at::Tensor &x) {
    int64_t c = x.size(1);
    return x.view({1, c, wh, n1, ww, n2})
        .permute({0, 3, 5, 1, 2, 4})
        .reshape({bw, heads, c / heads, t})
        .permute({0, 1, 3, 2});
  };
  at::Tensor a =
      (at::matmul(split(q), split(k).transpose(-2, -1)) * scale).softmax(-1);
  at::Tensor o = at::matmul(a, split(v));
  int64_t cv = v.size(1);
  return o.permute({0, 1, 3, 2})
      .reshape({1, n1, n2, cv, wh, ww})
      .permute({0, 3, 4, 1, 5, 2})
      .reshape({1, cv, h, w});
}

template <int64_t H, int64_t W, int64_t HEADS, int64_t DK, int64_t DV,
          int64_t WIN>
void checkAttention() {
  at::manual_seed(H * W + HEADS);
  at::Tensor q = at::randn({1, HEADS * DK, H, W}),
             k = at::randn({1, HEADS * DK, H, W}),
             v = at::randn({1, HEADS * DV, H, W});
  at::Tensor want = referenceAttention(q, k, v, HEADS, WIN, 0.3).contiguous();
  at::Tensor got = at::empty(want.sizes());
  attention<H, W, HEADS, DK, DV, WIN>(q.data_ptr<float>(), k.data_ptr<float>(),
                                      v.data_ptr<float>(), 0.3f,
                                      got.data_ptr<float>());
  EXPECT_LT(maxRelative(got, want), 1e-5)
      << H << "x" << W << " heads " << HEADS << " window " << WIN;
}

TEST(Kernels, WindowAttention) {
  checkAttention<14, 21, 3, 8, 5, 7>(); // 2x3 windows of 49 tokens
  checkAttention<6, 9, 2, 4, 4, 3>();
  checkAttention<5, 7, 1, 16, 8, 0>(); // global, non-square
  checkAttention<7, 7, 2, 16, 8, 0>();
  checkAttention<20, 20, 4, 8, 8, 7>(); // implicit padding to 21x21
  checkAttention<9, 16, 2, 8, 6, 7>();  // padded rows and columns
  checkAttention<23, 11, 1, 8, 8, 0>(); // global over 253 keys: 4 blocks
  checkAttention<20, 20, 2, 32, 64, 0>(); // PSA: token-major v, 7 blocks
  checkAttention<9, 16, 2, 8, 16, 7>();   // token-major v, padded windows
  checkAttention<20, 20, 1, 8, 8, 17>();  // 289-token windows: online path
  checkAttention<20, 20, 2, 8, 20, 7>();  // DV 20: blocks of 8, 8 and 4
  // Global attention as GEMMs: 851 tokens are three query blocks and a
  // 3-query tail (no whole vector); 1, 2, 3 and 7 threads split the query
  // panels unevenly (7 threads: more threads than some heads' panels need).
  const int before = omp_get_max_threads();
  for (int threads : {1, 2, 3, 7}) {
    SCOPED_TRACE(threads);
    omp_set_num_threads(threads);
    checkAttention<23, 37, 2, 8, 16, 0>();
    checkAttention<3, 5, 2, 8, 8, 0>(); // 15 tokens: one partial panel
  }
  omp_set_num_threads(before);
  checkAttention<16, 16, 1, 3, 24, 0>();  // 256 keys: 4 whole blocks, DV 3 vectors
  checkAttention<11, 6, 2, 5, 3, 0>();    // 66 keys: a block of 2, odd dims
}

/// The streaming EMA (three passes, input BatchNorm) against the
/// materialising one on the normalised input.
template <int64_t C, int64_t H, int64_t W, int64_t G> void checkStreamingEMA() {
  constexpr int64_t CG = C / G;
  at::manual_seed(11 + C + W);
  at::Tensor x = at::randn({1, C, H, W}), scale = at::rand({C}) + 0.5,
             shift = at::randn({C}), gnW = at::rand({CG}) + 0.5,
             gnB = at::randn({CG}), w1 = at::randn({CG, CG}),
             b1 = at::randn({CG}), w3 = at::randn({CG, CG, 3, 3}) * 0.3,
             b3 = at::randn({CG});
  at::Tensor normed = (x * scale.view({1, C, 1, 1}) + shift.view({1, C, 1, 1}))
                          .contiguous();
  at::Tensor want = at::empty_like(x), got = at::empty_like(x);
  ema<C, H, W, G>(normed.data_ptr<float>(), gnW.data_ptr<float>(),
                  gnB.data_ptr<float>(), w1.data_ptr<float>(),
                  b1.data_ptr<float>(), w3.data_ptr<float>(),
                  b3.data_ptr<float>(), want.data_ptr<float>());
  emaStreaming<C, H, W, G>(
      x.data_ptr<float>(), scale.data_ptr<float>(), shift.data_ptr<float>(),
      gnW.data_ptr<float>(), gnB.data_ptr<float>(), w1.data_ptr<float>(),
      b1.data_ptr<float>(), w3.data_ptr<float>(), b3.data_ptr<float>(),
      got.data_ptr<float>());
  EXPECT_LT(maxRelative(got, want), 2e-5)
      << C << "x" << H << "x" << W << " groups " << G;
}

TEST(Kernels, StreamingEMA) {
  checkStreamingEMA<12, 9, 13, 4>(); // 3 channels a group, one partial vector
  // The register blocks of emaConvRow: the models' group sizes (2, 4, 8
  // channels at 80, 40, 20 wide), 16 channels (output blocks of 8 on
  // AVX-512, 4 on AVX2), a 100-wide row (7 AVX-512 vectors: two chunks of
  // 4) and odd widths whose last vector reads past the row.
  checkStreamingEMA<8, 5, 80, 4>();
  checkStreamingEMA<16, 6, 40, 4>();
  checkStreamingEMA<32, 7, 20, 4>();
  checkStreamingEMA<32, 4, 21, 2>();
  checkStreamingEMA<6, 3, 100, 2>();
  checkStreamingEMA<32, 3, 100, 2>(); // AVX-512: two chunks × two blocks
  checkStreamingEMA<10, 4, 37, 2>();
  checkStreamingEMA<3, 2, 1, 1>(); // a 2 × 1 map: one column
}

TEST(Kernels, PoolResizeAndSqueezeExcite) {
  at::manual_seed(5);
  at::Tensor x = at::randn({1, 3, 9, 7});
  at::Tensor pooled = at::max_pool2d(x, {5, 5}, {1, 1}, {2, 2});
  at::Tensor got = at::empty_like(pooled);
  maxPool<3, 9, 7, 5, 1, 2>(x.data_ptr<float>(), got.data_ptr<float>());
  EXPECT_EQ(maxRelative(got, pooled), 0.0);

  at::Tensor up = at::upsample_nearest2d(x, {27, 21}, 3.0, 3.0);
  at::Tensor gotUp = at::empty_like(up);
  resizeNearest<3, 9, 7, 3>(x.data_ptr<float>(), gotUp.data_ptr<float>());
  EXPECT_EQ(maxRelative(gotUp, up), 0.0);

  // Separable pooling in vectors with scalar tails (37 columns), and strides
  // 2 with and without padding; upsampling by 2 at the same width.
  at::Tensor wide = at::randn({1, 5, 20, 37});
  auto pool = [&](auto kernel, int64_t k, int64_t s, int64_t p) {
    at::Tensor want = at::max_pool2d(wide, {k, k}, {s, s}, {p, p});
    at::Tensor got = at::empty_like(want);
    kernel(wide.data_ptr<float>(), got.data_ptr<float>());
    EXPECT_EQ(maxRelative(got, want), 0.0) << k << "x" << k << " stride " << s;
  };
  pool(maxPool<5, 20, 37, 5, 1, 2>, 5, 1, 2);
  pool(maxPool<5, 20, 37, 3, 2, 1>, 3, 2, 1);
  pool(maxPool<5, 20, 37, 2, 2, 0>, 2, 2, 0);
  at::Tensor up2 = at::upsample_nearest2d(wide, {40, 74}, 2.0, 2.0);
  at::Tensor gotUp2 = at::empty_like(up2);
  resizeNearest<5, 20, 37, 2>(wide.data_ptr<float>(), gotUp2.data_ptr<float>());
  EXPECT_EQ(maxRelative(gotUp2, up2), 0.0);

  at::Tensor w1 = at::randn({2, 3, 1, 1}), b1 = at::randn({2}),
             w2 = at::randn({3, 2, 1, 1}), b2 = at::randn({3});
  at::Tensor s = at::relu(at::conv2d(x.mean({2, 3}, true), w1, b1));
  at::Tensor want = x * at::conv2d(s, w2, b2).sigmoid();
  at::Tensor gotSe = at::empty_like(want);
  squeezeExcite<3, 63, 2, Act::Relu>(
      x.data_ptr<float>(), w1.data_ptr<float>(), b1.data_ptr<float>(),
      w2.data_ptr<float>(), b2.data_ptr<float>(), gotSe.data_ptr<float>());
  EXPECT_LT(maxRelative(gotSe, want), 1e-5);
}

} // namespace
