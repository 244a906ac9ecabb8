//===- CudaEmulation.h - run the CUDA kernels on the host, for tests ------===//
//
// Just enough of CUDA for CudaKernels.cuh and CudaModel.cuh to compile with
// the host compiler (-DIRMB_CUDA_EMULATION -include CudaEmulation.h) and run
// without a GPU: each block's threads are fibers on the calling thread that
// switch at __syncthreads (so shared memory, which becomes function-static
// storage, and barriers behave as on the device); memory is host memory;
// streams run in order; a captured graph replays its recorded launches;
// __half and __nv_bfloat16 round like the device types; WMMA fragments hold
// the whole tile and lane 0 of each warp does the warp's work. It checks
// indexing, tiling, boundaries and barrier placement of the real kernel
// text; it says nothing about speed, races between warps or the memory
// model. x86-64 only (the fiber switch is eight instructions of assembly).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CUDA_KERNELS_CUDAEMULATION_H
#define IRMB_CODEGEN_CUDA_KERNELS_CUDAEMULATION_H

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3(unsigned x = 1, unsigned y = 1, unsigned z = 1) : x(x), y(y), z(z) {}
};

//===----------------------------------------------------------------------===//
// Fibers: one per thread of the running block
//===----------------------------------------------------------------------===//

// irmb_emu_switch(from, to): saves the callee-saved registers on the current
// stack, stores the stack pointer in *from and resumes the stack `to`.
asm(R"(
  .text
  .weak irmb_emu_switch
  .hidden irmb_emu_switch
  .type irmb_emu_switch, @function
irmb_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size irmb_emu_switch, .-irmb_emu_switch
)");
extern "C" void irmb_emu_switch(void **from, void *to);

namespace irmb::emu {

constexpr size_t kFiberStack = 128 * 1024;

struct Fiber {
  void *sp = nullptr;
  std::unique_ptr<char[]> stack;
  dim3 thread;
  bool done = false;
};

/// The state of the running grid.
struct Scheduler {
  std::vector<Fiber> fibers;
  void *schedulerSp = nullptr;
  Fiber *current = nullptr;
  dim3 block, grid, blockDim;
  const std::function<void()> *body = nullptr;
};

inline Scheduler &scheduler() {
  static Scheduler s;
  return s;
}

[[noreturn]] inline void trampoline() {
  Scheduler &s = scheduler();
  (*s.body)();
  s.current->done = true;
  irmb_emu_switch(&s.current->sp, s.schedulerSp);
  __builtin_unreachable();
}

/// __syncthreads: parks this fiber until every thread of the block is here.
inline void barrier() {
  Scheduler &s = scheduler();
  irmb_emu_switch(&s.current->sp, s.schedulerSp);
}

/// Runs `body` as every thread of every block of the grid.
inline void runGrid(dim3 grid, dim3 block, const std::function<void()> &body) {
  Scheduler &s = scheduler();
  size_t threads = size_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024) {
    std::fprintf(stderr, "emulated launch with %zu threads per block\n",
                 threads);
    std::abort();
  }
  while (s.fibers.size() < threads) {
    s.fibers.emplace_back();
    s.fibers.back().stack.reset(new char[kFiberStack]);
  }
  s.grid = grid;
  s.blockDim = block;
  s.body = &body;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        s.block = dim3(bx, by, bz);
        for (size_t i = 0; i < threads; ++i) {
          Fiber &f = s.fibers[i];
          f.thread = dim3(i % block.x, i / block.x % block.y,
                          i / (size_t(block.x) * block.y));
          f.done = false;
          auto top = reinterpret_cast<uintptr_t>(f.stack.get() + kFiberStack);
          void **sp = reinterpret_cast<void **>(top & ~uintptr_t(15));
          *--sp = nullptr; // keeps the trampoline's frame 16-byte aligned
          *--sp = reinterpret_cast<void *>(&trampoline);
          for (int r = 0; r < 6; ++r)
            *--sp = nullptr;
          f.sp = sp;
        }
        // Rounds: every live fiber runs to its next barrier or its end.
        for (;;) {
          size_t done = 0, parked = 0;
          for (size_t i = 0; i < threads; ++i) {
            Fiber &f = s.fibers[i];
            if (f.done) {
              ++done;
              continue;
            }
            s.current = &f;
            irmb_emu_switch(&s.schedulerSp, f.sp);
            f.done ? ++done : ++parked;
          }
          if (parked == 0)
            break;
          if (done != 0) {
            std::fprintf(stderr,
                         "emulated kernel: __syncthreads reached by "
                         "%zu of %zu threads\n",
                         parked, threads);
            std::abort();
          }
        }
      }
  s.current = nullptr;
}

} // namespace irmb::emu

#define threadIdx (::irmb::emu::scheduler().current->thread)
#define blockIdx (::irmb::emu::scheduler().block)
#define blockDim (::irmb::emu::scheduler().blockDim)
#define gridDim (::irmb::emu::scheduler().grid)
inline void __syncthreads() { ::irmb::emu::barrier(); }

//===----------------------------------------------------------------------===//
// 16-bit floating point
//===----------------------------------------------------------------------===//

