//===- CudaKernels.cuh - the CUDA kernel library of generated models ------===//
//
// The kernels that code emitted by irmb-compile --target cuda launches, each
// with a host-side launcher of the same name taking the stream, the batch
// and, per tensor, a device pointer and its batch stride in elements (a view
// or a tensor written in place into a concat has the stride of its storage).
// Every shape is a template constant. Activations are stored in T (float,
// __half or __nv_bfloat16); accumulation, softmax, norms and reductions run
// in float. Convolutions are implicit GEMMs over 64×64 output tiles: float
// FMAs for fp32, tensor cores (WMMA 16×16×16, float accumulators) for
// fp16/bf16; bias, activation and the residual are applied in the epilogue
// and results may land at a channel offset of a concat's storage.
//
// The same text compiles for the host with IRMB_CUDA_EMULATION (and
// CudaEmulation.h), which runs every block's threads as fibers, so that the
// kernels are tested on machines without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CUDA_KERNELS_CUDAKERNELS_CUH
#define IRMB_CODEGEN_CUDA_KERNELS_CUDAKERNELS_CUH

#ifndef IRMB_CUDA_EMULATION
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>
#endif

#include "CudaScratch.h"

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace irmb::cuda {

/// Element-wise activations (matches irmb::Activation).
enum class Act { None = 0, Relu = 1, Relu6 = 2, Silu = 3 };

template <Act A> __device__ __forceinline__ float activate(float x) {
  if constexpr (A == Act::Relu)
    return x > 0.f ? x : 0.f;
  else if constexpr (A == Act::Relu6)
    return fminf(fmaxf(x, 0.f), 6.f);
  else if constexpr (A == Act::Silu)
    return x / (1.f + expf(-x));
  else
    return x;
}

__device__ __forceinline__ float sigmoid(float x) {
  return 1.f / (1.f + expf(-x));
}

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

__device__ __forceinline__ float toFloat(float x) { return x; }
__device__ __forceinline__ float toFloat(__half x) { return __half2float(x); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
template <typename T> __device__ __forceinline__ T fromFloat(float x) {
  if constexpr (std::is_same_v<T, __half>)
    return __float2half(x);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __float2bfloat16(x);
  else
    return x;
}

//===----------------------------------------------------------------------===//
// Launching
//===----------------------------------------------------------------------===//

/// Threads of the element-wise kernels' blocks.
constexpr int kThreads = 256;

/// Blocks for a grid-stride loop over n elements (capped: every kernel
/// loops, so any grid is correct; the emulator runs few blocks).
inline unsigned gridFor(int64_t n) {
#ifdef IRMB_CUDA_EMULATION
  constexpr int64_t kMaxBlocks = 4;
#else
  constexpr int64_t kMaxBlocks = 65535;
#endif
  int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1            ? 1
                               : blocks > kMaxBlocks ? kMaxBlocks
                                                     : blocks);
}

/// Launches `kernel` on `stream` (the emulator runs it on the host).
template <typename... Params, typename... Args>
inline void launch(void (*kernel)(Params...), dim3 grid, dim3 block,
                   cudaStream_t stream, Args... args) {
#ifdef IRMB_CUDA_EMULATION
  ::irmb::emu::launch(grid, block, stream,
                      [=] { kernel(static_cast<Params>(args)...); });
#else
  kernel<<<grid, block, 0, stream>>>(static_cast<Params>(args)...);
#endif
}

#define IRMB_GRID_STRIDE(i, n)                                                 \
  for (int64_t i =                                                             \
           blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;        \
       i < (n); i += static_cast<int64_t>(blockDim.x) * gridDim.x)

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

template <typename T>
__global__ void convertKernel(const float *x, T *y, int64_t n) {
  IRMB_GRID_STRIDE(i, n) { y[i] = fromFloat<T>(x[i]); }
}

/// y[i] = T(x[i]) for n elements.
template <typename T>
void convert(cudaStream_t s, const float *x, T *y, int64_t n) {
  launch(&convertKernel<T>, gridFor(n), kThreads, s, x, y, n);
}

//===----------------------------------------------------------------------===//
// Convolution: implicit GEMM
//===----------------------------------------------------------------------===//

/// Tiles of the convolution kernel: BM output channels (64, or 32 / 16 for
/// narrow layers) × kTileN pixels, K consumed kTileK at a time, 256 threads.
constexpr int kTileN = 64, kTileK = 16, kConvThreads = 256;

/// The output-channel tile for COG channels per group: the smallest of 16
/// (float only), 32 and 64 that covers them, so narrow layers do not
/// compute three quarters padding.
template <typename T> constexpr int convTileM(int cog) {
  if (cog <= 16 && std::is_same_v<T, float>)
    return 16;
  return cog <= 32 ? 32 : 64;
}

/// One grouped convolution (NCHW) as C = A·B per image and group: A the
/// [COG, CIG·K·K] weights, B the implicit im2col of the input (zero
/// outside the map), C the output; epilogue act(C + bias) + residual.
/// The input may be of another type TI (the model's float input read by
/// the first convolution, converted while the tiles load). Each K step
/// stores the tiles fetched into registers during the previous step, then
/// fetches the next ones before computing, so global loads overlap the
/// arithmetic. Grid: (pixel tiles, channel tiles, batch · groups).
template <typename T, int CI, int H, int W, int CO, int K, int S, int P, int D,
          int G, Act A, typename TI, int BM>
__global__ void __launch_bounds__(kConvThreads)
    conv2dKernel(const TI *x, int64_t xs, const T *w, const float *bias,
                 const T *res, int64_t rs, T *y, int64_t ys) {
  constexpr int HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int N = HO * WO, CIG = CI / G, COG = CO / G, KK = CIG * K * K;
  // Elements of the A and B tiles each thread fetches per K step.
  constexpr int AF = (BM * kTileK + kConvThreads - 1) / kConvThreads;
  constexpr int BF = kTileK * kTileN / kConvThreads;
  const int tid = threadIdx.x;
  const int n0 = blockIdx.x * kTileN, m0 = blockIdx.y * BM;
  const int b = blockIdx.z / G, g = blockIdx.z % G;
  const TI *xb = x + b * xs + static_cast<int64_t>(g) * CIG * H * W;
  const T *wg = w + static_cast<int64_t>(g) * COG * KK;

  // Fetches A[m0:+BM, k0:+BK] and B[k0:+BK, n0:+BN] (zero outside the
  // matrices) into registers; element e of thread t is i = t + e·256 (A:
  // row i / BK, column i % BK; B: row i / BN, column i % BN).
  T fa[AF], fb[BF];
  auto fetch = [&](int k0) {
#pragma unroll
    for (int e = 0; e < AF; ++e) {
      int i = tid + e * kConvThreads, m = i / kTileK, k = i % kTileK;
      bool in = i < BM * kTileK && m0 + m < COG && k0 + k < KK;
      fa[e] = in ? wg[static_cast<int64_t>(m0 + m) * KK + k0 + k]
                 : fromFloat<T>(0.f);
    }
#pragma unroll
    for (int e = 0; e < BF; ++e) {
      int i = tid + e * kConvThreads, k = i / kTileN, n = i % kTileN;
      int kk = k0 + k, p = n0 + n;
      T v = fromFloat<T>(0.f);
      if (kk < KK && p < N) {
        int ci = kk / (K * K), ky = (kk / K) % K, kx = kk % K;
        int iy = (p / WO) * S - P + ky * D, ix = (p % WO) * S - P + kx * D;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W)
          v = fromFloat<T>(
              toFloat(xb[(static_cast<int64_t>(ci) * H + iy) * W + ix]));
      }
      fb[e] = v;
    }
  };
  // Stores the fetched tiles: as[m][k] (row stride lda), bs[k][n] (ldb).
  auto store = [&](T *as, int lda, T *bs, int ldb) {
#pragma unroll
    for (int e = 0; e < AF; ++e) {
      int i = tid + e * kConvThreads;
      if (i < BM * kTileK)
        as[(i / kTileK) * lda + i % kTileK] = fa[e];
    }
#pragma unroll
    for (int e = 0; e < BF; ++e) {
      int i = tid + e * kConvThreads;
      bs[(i / kTileN) * ldb + i % kTileN] = fb[e];
    }
  };

  // The accumulated tile, in shared memory for the epilogue.
  __shared__ __align__(32) float cs[BM][kTileN + 4];
  fetch(0);
  if constexpr (std::is_same_v<T, float>) {
    // 16×16 threads, each a (BM/16)×4 sub-tile strided by 16.
    constexpr int RM = BM / 16;
    __shared__ float as[BM * kTileK], bs[kTileK * kTileN];
    const int tx = tid % 16, ty = tid / 16;
    float acc[RM][4] = {};
    for (int k0 = 0; k0 < KK; k0 += kTileK) {
      store(as, kTileK, bs, kTileN);
      __syncthreads();
      if (k0 + kTileK < KK)
        fetch(k0 + kTileK);
#pragma unroll
      for (int k = 0; k < kTileK; ++k) {
        float a[RM], bv[4];
#pragma unroll
        for (int i = 0; i < RM; ++i)
          a[i] = as[(ty + 16 * i) * kTileK + k];
#pragma unroll
        for (int j = 0; j < 4; ++j)
          bv[j] = bs[k * kTileN + tx + 16 * j];
#pragma unroll
        for (int i = 0; i < RM; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j)
            acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
      }
      __syncthreads();
    }
    for (int i = 0; i < RM; ++i)
      for (int j = 0; j < 4; ++j)
        cs[ty + 16 * i][tx + 16 * j] = acc[i][j];
  } else {
    // Eight warps on tensor cores in a (BM/16) × (128/BM) grid: each owns
    // 16 rows and BM/2 columns, as BM/32 16×16 float accumulators.
    using namespace nvcuda;
    static_assert(BM == 32 || BM == 64, "tensor-core tiles are 32 or 64 rows");
    constexpr int FN = BM / 32, LDA = kTileK + 8, LDB = kTileN + 8;
    __shared__ __align__(32) T as[BM * LDA];
    __shared__ __align__(32) T bs[kTileK * LDB];
    const int warp = tid / 32, wm = (warp % (BM / 16)) * 16,
              wn = (warp / (BM / 16)) * 16 * FN;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FN];
    for (int j = 0; j < FN; ++j)
      wmma::fill_fragment(acc[j], 0.f);
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> ma;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> mb;
    for (int k0 = 0; k0 < KK; k0 += kTileK) {
      store(as, LDA, bs, LDB);
      __syncthreads();
      if (k0 + kTileK < KK)
        fetch(k0 + kTileK);
      wmma::load_matrix_sync(ma, as + wm * LDA, LDA);
      for (int j = 0; j < FN; ++j) {
        wmma::load_matrix_sync(mb, bs + wn + 16 * j, LDB);
        wmma::mma_sync(acc[j], ma, mb, acc[j]);
      }
      __syncthreads();
    }
    for (int j = 0; j < FN; ++j)
      wmma::store_matrix_sync(&cs[wm][wn + 16 * j], acc[j], kTileN + 4,
                              wmma::mem_row_major);
  }
  __syncthreads();
  // Epilogue: bias, activation, residual; consecutive threads write
  // consecutive pixels.
  for (int i = tid; i < BM * kTileN; i += kConvThreads) {
    int m = i / kTileN, n = i % kTileN;
    if (m0 + m >= COG || n0 + n >= N)
      continue;
    int64_t co = static_cast<int64_t>(g) * COG + m0 + m;
    float v = cs[m][n] + (bias ? bias[co] : 0.f);
    v = activate<A>(v);
    if (res)
      v += toFloat(res[b * rs + co * N + n0 + n]);
    y[b * ys + co * N + n0 + n] = fromFloat<T>(v);
  }
}

