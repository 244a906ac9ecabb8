//===- CudaModel.cuh - the model ABI of a generated CUDA model ------------===//
//
// Included by every model.cu that irmb-compile --target cuda writes, after
// it has defined the element type `T` and the constants below; implements
// ModelAbi.h around the generated `forward(stream, buffers, timer)`. An
// instance owns one stream, its device buffers (input staging, arena,
// scratch, output), the weights uploaded once (float, plus a T copy for the
// tensor-core kernels) and the forward captured once as a CUDA graph. A run
// copies the input in (host or device pointer: cudaMemcpyDefault), launches
// the graph (or, when profiling, the kernels one by one between events,
// each result then flagged when it holds a NaN or an infinity) and copies
// the output out. Every CUDA call is checked.
//
// Expected from the including file: T, kConvertInput (whether any kernel
// reads the input in T rather than the float input), kInputElems, kOutputElems,
// kArenaElems (T elements, whole batch), kScratchFloats, kWeightBytes,
// irmb_weights[], modelDesc(), and forward() after this header.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_CUDA_KERNELS_CUDAMODEL_CUH
#define IRMB_CODEGEN_CUDA_KERNELS_CUDAMODEL_CUH

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace irmb::cuda {

/// The device memory one forward reads and writes.
struct Buffers {
  const float *input = nullptr; ///< staged input (float)
  T *in = nullptr;              ///< the input in T (float: == input; null
                                ///< when no kernel reads it in T)
  float *out = nullptr;         ///< raw predictions (float)
  T *arena = nullptr;           ///< every intermediate of the batch
  float *scratch = nullptr;     ///< EMA / squeeze-excite scratch
  const float *wf = nullptr;    ///< weights blob (float)
  const T *wt = nullptr;        ///< the same blob in T (== wf for float)
};

/// Per-kernel CUDA events and non-finite flags while profiling.
struct KernelTimer {
  cudaStream_t stream;
  std::vector<cudaEvent_t> start, stop;
  /// Device, one int per kernel, set to 1 by flagNonFinite when the
  /// kernel's result held a NaN or an infinity; null: results unchecked.
  int *flags = nullptr;
  void begin(int i) { cudaEventRecord(start[i], stream); }
  void end(int i) { cudaEventRecord(stop[i], stream); }
};

/// One model instance.
struct Instance {
  cudaStream_t stream = nullptr;
  Buffers buffers;
  std::vector<void *> allocations;
  cudaGraphExec_t graph = nullptr;
  KernelTimer timer;
  int *flags = nullptr;        ///< device: the timer's flags
  std::vector<int> hostFlags;  ///< their host copy (zeros before a run)
};

inline thread_local std::string modelError;

/// Records a failed CUDA call; returns -1.
inline int failed(const char *what, cudaError_t e) {
  modelError = std::string(what) + ": " + cudaGetErrorString(e);
  return -1;
}

#define IRMB_CUDA_CHECK(call)                                                  \
  do {                                                                         \
    cudaError_t irmbError = (call);                                            \
    if (irmbError != cudaSuccess)                                              \
      return ::irmb::cuda::failed(#call, irmbError);                           \
  } while (0)

/// Launches kernel `index` of the forward, between events when profiling.
#define IRMB_CALL(index, ...)                                                  \
  do {                                                                         \
    if (timer)                                                                 \
      timer->begin(index);                                                     \
    __VA_ARGS__;                                                               \
    if (timer)                                                                 \
      timer->end(index);                                                       \
  } while (0)

/// After kernel `index` while profiling: flags its result (device pointer,
/// image stride, elements per image) when it holds a non-finite value.
#define IRMB_CHECK(index, ...)                                                 \
  do {                                                                         \
    if (timer && timer->flags)                                                 \
      ::irmb::cuda::flagNonFinite(stream, kBatch, __VA_ARGS__,                 \
                                  timer->flags + (index));                     \
  } while (0)

} // namespace irmb::cuda

static void forward(cudaStream_t stream, const irmb::cuda::Buffers &m,
                    irmb::cuda::KernelTimer *timer);

namespace irmb::cuda {

template <typename P> int allocate(Instance &s, P *&p, int64_t count) {
  void *raw = nullptr;
  size_t bytes = static_cast<size_t>(count > 0 ? count : 1) * sizeof(P);
  IRMB_CUDA_CHECK(cudaMalloc(&raw, bytes));
  s.allocations.push_back(raw);
  p = static_cast<P *>(raw);
  return 0;
}

inline void release(Instance *s) {
  if (s->graph)
    cudaGraphExecDestroy(s->graph);
  for (cudaEvent_t e : s->timer.start)
    cudaEventDestroy(e);
  for (cudaEvent_t e : s->timer.stop)
    cudaEventDestroy(e);
  for (void *p : s->allocations)
    cudaFree(p);
  if (s->stream)
    cudaStreamDestroy(s->stream);
  delete s;
}

inline int open(Instance &s) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    modelError = "no CUDA device is available (this model was compiled "
                 "with --target cuda)";
    return -1;
  }
  IRMB_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
  Buffers &b = s.buffers;
  float *input = nullptr, *wf = nullptr;
  if (allocate(s, input, kInputElems) || allocate(s, b.out, kOutputElems) ||
      allocate(s, b.arena, kArenaElems) ||
      allocate(s, b.scratch, kScratchFloats) ||
      allocate(s, wf, kWeightBytes / 4))
    return -1;
  b.input = input;
  b.wf = wf;
  IRMB_CUDA_CHECK(cudaMemcpyAsync(wf, irmb_weights, kWeightBytes,
                                  cudaMemcpyHostToDevice, s.stream));
  if constexpr (std::is_same_v<T, float>) {
    b.in = reinterpret_cast<T *>(input);
    b.wt = reinterpret_cast<const T *>(wf);
  } else {
    T *in = nullptr, *wt = nullptr;
    if ((kConvertInput && allocate(s, in, kInputElems)) ||
        allocate(s, wt, kWeightBytes / 4))
      return -1;
    convert(s.stream, wf, wt, kWeightBytes / 4);
    IRMB_CUDA_CHECK(cudaGetLastError());
    b.in = in;
    b.wt = wt;
  }
  int kernels = modelDesc().num_kernels;
  s.timer.stream = s.stream;
  s.timer.start.resize(kernels);
  s.timer.stop.resize(kernels);
  for (int i = 0; i < kernels; ++i) {
    IRMB_CUDA_CHECK(cudaEventCreate(&s.timer.start[i]));
    IRMB_CUDA_CHECK(cudaEventCreate(&s.timer.stop[i]));
  }
  if (allocate(s, s.flags, kernels))
    return -1;
  s.hostFlags.assign(kernels, 0);
  // The forward (input conversion included) as one CUDA graph.
  cudaGraph_t graph = nullptr;
  IRMB_CUDA_CHECK(
      cudaStreamBeginCapture(s.stream, cudaStreamCaptureModeThreadLocal));
  if constexpr (!std::is_same_v<T, float>)
    if (kConvertInput)
      convert(s.stream, b.input, b.in, kInputElems);
  forward(s.stream, b, nullptr);
  cudaError_t launched = cudaGetLastError();
  cudaError_t ended = cudaStreamEndCapture(s.stream, &graph);
  IRMB_CUDA_CHECK(launched);
  IRMB_CUDA_CHECK(ended);
  cudaError_t made = cudaGraphInstantiate(&s.graph, graph, 0);
  cudaGraphDestroy(graph);
  IRMB_CUDA_CHECK(made);
  IRMB_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  return 0;
}

