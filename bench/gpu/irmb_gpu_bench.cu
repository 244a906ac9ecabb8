// irmb_gpu_bench MODEL.so NAME [--runs N] [--warmup N]
//
// The irmb side of bench/gpu.sh, built on the device with nvcc from the
// runtime sources. Times irmb_run (the model's CUDA graph) on device input
// and output buffers with CUDA events. It rotates over three random input
// sets (never zeros), then prints one JSON line with the median and minimum
// milliseconds per forward of the whole batch, and the launches per
// forward.
#include "irmb/irmb.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>
#include <random>
#include <string>
#include <vector>

#define CHECK(call)                                                            \
  do {                                                                         \
    cudaError_t e = (call);                                                    \
    if (e != cudaSuccess) {                                                    \
      std::fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(e));          \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: irmb_gpu_bench MODEL.so NAME [--runs N] "
                         "[--warmup N]\n");
    return 2;
  }
  int runs = 200, warmup = 20;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--warmup"))
      warmup = std::atoi(argv[i + 1]);
  }
  irmb_model *m = irmb_create(argv[1]);
  if (!m) {
    std::fprintf(stderr, "%s\n", irmb_last_error());
    return 1;
  }
  irmb_info info;
  irmb_get_info(m, &info);
  size_t in = 1, out = 1;
  for (int i = 0; i < 4; ++i)
    in *= info.input_shape[i];
  for (int i = 0; i < 3; ++i)
    out *= info.output_shape[i];
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  std::vector<float *> inputs(3);
  std::vector<float> host(in);
  for (float *&d : inputs) {
    for (float &v : host)
      v = uniform(rng);
    CHECK(cudaMalloc(&d, in * sizeof(float)));
    CHECK(
        cudaMemcpy(d, host.data(), in * sizeof(float), cudaMemcpyHostToDevice));
  }
  float *output = nullptr;
  CHECK(cudaMalloc(&output, out * sizeof(float)));
  for (int i = 0; i < warmup; ++i)
    if (irmb_run(m, inputs[i % 3], output) != 0) {
      std::fprintf(stderr, "%s\n", irmb_last_error());
      return 1;
    }
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  std::vector<float> ms;
  for (int i = 0; i < runs; ++i) {
    CHECK(cudaEventRecord(start));
    if (irmb_run(m, inputs[i % 3], output) != 0) {
      std::fprintf(stderr, "%s\n", irmb_last_error());
      return 1;
    }
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float t = 0.f;
    CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("{\"impl\": \"irmb\", \"model\": \"%s\", \"batch\": %lld, "
              "\"precision\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f, "
              "\"launches\": %d}\n",
              argv[2], (long long)info.input_shape[0], info.precision,
              ms[ms.size() / 2], ms.front(), info.launches);
  irmb_destroy(m);
  return 0;
}