/// Convolution of `batch` images [CI, H, W] (in TI, default T) -> [CO, HO,
/// WO]: weights [CO, CI/G, K, K] in T, bias (float, or null), residual (or
/// null).
template <typename T, int CI, int H, int W, int CO, int K, int S, int P, int D,
          int G, Act A, typename TI = T>
void conv2d(cudaStream_t s, int batch, const TI *x, int64_t xs, const T *w,
            const float *bias, const T *res, int64_t rs, T *y, int64_t ys) {
  constexpr int HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int BM = convTileM<T>(CO / G);
  dim3 grid((HO * WO + kTileN - 1) / kTileN, (CO / G + BM - 1) / BM, batch * G);
  launch(&conv2dKernel<T, CI, H, W, CO, K, S, P, D, G, A, TI, BM>, grid,
         dim3(kConvThreads), s, x, xs, w, bias, res, rs, y, ys);
}

template <typename T, int C, int H, int W, int K, int S, int P, int D, Act A>
__global__ void depthwiseKernel(int batch, const T *x, int64_t xs,
                                const float *w, const float *bias, const T *res,
                                int64_t rs, T *y, int64_t ys) {
  constexpr int HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int64_t PER = static_cast<int64_t>(C) * HO * WO;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    int c = static_cast<int>(r / (HO * WO));
    int oy = static_cast<int>(r / WO % HO), ox = static_cast<int>(r % WO);
    const T *xc = x + b * xs + static_cast<int64_t>(c) * H * W;
    const float *f = w + c * K * K;
    float acc = bias ? bias[c] : 0.f;
    for (int ky = 0; ky < K; ++ky) {
      int iy = oy * S - P + ky * D;
      if (iy < 0 || iy >= H)
        continue;
      for (int kx = 0; kx < K; ++kx) {
        int ix = ox * S - P + kx * D;
        if (ix >= 0 && ix < W)
          acc = fmaf(toFloat(xc[iy * W + ix]), f[ky * K + kx], acc);
      }
    }
    float v = activate<A>(acc);
    if (res)
      v += toFloat(res[b * rs + r]);
    y[b * ys + r] = fromFloat<T>(v);
  }
}

