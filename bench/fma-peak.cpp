// FMA throughput of one core: 12 (AVX2) or 24 (AVX-512) independent
// accumulator chains of fused multiply-adds for about 0.4 s, the best of
// three runs, printed as "fma_peak_gflops: <isa> <GFLOP/s>" (FMA = 2 FLOP).
// bench/run.sh builds it with -mavx2 -mfma and, where the CPU has AVX-512F,
// with -mavx512f, and takes the floor of every model from it.
#include "codegen/cpu/kernels/MicroKernel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace {
// The kernel library's ISA traits (AVX-512 or AVX2 + FMA, by -m flags):
// as many chains as the GEMM micro-kernel's accumulators.
using irmb::kernels::Isa;
using Reg = Isa::Reg;
constexpr int kLanes = Isa::kLanes, kChains = Isa::kRows * Isa::kVectors;
const char *kIsa = Isa::kName;
Reg splat(float v) { return Isa::set1(v); }
Reg fma(Reg a, Reg b, Reg c) { return Isa::fma(a, b, c); }
float lane0(Reg v) {
  alignas(64) float lanes[Isa::kLanes];
  Isa::store(lanes, v);
  return lanes[0];
}

double run(long iterations, float *sink) {
  Reg acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = splat(0.001f * i);
  Reg m = splat(0.99999f), d = splat(1e-6f);
  auto t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < kChains; ++i)
      acc[i] = fma(acc[i], m, d);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           t0)
                 .count();
  float total = 0;
  for (int i = 0; i < kChains; ++i)
    total += lane0(acc[i]);
  *sink += total;
  return 2.0 * kLanes * kChains * iterations / s / 1e9;
}
} // namespace

int main() {
  float sink = 0;
  double best = 0;
  for (int r = 0; r < 3; ++r)
    best = std::max(best, run(60000000L * 12 / kChains, &sink));
  std::printf("fma_peak_gflops: %s %.1f\n", kIsa, best + sink * 0);
  return 0;
}
