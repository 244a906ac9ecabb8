//===- CudaKernelsTest.cpp - CUDA kernels (emulated) against CPU kernels --===//
//
// The kernels of codegen/cuda/kernels/CudaKernels.cuh, compiled for the host
// with the CUDA emulator (this file is built with -DIRMB_CUDA_EMULATION and
// -include CudaEmulation.h), against the CPU kernels of Kernels.h. The CPU
// kernels are themselves checked against LibTorch in KernelsTest.cpp. The
// shapes are ones the seed models do not have:
//   - convolutions:
//       - output channels past one 64-row tile;
//       - K not a multiple of 16;
//       - groups, dilation, stride 3;
//   - attention: windows on padded grids, and a global window longer than one
//     key block;
//   - EMA with and without an input norm.
// Every call runs a batch of 2 whose images sit at strides larger than the
// image, as views and concat slots do.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/kernels/CudaKernels.cuh"
#include "codegen/cpu/kernels/Kernels.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace cpu = irmb::kernels;
namespace gpu = irmb::cuda;

namespace {

constexpr int kBatch = 2;
/// Extra elements between images, so that a kernel that assumes a
/// contiguous batch reads the wrong data.
constexpr int64_t kGap = 37;

std::vector<float> randomValues(size_t n, unsigned seed, float lo = -1.f,
                                float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

/// Values in T and back (what a T tensor holds).
template <typename T> std::vector<float> roundTo(std::vector<float> v) {
  for (float &x : v)
    x = gpu::toFloat(gpu::fromFloat<T>(x));
  return v;
}

template <typename T> std::vector<T> toT(const std::vector<float> &v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = gpu::fromFloat<T>(v[i]);
  return out;
}

/// Largest |got - want| over the largest |want|, for image b of a batched
/// buffer of stride `stride` against a per-image reference.
template <typename T>
double relativeError(const std::vector<T> &got, int64_t stride, int b,
                     const std::vector<float> &want) {
  double err = 0, scale = 1e-6;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, static_cast<double>(std::fabs(
                            gpu::toFloat(got[b * stride + i]) - want[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
  }
  return err / scale;
}

template <typename T, int CI, int H, int W, int CO, int K, int S, int P, int D,
          int G, typename TI = T>
void checkConv(double tolerance) {
  constexpr int HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t IN = int64_t(CI) * H * W, OUT = int64_t(CO) * HO * WO;
  constexpr int64_t XS = IN + kGap, YS = OUT + kGap, RS = OUT + 2 * kGap;
  std::vector<float> x = roundTo<T>(randomValues(kBatch * XS, CI + CO));
  std::vector<float> w = roundTo<T>(randomValues(CO * (CI / G) * K * K, K));
  std::vector<float> bias = randomValues(CO, 5),
                     res = roundTo<T>(randomValues(kBatch * RS, 6));
  std::vector<T> xT = toT<T>(x), wT = toT<T>(w), resT = toT<T>(res);
  std::vector<T> y(kBatch * YS);
  // TI = float: the model input, read by the first convolution directly.
  const TI *xIn;
  if constexpr (std::is_same_v<TI, float>)
    xIn = x.data();
  else
    xIn = xT.data();
  gpu::conv2d<T, CI, H, W, CO, K, S, P, D, G, gpu::Act::Silu, TI>(
      nullptr, kBatch, xIn, XS, wT.data(), bias.data(), resT.data(), RS,
      y.data(), YS);
  std::vector<float> scratch(cpu::convScratchFloats(CI, H, W, K, S, P, D, G) +
                             1);
  std::vector<float> packed(w.size());
  cpu::packGroupedWeights(w.data(), G, CO / G, CI / G * K * K, cpu::kTileRows,
                          packed.data());
  for (int b = 0; b < kBatch; ++b) {
    std::vector<float> want(OUT);
    cpu::conv2d<CI, H, W, CO, K, S, P, D, G, cpu::Act::Silu>(
        x.data() + b * XS, packed.data(), bias.data(), res.data() + b * RS,
        want.data(), scratch.data());
    EXPECT_LT(relativeError(y, YS, b, want), tolerance)
        << "conv " << CI << "x" << H << "x" << W << " -> " << CO << " k" << K
        << " s" << S << " p" << P << " d" << D << " g" << G << " image " << b;
  }
}

TEST(CudaKernels, Conv2dOddShapes) {
  checkConv<float, 5, 11, 13, 70, 3, 2, 1, 1, 1>(1e-5);  // 2 row tiles
  checkConv<float, 6, 9, 10, 9, 3, 1, 2, 2, 3>(1e-5);    // groups, dilation
  checkConv<float, 33, 7, 5, 17, 1, 1, 0, 1, 1>(1e-5);   // K = 33
  checkConv<float, 8, 12, 12, 4, 5, 3, 0, 1, 2>(1e-5);   // 5x5, stride 3
  checkConv<float, 16, 19, 17, 24, 3, 1, 1, 1, 1>(1e-5); // 5 pixel tiles
}

TEST(CudaKernels, Conv2dTensorCores) {
  // fp16/bf16 operands (rounded the same on both sides), float accumulation;
  // the output is rounded once.
  checkConv<__half, 5, 11, 13, 70, 3, 2, 1, 1, 1>(2e-3);
  checkConv<__half, 6, 9, 10, 9, 3, 1, 2, 2, 3>(2e-3);
  checkConv<__half, 33, 7, 5, 17, 1, 1, 0, 1, 1>(2e-3);
  checkConv<__nv_bfloat16, 16, 19, 17, 24, 3, 1, 1, 1, 1>(1e-2);
  checkConv<__half, 3, 17, 15, 16, 3, 2, 1, 1, 1, float>(2e-3); // float input
}

TEST(CudaKernels, Depthwise) {
  constexpr int C = 5, H = 9, W = 10, K = 5, S = 2, P = 2, HO = 5, WO = 5;
  constexpr int64_t XS = C * H * W + kGap, YS = C * HO * WO + kGap;
  std::vector<float> x = randomValues(kBatch * XS, 1),
                     w = randomValues(C * K * K, 2), bias = randomValues(C, 3),
                     res = randomValues(kBatch * YS, 4);
  std::vector<float> y(kBatch * YS);
  gpu::depthwiseConv2d<float, C, H, W, K, S, P, 1, gpu::Act::Relu>(
      nullptr, kBatch, x.data(), XS, w.data(), bias.data(), res.data(), YS,
      y.data(), YS);
  for (int b = 0; b < kBatch; ++b) {
    std::vector<float> want(C * HO * WO);
    cpu::depthwiseConv2d<C, H, W, K, S, P, 1, cpu::Act::Relu>(
        x.data() + b * XS, w.data(), bias.data(), res.data() + b * YS,
        want.data());
    EXPECT_LT(relativeError(y, YS, b, want), 1e-5);
  }
}

template <int H, int W, int HEADS, int DK, int DV, int WIN>
void checkAttention() {
  constexpr int64_t QS = int64_t(HEADS) * DK * H * W + kGap;
  constexpr int64_t VS = int64_t(HEADS) * DV * H * W + kGap;
  std::vector<float> q = randomValues(kBatch * QS, 1, -2, 2),
                     k = randomValues(kBatch * QS, 2, -2, 2),
                     v = randomValues(kBatch * VS, 3);
  std::vector<float> y(kBatch * VS);
  float scale = 0.35f;
  gpu::attention<float, H, W, HEADS, DK, DV, WIN>(nullptr, kBatch, q.data(), QS,
                                                  k.data(), QS, v.data(), VS,
                                                  scale, y.data(), VS);
  for (int b = 0; b < kBatch; ++b) {
    std::vector<float> want(static_cast<size_t>(HEADS * DV * H * W));
    cpu::attention<H, W, HEADS, DK, DV, WIN>(
        q.data() + b * QS, k.data() + b * QS, v.data() + b * VS, scale,
        want.data());
    EXPECT_LT(relativeError(y, VS, b, want), 1e-5)
        << "attention " << H << "x" << W << " window " << WIN;
  }
}

TEST(CudaKernels, WindowAttention) {
  checkAttention<9, 10, 2, 4, 6, 4>(); // 3x3 windows, padded both ways
  checkAttention<7, 7, 3, 8, 8, 7>();  // one exact window
  checkAttention<9, 11, 1, 5, 3, 0>(); // global: 99 keys, two key blocks
}

TEST(CudaKernels, EMA) {
  constexpr int C = 16, H = 7, W = 9, G = 4, CG = C / G;
  constexpr int64_t XS = C * H * W + kGap;
  std::vector<float> x = randomValues(kBatch * XS, 1),
                     gnW = randomValues(CG, 2, 0.5f, 1.5f),
                     gnB = randomValues(CG, 3), w1 = randomValues(CG * CG, 4),
                     b1 = randomValues(CG, 5),
                     w3 = randomValues(CG * CG * 9, 6),
                     b3 = randomValues(CG, 7),
                     scale = randomValues(C, 8, 0.5f, 1.5f),
                     shift = randomValues(C, 9);
  std::vector<float> scratch(kBatch * gpu::emaScratchFloats(C, H, W));
  for (bool norm : {false, true}) {
    std::vector<float> y(kBatch * XS);
    gpu::ema<float, C, H, W, G>(
        nullptr, kBatch, x.data(), XS, norm ? scale.data() : nullptr,
        norm ? shift.data() : nullptr, gnW.data(), gnB.data(), w1.data(),
        b1.data(), w3.data(), b3.data(), y.data(), XS, scratch.data());
    for (int b = 0; b < kBatch; ++b) {
      std::vector<float> want(C * H * W);
      cpu::emaStreaming<C, H, W, G>(
          x.data() + b * XS, norm ? scale.data() : nullptr,
          norm ? shift.data() : nullptr, gnW.data(), gnB.data(), w1.data(),
          b1.data(), w3.data(), b3.data(), want.data());
      EXPECT_LT(relativeError(y, XS, b, want), 1e-4) << "norm " << norm;
    }
  }
}

TEST(CudaKernels, PoolAndResize) {
  constexpr int C = 3, H = 7, W = 6;
  constexpr int64_t XS = C * H * W + kGap, PS = C * H * W + kGap,
                    RS = C * H * W * 4 + kGap;
  std::vector<float> x = randomValues(kBatch * XS, 1);
  std::vector<float> pooled(kBatch * PS), resized(kBatch * RS);
  gpu::maxPool<float, C, H, W, 5, 1, 2>(nullptr, kBatch, x.data(), XS,
                                        pooled.data(), PS);
  gpu::resizeNearest<float, C, H, W, 2>(nullptr, kBatch, x.data(), XS,
                                        resized.data(), RS);
  for (int b = 0; b < kBatch; ++b) {
    std::vector<float> wantPool(C * H * W), wantResize(C * H * W * 4);
    cpu::maxPool<C, H, W, 5, 1, 2>(x.data() + b * XS, wantPool.data());
    cpu::resizeNearest<C, H, W, 2>(x.data() + b * XS, wantResize.data());
    EXPECT_EQ(relativeError(pooled, PS, b, wantPool), 0.0);
    EXPECT_EQ(relativeError(resized, RS, b, wantResize), 0.0);
  }
}

} // namespace