/// Depthwise convolution (one K×K float filter per channel) with bias,
/// activation and residual: one thread per output element.
template <typename T, int C, int H, int W, int K, int S, int P, int D, Act A>
void depthwiseConv2d(cudaStream_t s, int batch, const T *x, int64_t xs,
                     const float *w, const float *bias, const T *res,
                     int64_t rs, T *y, int64_t ys) {
  constexpr int HO = (H + 2 * P - D * (K - 1) - 1) / S + 1;
  constexpr int WO = (W + 2 * P - D * (K - 1) - 1) / S + 1;
  launch(&depthwiseKernel<T, C, H, W, K, S, P, D, A>,
         gridFor(int64_t(batch) * C * HO * WO), kThreads, s, batch, x, xs, w,
         bias, res, rs, y, ys);
}

//===----------------------------------------------------------------------===//
// Element-wise and data movement (one thread per output element)
//===----------------------------------------------------------------------===//

template <typename T, int C, int HW, Act A>
__global__ void channelAffineKernel(int batch, const T *x, int64_t xs,
                                    const float *scale, const float *shift,
                                    T *y, int64_t ys) {
  constexpr int64_t PER = static_cast<int64_t>(C) * HW;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    int c = static_cast<int>(r / HW);
    y[b * ys + r] =
        fromFloat<T>(activate<A>(toFloat(x[b * xs + r]) * scale[c] + shift[c]));
  }
}

