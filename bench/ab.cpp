//===- ab.cpp - A/B timing of two compiled models in one process ----------===//
//
// On a shared, noisy machine two separate benchmark runs drift by more than
// the change being measured. This harness loads two models (two builds of
// the same network, e.g. before and after a kernel change, compiled by two
// irmb-compile binaries) and alternates their runs in one process, so both
// see the same noise; it prints each one's median and minimum and the
// ratios A/B (> 1: B is faster), then how far B's output lies from A's
// (bit-identical, or the largest absolute difference), so a kernel change
// meant to keep every result is checked in the same run. The models must
// take the same input shape.
//
//   c++ -O2 -std=c++17 -Iruntime/include bench/ab.cpp -Lbuild/lib \
//       -lirmb_runtime -Wl,-rpath,$PWD/build/lib -o ab
//   ./ab old.so new.so [THREADS=1] [RUNS=20]
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double minimum(const std::vector<double> &v) {
  return *std::min_element(v.begin(), v.end());
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ab A.so B.so [THREADS] [RUNS]\n");
    return 2;
  }
  int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  int runs = argc > 4 ? std::atoi(argv[4]) : 20;
  irmb_model *models[2] = {irmb_create(argv[1]), irmb_create(argv[2])};
  if (!models[0] || !models[1] || threads < 1 || runs < 1) {
    std::fprintf(stderr, "error: %s\n",
                 threads < 1 || runs < 1 ? "THREADS and RUNS must be >= 1"
                                         : irmb_last_error());
    return 1;
  }
  irmb_info info[2];
  for (int k = 0; k < 2; ++k) {
    irmb_set_threads(models[k], threads);
    irmb_get_info(models[k], &info[k]);
  }
  if (!std::equal(info[0].input_shape, info[0].input_shape + 4,
                  info[1].input_shape)) {
    std::fprintf(stderr, "error: the models take different input shapes\n");
    return 1;
  }
  const int64_t *s = info[0].input_shape;
  std::vector<float> x(s[0] * s[1] * s[2] * s[3]);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i * 7919 % 1000) / 1000.f;
  std::vector<float> y[2];
  for (int k = 0; k < 2; ++k)
    y[k].resize(info[k].output_shape[0] * info[k].output_shape[1] *
                info[k].output_shape[2]);
  std::vector<double> ms[2];
  // Two warm-up rounds, then A and B alternately.
  for (int r = 0; r < runs + 2; ++r)
    for (int k = 0; k < 2; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      if (irmb_run(models[k], x.data(), y[k].data()) != 0) {
        std::fprintf(stderr, "error: %s\n", irmb_last_error());
        return 1;
      }
      double t = std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
      if (r >= 2)
        ms[k].push_back(t);
    }
  std::printf("threads=%d runs=%d A: median %.2f min %.2f ms | B: median %.2f "
              "min %.2f ms | A/B median %.3f min %.3f\n",
              threads, runs, median(ms[0]), minimum(ms[0]), median(ms[1]),
              minimum(ms[1]), median(ms[0]) / median(ms[1]),
              minimum(ms[0]) / minimum(ms[1]));
  if (y[0].size() != y[1].size()) {
    std::printf("outputs: different shapes\n");
  } else {
    double worst = 0;
    for (size_t i = 0; i < y[0].size(); ++i)
      worst = std::max(worst, static_cast<double>(std::abs(y[0][i] - y[1][i])));
    if (std::memcmp(y[0].data(), y[1].data(), sizeof(float) * y[0].size()) == 0)
      std::printf("outputs: bit-identical\n");
    else
      std::printf("outputs: max |A - B| = %.3g\n", worst);
  }
  for (irmb_model *m : models)
    irmb_destroy(m);
  return 0;
}