inline int run(Instance &s, const float *input, float *output,
               double *kernel_ms, int *first_nonfinite) {
  const Buffers &b = s.buffers;
  const size_t flagBytes = sizeof(int) * s.hostFlags.size();
  IRMB_CUDA_CHECK(cudaMemcpyAsync(const_cast<float *>(b.input), input,
                                  sizeof(float) * kInputElems,
                                  cudaMemcpyDefault, s.stream));
  s.timer.flags = first_nonfinite ? s.flags : nullptr;
  if (first_nonfinite) {
    std::fill(s.hostFlags.begin(), s.hostFlags.end(), 0);
    IRMB_CUDA_CHECK(cudaMemcpyAsync(s.flags, s.hostFlags.data(), flagBytes,
                                    cudaMemcpyHostToDevice, s.stream));
  }
  if (kernel_ms || first_nonfinite) {
    if constexpr (!std::is_same_v<T, float>)
      if (kConvertInput)
        convert(s.stream, b.input, b.in, kInputElems);
    forward(s.stream, b, &s.timer);
    IRMB_CUDA_CHECK(cudaGetLastError());
  } else {
    IRMB_CUDA_CHECK(cudaGraphLaunch(s.graph, s.stream));
  }
  IRMB_CUDA_CHECK(cudaMemcpyAsync(output, b.out, sizeof(float) * kOutputElems,
                                  cudaMemcpyDefault, s.stream));
  if (first_nonfinite)
    IRMB_CUDA_CHECK(cudaMemcpyAsync(s.hostFlags.data(), s.flags, flagBytes,
                                    cudaMemcpyDeviceToHost, s.stream));
  IRMB_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  if (first_nonfinite) {
    auto bad = std::find(s.hostFlags.begin(), s.hostFlags.end(), 1);
    *first_nonfinite = bad == s.hostFlags.end()
                           ? -1
                           : static_cast<int>(bad - s.hostFlags.begin());
  }
  if (kernel_ms)
    for (size_t i = 0; i < s.timer.start.size(); ++i) {
      float ms = 0.f;
      IRMB_CUDA_CHECK(
          cudaEventElapsedTime(&ms, s.timer.start[i], s.timer.stop[i]));
      kernel_ms[i] += ms;
    }
  return 0;
}

} // namespace irmb::cuda

extern "C" const irmb_model_desc *irmb_model_describe(void) {
  return &modelDesc();
}

extern "C" const char *irmb_model_error(void) {
  return irmb::cuda::modelError.c_str();
}

extern "C" void irmb_model_set_threads(int) {}

extern "C" int irmb_model_open(void **state) {
  auto *s = new irmb::cuda::Instance;
  if (irmb::cuda::open(*s) != 0) {
    irmb::cuda::release(s);
    *state = nullptr;
    return -1;
  }
  *state = s;
  return 0;
}

extern "C" void irmb_model_close(void *state) {
  if (state)
    irmb::cuda::release(static_cast<irmb::cuda::Instance *>(state));
}

extern "C" int irmb_model_run(void *state, const float *input, float *output,
                              void *, double *kernel_ms,
                              int *first_nonfinite) {
  if (!state) {
    irmb::cuda::modelError = "irmb_model_run: no instance";
    return -1;
  }
  return irmb::cuda::run(*static_cast<irmb::cuda::Instance *>(state), input,
                         output, kernel_ms, first_nonfinite);
}

#endif // IRMB_CODEGEN_CUDA_KERNELS_CUDAMODEL_CUH