/// y = act(x · scale[c] + shift[c]) (a folded BatchNorm).
template <typename T, int C, int HW, Act A>
void channelAffine(cudaStream_t s, int batch, const T *x, int64_t xs,
                   const float *scale, const float *shift, T *y, int64_t ys) {
  launch(&channelAffineKernel<T, C, HW, A>, gridFor(int64_t(batch) * C * HW),
         kThreads, s, batch, x, xs, scale, shift, y, ys);
}

template <typename T, int64_t N, Act A>
__global__ void activationKernel(int batch, const T *x, int64_t xs, T *y,
                                 int64_t ys) {
  IRMB_GRID_STRIDE(i, batch * N) {
    int64_t b = i / N, r = i % N;
    y[b * ys + r] = fromFloat<T>(activate<A>(toFloat(x[b * xs + r])));
  }
}

template <typename T, int64_t N, Act A>
void activation(cudaStream_t s, int batch, const T *x, int64_t xs, T *y,
                int64_t ys) {
  launch(&activationKernel<T, N, A>, gridFor(batch * N), kThreads, s, batch, x,
         xs, y, ys);
}

template <typename T, int64_t N>
__global__ void addKernel(int batch, const T *a, int64_t as, const T *c,
                          int64_t cs, T *y, int64_t ys) {
  IRMB_GRID_STRIDE(i, batch * N) {
    int64_t b = i / N, r = i % N;
    y[b * ys + r] =
        fromFloat<T>(toFloat(a[b * as + r]) + toFloat(c[b * cs + r]));
  }
}

template <typename T, int64_t N>
void add(cudaStream_t s, int batch, const T *a, int64_t as, const T *c,
         int64_t cs, T *y, int64_t ys) {
  launch(&addKernel<T, N>, gridFor(batch * N), kThreads, s, batch, a, as, c, cs,
         y, ys);
}

template <typename T, int64_t HW, int START, int SIZE, int GROUPS, int PERIOD>
__global__ void sliceChannelsKernel(int batch, const T *x, int64_t xs, T *y,
                                    int64_t ys) {
  constexpr int64_t PER = int64_t(GROUPS) * SIZE * HW;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    int64_t c = r / HW, p = r % HW;
    int64_t src = (c / SIZE) * PERIOD + START + c % SIZE;
    y[b * ys + r] = x[b * xs + src * HW + p];
  }
}

/// Channels g·PERIOD + START + i (g < GROUPS, i < SIZE) of a [C, HW] map.
template <typename T, int64_t HW, int START, int SIZE, int GROUPS, int PERIOD>
void sliceChannels(cudaStream_t s, int batch, const T *x, int64_t xs, T *y,
                   int64_t ys) {
  launch(&sliceChannelsKernel<T, HW, START, SIZE, GROUPS, PERIOD>,
         gridFor(int64_t(batch) * GROUPS * SIZE * HW), kThreads, s, batch, x,
         xs, y, ys);
}

template <typename T>
__global__ void copyKernel(int batch, const T *x, int64_t xs, int64_t n, T *y,
                           int64_t ys) {
  IRMB_GRID_STRIDE(i, batch * n) {
    int64_t b = i / n, r = i % n;
    y[b * ys + r] = x[b * xs + r];
  }
}

/// Copies n elements per image (a concat input into its place).
template <typename T>
void copy(cudaStream_t s, int batch, const T *x, int64_t xs, int64_t n, T *y,
          int64_t ys) {
  launch(&copyKernel<T>, gridFor(batch * n), kThreads, s, batch, x, xs, n, y,
         ys);
}

template <typename T, int C, int H, int W, int HO, int WO, bool PAD>
__global__ void reframeKernel(int batch, const T *x, int64_t xs, T *y,
                              int64_t ys) {
  constexpr int64_t PER = int64_t(C) * HO * WO;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    int c = static_cast<int>(r / (HO * WO));
    int oy = static_cast<int>(r / WO % HO), ox = static_cast<int>(r % WO);
    bool in = !PAD || (oy < H && ox < W);
    y[b * ys + r] =
        in ? x[b * xs + (int64_t(c) * H + oy) * W + ox] : fromFloat<T>(0.f);
  }
}

/// Zero padding at the bottom and right: [C, H, W] -> [C, HP, WP].
template <typename T, int C, int H, int W, int HP, int WP>
void padBottomRight(cudaStream_t s, int batch, const T *x, int64_t xs, T *y,
                    int64_t ys) {
  launch(&reframeKernel<T, C, H, W, HP, WP, true>,
         gridFor(int64_t(batch) * C * HP * WP), kThreads, s, batch, x, xs, y,
         ys);
}

/// Top-left crop: [C, H, W] -> [C, HO, WO].
template <typename T, int C, int H, int W, int HO, int WO>
void cropTopLeft(cudaStream_t s, int batch, const T *x, int64_t xs, T *y,
                 int64_t ys) {
  launch(&reframeKernel<T, C, H, W, HO, WO, false>,
         gridFor(int64_t(batch) * C * HO * WO), kThreads, s, batch, x, xs, y,
         ys);
}