struct __half {
  _Float16 v;
};
inline __half __float2half(float x) { return {static_cast<_Float16>(x)}; }
inline float __half2float(__half x) { return static_cast<float>(x.v); }

struct __nv_bfloat16 {
  uint16_t bits;
};
inline __nv_bfloat16 __float2bfloat16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if (std::isnan(x))
    return {0x7fc0};
  u += 0x7fff + ((u >> 16) & 1); // round to nearest even
  return {static_cast<uint16_t>(u >> 16)};
}
inline float __bfloat162float(__nv_bfloat16 x) {
  uint32_t u = uint32_t(x.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

//===----------------------------------------------------------------------===//
// The runtime API, on host memory
//===----------------------------------------------------------------------===//

enum cudaError_t { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind {
  cudaMemcpyHostToHost,
  cudaMemcpyHostToDevice,
  cudaMemcpyDeviceToHost,
  cudaMemcpyDeviceToDevice,
  cudaMemcpyDefault
};
enum cudaStreamCaptureMode { cudaStreamCaptureModeThreadLocal = 1 };
constexpr unsigned cudaStreamNonBlocking = 1;

namespace irmb::emu {
struct Graph {
  std::vector<std::function<void()>> launches;
};
struct Stream {
  Graph *capture = nullptr;
};
struct Event {
  std::chrono::steady_clock::time_point at;
};

/// Runs a launch now, or records it while its stream is being captured.
inline void launch(dim3 grid, dim3 block, Stream *stream,
                   std::function<void()> body) {
  if (stream && stream->capture) {
    stream->capture->launches.push_back(
        [grid, block, body] { runGrid(grid, block, body); });
    return;
  }
  runGrid(grid, block, body);
}
} // namespace irmb::emu

using cudaStream_t = irmb::emu::Stream *;
using cudaGraph_t = irmb::emu::Graph *;
using cudaGraphExec_t = irmb::emu::Graph *;
using cudaEvent_t = irmb::emu::Event *;

inline const char *cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : "out of memory";
}
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int *n) {
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaMalloc(void **p, size_t bytes) {
  *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFree(void *p) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                                   cudaMemcpyKind, cudaStream_t) {
  std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned) {
  *s = new irmb::emu::Stream;
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamBeginCapture(cudaStream_t s,
                                          cudaStreamCaptureMode) {
  s->capture = new irmb::emu::Graph;
  return cudaSuccess;
}
inline cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g) {
  *g = s->capture;
  s->capture = nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g,
                                        unsigned long long) {
  *e = new irmb::emu::Graph(*g);
  return cudaSuccess;
}
inline cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  delete g;
  return cudaSuccess;
}
inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t) {
  for (auto &launch : e->launches)
    launch();
  return cudaSuccess;
}
inline cudaError_t cudaEventCreate(cudaEvent_t *e) {
  *e = new irmb::emu::Event;
  return cudaSuccess;
}
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  e->at = std::chrono::steady_clock::now();
  return cudaSuccess;
}
inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a,
                                        cudaEvent_t b) {
  *ms = std::chrono::duration<float, std::milli>(b->at - a->at).count();
  return cudaSuccess;
}

//===----------------------------------------------------------------------===//
// WMMA: whole tiles, computed by lane 0 of each warp
//===----------------------------------------------------------------------===//

namespace nvcuda::wmma {
struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename E, typename L = void>
struct fragment {
  float v[16][16];
};

inline bool warpLeader() {
  const dim3 &t = threadIdx;
  const dim3 &b = blockDim;
  return (t.x + b.x * (t.y + b.y * t.z)) % 32 == 0;
}
inline float value(float x) { return x; }
inline float value(__half x) { return __half2float(x); }
inline float value(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename U, typename E, typename L>
void fill_fragment(fragment<U, 16, 16, 16, E, L> &f, float x) {
  if (warpLeader())
    for (auto &row : f.v)
      for (float &e : row)
        e = x;
}
template <typename U, typename E>
void load_matrix_sync(fragment<U, 16, 16, 16, E, row_major> &f, const E *p,
                      unsigned ldm) {
  if (warpLeader())
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 16; ++c)
        f.v[r][c] = value(p[r * ldm + c]);
}
template <typename E>
void mma_sync(fragment<accumulator, 16, 16, 16, float> &d,
              const fragment<matrix_a, 16, 16, 16, E, row_major> &a,
              const fragment<matrix_b, 16, 16, 16, E, row_major> &b,
              const fragment<accumulator, 16, 16, 16, float> &c) {
  if (!warpLeader())
    return;
  float out[16][16];
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      float s = c.v[m][n];
      for (int k = 0; k < 16; ++k)
        s += a.v[m][k] * b.v[k][n];
      out[m][n] = s;
    }
  std::memcpy(d.v, out, sizeof out);
}
inline void store_matrix_sync(float *p,
                              const fragment<accumulator, 16, 16, 16, float> &f,
                              unsigned ldm, layout_t) {
  if (warpLeader())
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 16; ++c)
        p[r * ldm + c] = f.v[r][c];
}
} // namespace nvcuda::wmma

#endif // IRMB_CODEGEN_CUDA_KERNELS_CUDAEMULATION_H
