// device-pointers MODEL.so INPUT.npy: runs a CUDA model once from host
// buffers and once from device buffers (cudaMalloc) through the irmb C API
// and checks that both raw outputs are bit-identical. Prints "identical".
#include "irmb/irmb.h"
#include "runtime/npy/Npy.h"

#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>
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
  if (argc != 3)
    return std::fprintf(stderr, "usage: device-pointers MODEL.so INPUT.npy\n"),
           2;
  irmb::npy::Array x;
  std::string error;
  if (!irmb::npy::readNpy(argv[2], x, error))
    return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  irmb_model *m = irmb_create(argv[1]);
  if (!m)
    return std::fprintf(stderr, "%s\n", irmb_last_error()), 1;
  irmb_info info;
  irmb_get_info(m, &info);
  size_t outCount =
      info.output_shape[0] * info.output_shape[1] * info.output_shape[2];
  std::vector<float> host(outCount), fromDevice(outCount);
  if (irmb_run(m, x.values.data(), host.data()) != 0)
    return std::fprintf(stderr, "%s\n", irmb_last_error()), 1;
  float *din = nullptr, *dout = nullptr;
  CHECK(cudaMalloc(&din, x.values.size() * sizeof(float)));
  CHECK(cudaMalloc(&dout, outCount * sizeof(float)));
  CHECK(cudaMemcpy(din, x.values.data(), x.values.size() * sizeof(float),
                   cudaMemcpyHostToDevice));
  if (irmb_run(m, din, dout) != 0)
    return std::fprintf(stderr, "%s\n", irmb_last_error()), 1;
  CHECK(cudaMemcpy(fromDevice.data(), dout, outCount * sizeof(float),
                   cudaMemcpyDeviceToHost));
  bool same = std::memcmp(host.data(), fromDevice.data(),
                          outCount * sizeof(float)) == 0;
  std::printf("%s\n", same ? "identical" : "different");
  cudaFree(din);
  cudaFree(dout);
  irmb_destroy(m);
  return same ? 0 : 1;
}