template <typename T, int C, int H, int W, int K, int S, int P>
__global__ void maxPoolKernel(int batch, const T *x, int64_t xs, T *y,
                              int64_t ys) {
  constexpr int HO = (H + 2 * P - K) / S + 1, WO = (W + 2 * P - K) / S + 1;
  constexpr int64_t PER = int64_t(C) * HO * WO;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    int c = static_cast<int>(r / (HO * WO));
    int oy = static_cast<int>(r / WO % HO), ox = static_cast<int>(r % WO);
    const T *xc = x + b * xs + int64_t(c) * H * W;
    float m = -INFINITY;
    for (int ky = 0; ky < K; ++ky) {
      int iy = oy * S - P + ky;
      if (iy < 0 || iy >= H)
        continue;
      for (int kx = 0; kx < K; ++kx) {
        int ix = ox * S - P + kx;
        if (ix >= 0 && ix < W)
          m = fmaxf(m, toFloat(xc[iy * W + ix]));
      }
    }
    y[b * ys + r] = fromFloat<T>(m);
  }
}

template <typename T, int C, int H, int W, int K, int S, int P>
void maxPool(cudaStream_t s, int batch, const T *x, int64_t xs, T *y,
             int64_t ys) {
  constexpr int HO = (H + 2 * P - K) / S + 1, WO = (W + 2 * P - K) / S + 1;
  launch(&maxPoolKernel<T, C, H, W, K, S, P>,
         gridFor(int64_t(batch) * C * HO * WO), kThreads, s, batch, x, xs, y,
         ys);
}

template <typename T, int C, int H, int W, int S>
__global__ void resizeNearestKernel(int batch, const T *x, int64_t xs, T *y,
                                    int64_t ys) {
  constexpr int64_t PER = int64_t(C) * H * S * W * S;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    int c = static_cast<int>(r / (H * S * W * S));
    int oy = static_cast<int>(r / (W * S) % (H * S));
    int ox = static_cast<int>(r % (W * S));
    y[b * ys + r] = x[b * xs + (int64_t(c) * H + oy / S) * W + ox / S];
  }
}

template <typename T, int C, int H, int W, int S>
void resizeNearest(cudaStream_t s, int batch, const T *x, int64_t xs, T *y,
                   int64_t ys) {
  launch(&resizeNearestKernel<T, C, H, W, S>,
         gridFor(int64_t(batch) * C * H * S * W * S), kThreads, s, batch, x, xs,
         y, ys);
}

//===----------------------------------------------------------------------===//
// Window attention
//===----------------------------------------------------------------------===//

/// Queries per attention block (one per thread) and keys per shared-memory
/// block.
constexpr int kAttnThreads = 64;
template <int DK, int DV>
constexpr int kAttnKeys = (8192 / (DK + DV)) < 64 ? (8192 / (DK + DV)) : 64;
/// Keys scored together in registers (one online-softmax step).
constexpr int kAttnStep = 16;

/// One block per (window, head, image): each thread owns one query row at
/// a time (its scaled q and its output accumulator in registers) and runs
/// an online softmax over key blocks staged in shared memory as float,
/// kAttnStep keys (their scores in registers) at a time. The
/// map counts as zero-padded to whole windows; padded keys are zeros that
/// still take part in the softmax, padded queries are skipped.
template <typename T, int H, int W, int HEADS, int DK, int DV, int WIN>
__global__ void __launch_bounds__(kAttnThreads)
    attentionKernel(const T *q, int64_t qs, const T *k, int64_t ks, const T *v,
                    int64_t vs, float scale, T *y, int64_t ys) {
  constexpr int WH = WIN > 0 ? WIN : H, WW = WIN > 0 ? WIN : W;
  constexpr int HP = (H + WH - 1) / WH * WH, WP = (W + WW - 1) / WW * WW;
  constexpr int N1 = HP / WH, N2 = WP / WW, TOK = WH * WW;
  constexpr int KB = kAttnKeys<DK, DV>;
  __shared__ float kt[KB][DK], vt[KB][DV];
  const int win = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int wa = win / N2, wc = win % N2;
  // Pixel of window token t, or -1 for padding.
  auto pixel = [&](int t) {
    int row = (t / WW) * N1 + wa, col = (t % WW) * N2 + wc;
    return (row < H && col < W) ? row * W + col : -1;
  };
  const T *qb = q + b * qs + int64_t(h) * DK * H * W;
  const T *kb = k + b * ks + int64_t(h) * DK * H * W;
  const T *vb = v + b * vs + int64_t(h) * DV * H * W;
  T *yb = y + b * ys + int64_t(h) * DV * H * W;
  for (int q0 = 0; q0 < TOK; q0 += kAttnThreads) {
    const int i = q0 + threadIdx.x;
    const int pi = i < TOK ? pixel(i) : -1;
    float qv[DK], acc[DV], m = -INFINITY, sum = 0.f;
#pragma unroll
    for (int d = 0; d < DK; ++d)
      qv[d] = pi >= 0 ? toFloat(qb[int64_t(d) * H * W + pi]) * scale : 0.f;
#pragma unroll
    for (int d = 0; d < DV; ++d)
      acc[d] = 0.f;
    for (int j0 = 0; j0 < TOK; j0 += KB) {
      const int n = TOK - j0 < KB ? TOK - j0 : KB;
      for (int e = threadIdx.x; e < n * (DK + DV); e += kAttnThreads) {
        int j = e % n, d = e / n, pj = pixel(j0 + j);
        if (d < DK)
          kt[j][d] = pj >= 0 ? toFloat(kb[int64_t(d) * H * W + pj]) : 0.f;
        else
          vt[j][d - DK] =
              pj >= 0 ? toFloat(vb[int64_t(d - DK) * H * W + pj]) : 0.f;
      }
      __syncthreads();
      if (pi >= 0) {
        // Sub-blocks of kAttnStep keys: every register array is indexed by
        // unrolled constants (no local memory); keys past n score -inf.
        for (int j1 = 0; j1 < n; j1 += kAttnStep) {
          float p[kAttnStep], bm = m;
#pragma unroll
          for (int jj = 0; jj < kAttnStep; ++jj) {
            int j = j1 + jj < n ? j1 + jj : n - 1;
            float s = 0.f;
#pragma unroll
            for (int d = 0; d < DK; ++d)
              s = fmaf(qv[d], kt[j][d], s);
            p[jj] = j1 + jj < n ? s : -INFINITY;
            bm = fmaxf(bm, p[jj]);
          }
          float correction = expf(m - bm), stepSum = 0.f; // 0 at first
#pragma unroll
          for (int jj = 0; jj < kAttnStep; ++jj) {
            p[jj] = expf(p[jj] - bm);
            stepSum += p[jj];
          }
          sum = sum * correction + stepSum;
          m = bm;
#pragma unroll
          for (int d = 0; d < DV; ++d) {
            float o = 0.f;
#pragma unroll
            for (int jj = 0; jj < kAttnStep; ++jj) {
              int j = j1 + jj < n ? j1 + jj : n - 1;
              o = fmaf(p[jj], vt[j][d], o);
            }
            acc[d] = acc[d] * correction + o;
          }
        }
      }
      __syncthreads();
    }
    if (pi >= 0) {
      float inv = 1.f / sum;
#pragma unroll
      for (int d = 0; d < DV; ++d)
        yb[int64_t(d) * H * W + pi] = fromFloat<T>(acc[d] * inv);
    }
  }
}

/// Multi-head softmax attention over strided-grid windows (WIN = 0: the
/// whole map); q, k: [HEADS·DK, H, W], v, y: [HEADS·DV, H, W].
template <typename T, int H, int W, int HEADS, int DK, int DV, int WIN>
void attention(cudaStream_t s, int batch, const T *q, int64_t qs, const T *k,
               int64_t ks, const T *v, int64_t vs, float scale, T *y,
               int64_t ys) {
  constexpr int WH = WIN > 0 ? WIN : H, WW = WIN > 0 ? WIN : W;
  constexpr int N1 = (H + WH - 1) / WH, N2 = (W + WW - 1) / WW;
  launch(&attentionKernel<T, H, W, HEADS, DK, DV, WIN>,
         dim3(N1 * N2, HEADS, batch), dim3(kAttnThreads), s, q, qs, k, ks, v,
         vs, scale, y, ys);
}

//===----------------------------------------------------------------------===//
// EMA and squeeze-excite
//===----------------------------------------------------------------------===//

/// Sum over the block of one float per thread (blockDim.x == kThreads).
__device__ __forceinline__ float blockSum(float v, float *red) {
  red[threadIdx.x] = v;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride)
      red[threadIdx.x] += red[threadIdx.x + stride];
    __syncthreads();
  }
  float total = red[0];
  __syncthreads();
  return total;
}

/// EMA (Ouyang et al.), one block per (group, image), on BN(x) when
/// `scale` / `shift` are given. Phases separated by barriers: directional
/// means; sigmoid gates of the shared 1×1 conv; x·σ(h)·σ(w) and conv3x3
/// into scratch; GroupNorm statistics and the two channel softmaxes; the
/// cross-weighted gate applied to x.
template <typename T, int C, int H, int W, int G>
__global__ void __launch_bounds__(kThreads)
    emaKernel(const T *x, int64_t xs, const float *scale, const float *shift,
              const float *gnW, const float *gnB, const float *w1,
              const float *b1, const float *w3, const float *b3, T *y,
              int64_t ys, float *scratch) {
  constexpr int CG = C / G, HW = H * W, L = H + W;
  __shared__ float red[kThreads];
  const int g = blockIdx.x, b = blockIdx.y, tid = threadIdx.x;
  float *x1 = scratch + (int64_t(b) * C + int64_t(g) * CG) * HW;
  float *x2 = x1 + int64_t(C) * HW * gridDim.y;
  float *pooled = scratch + int64_t(2) * C * HW * gridDim.y +
                  (int64_t(b) * C + int64_t(g) * CG) * L;
  float *gate = pooled + int64_t(C) * L * gridDim.y;
  float *stats = scratch + int64_t(2) * C * (HW + L) * gridDim.y +
                 (int64_t(b) * C + int64_t(g) * CG) * 4;
  const T *gx = x + b * xs + int64_t(g) * CG * HW;
  auto in = [&](int c, int p) {
    float v = toFloat(gx[int64_t(c) * HW + p]);
    int ch = g * CG + c;
    return scale ? v * scale[ch] + shift[ch] : v;
  };
  for (int e = tid; e < CG * L; e += kThreads) {
    int c = e / L, t = e % L;
    float s = 0.f;
    if (t < H)
      for (int j = 0; j < W; ++j)
        s += in(c, t * W + j);
    else
      for (int i = 0; i < H; ++i)
        s += in(c, i * W + t - H);
    pooled[e] = s / (t < H ? W : H);
  }
  __syncthreads();
  for (int e = tid; e < CG * L; e += kThreads) {
    int o = e / L, t = e % L;
    float s = b1[o];
    for (int c = 0; c < CG; ++c)
      s += w1[o * CG + c] * pooled[c * L + t];
    gate[e] = sigmoid(s);
  }
  __syncthreads();
  for (int e = tid; e < CG * HW; e += kThreads) {
    int o = e / HW, p = e % HW, i = p / W, j = p % W;
    x1[e] = in(o, p) * gate[o * L + i] * gate[o * L + H + j];
    float s = b3[o];
    for (int c = 0; c < CG; ++c)
      for (int ky = 0; ky < 3; ++ky) {
        int iy = i + ky - 1;
        if (iy < 0 || iy >= H)
          continue;
        for (int kx = 0; kx < 3; ++kx) {
          int ix = j + kx - 1;
          if (ix >= 0 && ix < W)
            s += w3[(o * CG + c) * 9 + ky * 3 + kx] * in(c, iy * W + ix);
        }
      }
    x2[e] = s;
  }
  __syncthreads();
  // GroupNorm of x1 (one channel per group, two-pass), mean of x2.
  for (int c = 0; c < CG; ++c) {
    float s = 0.f, s2 = 0.f;
    for (int p = tid; p < HW; p += kThreads) {
      s += x1[c * HW + p];
      s2 += x2[c * HW + p];
    }
    float mean = blockSum(s, red) / HW, mean2 = blockSum(s2, red) / HW;
    float q = 0.f;
    for (int p = tid; p < HW; p += kThreads) {
      float d = x1[c * HW + p] - mean;
      q += d * d;
    }
    float var = blockSum(q, red) / HW;
    if (tid == 0) {
      float gs = gnW[c] / sqrtf(var + 1e-5f);
      stats[c] = gs;
      stats[CG + c] = gnB[c] - mean * gs;
      stats[2 * CG + c] = gnB[c]; // GAP(x1): the GroupNorm bias
      stats[3 * CG + c] = mean2;
    }
  }
  __syncthreads();
  if (tid < 2) {
    // Channel softmaxes of GAP(x1) (tid 0) and GAP(x2) (tid 1).
    float *a = stats + (2 + tid) * CG, m = -INFINITY, sum = 0.f;
    for (int c = 0; c < CG; ++c)
      m = fmaxf(m, a[c]);
    for (int c = 0; c < CG; ++c)
      sum += (a[c] = expf(a[c] - m));
    for (int c = 0; c < CG; ++c)
      a[c] /= sum;
  }
  __syncthreads();
  for (int p = tid; p < HW; p += kThreads) {
    float wgt = 0.f;
    for (int c = 0; c < CG; ++c)
      wgt += stats[2 * CG + c] * x2[c * HW + p] +
             stats[3 * CG + c] * (x1[c * HW + p] * stats[c] + stats[CG + c]);
    float gw = sigmoid(wgt);
    for (int c = 0; c < CG; ++c)
      y[b * ys + (int64_t(g) * CG + c) * HW + p] = fromFloat<T>(in(c, p) * gw);
  }
}

/// EMA of `batch` images [C, H, W] in G groups; `scratch` holds
/// batch · emaScratchFloats(C, H, W) floats.
template <typename T, int C, int H, int W, int G>
void ema(cudaStream_t s, int batch, const T *x, int64_t xs, const float *scale,
         const float *shift, const float *gnW, const float *gnB,
         const float *w1, const float *b1, const float *w3, const float *b3,
         T *y, int64_t ys, float *scratch) {
  launch(&emaKernel<T, C, H, W, G>, dim3(G, batch), dim3(kThreads), s, x, xs,
         scale, shift, gnW, gnB, w1, b1, w3, b3, y, ys, scratch);
}

template <typename T, int C, int HW>
__global__ void __launch_bounds__(kThreads)
    channelMeanKernel(const T *x, int64_t xs, float *mean) {
  __shared__ float red[kThreads];
  const int c = blockIdx.x, b = blockIdx.y;
  float s = 0.f;
  for (int p = threadIdx.x; p < HW; p += kThreads)
    s += toFloat(x[b * xs + int64_t(c) * HW + p]);
  s = blockSum(s, red);
  if (threadIdx.x == 0)
    mean[b * C + c] = s / HW;
}

template <int C, int R, Act A>
__global__ void __launch_bounds__(kThreads)
    exciteKernel(const float *mean, const float *w1, const float *b1,
                 const float *w2, const float *b2, float *gate) {
  __shared__ float hidden[R];
  const int b = blockIdx.x;
  for (int r = threadIdx.x; r < R; r += kThreads) {
    float s = b1[r];
    for (int c = 0; c < C; ++c)
      s += w1[r * C + c] * mean[b * C + c];
    hidden[r] = activate<A>(s);
  }
  __syncthreads();
  for (int c = threadIdx.x; c < C; c += kThreads) {
    float s = b2[c];
    for (int r = 0; r < R; ++r)
      s += w2[c * R + r] * hidden[r];
    gate[b * C + c] = sigmoid(s);
  }
}

template <typename T, int C, int HW>
__global__ void channelScaleKernel(int batch, const T *x, int64_t xs,
                                   const float *gate, T *y, int64_t ys) {
  constexpr int64_t PER = int64_t(C) * HW;
  IRMB_GRID_STRIDE(i, batch * PER) {
    int64_t b = i / PER, r = i % PER;
    y[b * ys + r] = fromFloat<T>(toFloat(x[b * xs + r]) * gate[b * C + r / HW]);
  }
}

/// timm SqueezeExcite y = x · σ(W2 act(W1 mean(x) + b1) + b2): channel
/// means, the excitation, the scaling (three launches); `scratch` holds
/// batch · squeezeExciteScratchFloats(C) floats.
template <typename T, int C, int HW, int R, Act A>
void squeezeExcite(cudaStream_t s, int batch, const T *x, int64_t xs,
                   const float *w1, const float *b1, const float *w2,
                   const float *b2, T *y, int64_t ys, float *scratch) {
  float *mean = scratch, *gate = scratch + int64_t(batch) * C;
  launch(&channelMeanKernel<T, C, HW>, dim3(C, batch), dim3(kThreads), s, x, xs,
         mean);
  launch(&exciteKernel<C, R, A>, dim3(batch), dim3(kThreads), s, mean, w1, b1,
         w2, b2, gate);
  launch(&channelScaleKernel<T, C, HW>, gridFor(int64_t(batch) * C * HW),
         kThreads, s, batch, x, xs, gate, y, ys);
}

//===----------------------------------------------------------------------===//
// Detection decoding
//===----------------------------------------------------------------------===//

template <typename T, int NC, int RM, int H, int W, int STRIDE, int A>
__global__ void detectDecodeKernel(int batch, const T *x, int64_t xs,
                                   const float *dfl, int offset, float *y) {
  constexpr int HW = H * W;
  IRMB_GRID_STRIDE(i, int64_t(batch) * HW) {
    int64_t b = i / HW;
    int p = static_cast<int>(i % HW);
    const T *xb = x + b * xs;
    float *yb = y + b * int64_t(4 + NC) * A;
    float dist[4];
    for (int side = 0; side < 4; ++side) {
      const T *bins = xb + int64_t(side) * RM * HW + p;
      float m = -INFINITY, sum = 0.f, expect = 0.f;
      for (int r = 0; r < RM; ++r)
        m = fmaxf(m, toFloat(bins[r * HW]));
      for (int r = 0; r < RM; ++r) {
        float e = expf(toFloat(bins[r * HW]) - m);
        sum += e;
        expect += e * dfl[r];
      }
      dist[side] = expect / sum;
    }
    float ax = static_cast<float>(p % W) + 0.5f;
    float ay = static_cast<float>(p / W) + 0.5f;
    float x1 = ax - dist[0], y1 = ay - dist[1];
    float x2 = ax + dist[2], y2 = ay + dist[3];
    int col = offset + p;
    yb[0 * A + col] = (x1 + x2) / 2 * STRIDE;
    yb[1 * A + col] = (y1 + y2) / 2 * STRIDE;
    yb[2 * A + col] = (x2 - x1) * STRIDE;
    yb[3 * A + col] = (y2 - y1) * STRIDE;
    for (int c = 0; c < NC; ++c)
      yb[int64_t(4 + c) * A + col] =
          sigmoid(toFloat(xb[int64_t(4 * RM + c) * HW + p]));
  }
}

/// One level of a Detect head: [4·RM + NC, H, W] -> float columns
/// [offset, offset + H·W) of the result [4 + NC, A] per image.
template <typename T, int NC, int RM, int H, int W, int STRIDE, int A>
void detectDecodeLevel(cudaStream_t s, int batch, const T *x, int64_t xs,
                       const float *dfl, int offset, float *y) {
  launch(&detectDecodeKernel<T, NC, RM, H, W, STRIDE, A>,
         gridFor(int64_t(batch) * H * W), kThreads, s, batch, x, xs, dfl,
         offset, y);
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

template <typename E>
__global__ void flagNonFiniteKernel(int batch, const E *x, int64_t xs,
                                    int64_t n, int *flag) {
  IRMB_GRID_STRIDE(i, batch * n) {
    float v = toFloat(x[(i / n) * xs + i % n]);
    if (!(fabsf(v) <= 3.402823466e38f)) // NaN compares false
      *flag = 1;
  }
}

/// Sets *flag (device memory) to 1 when one of the n elements per image
/// (xs apart) is a NaN or an infinity; profiling runs launch it after
/// every kernel on its result.
template <typename E>
void flagNonFinite(cudaStream_t s, int batch, const E *x, int64_t xs,
                   int64_t n, int *flag) {
  launch(&flagNonFiniteKernel<E>, gridFor(batch * n), kThreads, s, batch, x,
         xs, n, flag);
}

} // namespace irmb::cuda

#endif // IRMB_CODEGEN_CUDA_KERNELS_CUDAKERNELS_CUH
