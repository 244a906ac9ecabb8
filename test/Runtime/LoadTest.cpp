//===- LoadTest.cpp - the runtime under load ------------------------------===//
//
// irmb-runtime-load-test A.so B.so [--runs N] [--cycles N]: what a service
// does to the runtime. Reference outputs first (one instance, one thread),
// then, at the same time: one thread per model per instance running its
// own instances N times each; four threads sharing one instance of A (the
// instance serialises them, irmb.h "Threads"); one thread creating and
// destroying instances of B. Every output must equal the single-threaded
// one bit for bit, and the resident memory after the load must stay within
// a few MiB of what it was after a warm-up round (no leak; under ASan,
// whose quarantine keeps freed memory, LeakSanitizer checks instead).
// Prints a summary; exits 1 on any mismatch or growth.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Model {
  std::string path;
  std::vector<float> input, expected;
  size_t outputSize = 0;
};

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(1);
}

irmb_model *open(const std::string &path, int threads) {
  irmb_model *m = irmb_create(path.c_str());
  if (!m)
    die(irmb_last_error());
  if (irmb_set_threads(m, threads) != 0)
    die(irmb_last_error());
  return m;
}

/// Resident memory in KiB (/proc/self/statm, pages of 4 KiB).
long residentKiB() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4;
}

/// Loads `path`, makes a deterministic input and the reference output.
Model prepare(const std::string &path) {
  Model model;
  model.path = path;
  irmb_model *m = open(path, 1);
  irmb_info info;
  irmb_get_info(m, &info);
  size_t in = 1, out = 1;
  for (int i = 0; i < 4; ++i)
    in *= static_cast<size_t>(info.input_shape[i]);
  for (int i = 0; i < 3; ++i)
    out *= static_cast<size_t>(info.output_shape[i]);
  model.input.resize(in);
  for (size_t i = 0; i < in; ++i)
    model.input[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
  model.expected.resize(out);
  model.outputSize = out;
  if (irmb_run(m, model.input.data(), model.expected.data()) != 0)
    die(irmb_last_error());
  irmb_destroy(m);
  return model;
}

bool same(const std::vector<float> &a, const std::vector<float> &b) {
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// One round of load; returns the number of forwards run.
long round(const std::vector<Model> &models, int runs, int cycles,
           std::atomic<int> &mismatches) {
  std::atomic<long> forwards{0};
  std::vector<std::thread> threads;
  // Own instances: one thread per model, two threads of OpenMP each.
  for (const Model &model : models)
    threads.emplace_back([&, runs] {
      irmb_model *m = open(model.path, 2);
      std::vector<float> y(model.outputSize);
      for (int r = 0; r < runs; ++r) {
        if (irmb_run(m, model.input.data(), y.data()) != 0 ||
            !same(y, model.expected))
          ++mismatches;
        ++forwards;
      }
      irmb_destroy(m);
    });
  // One instance shared by four threads.
  irmb_model *shared = open(models[0].path, 1);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, runs] {
      std::vector<float> y(models[0].outputSize);
      for (int r = 0; r < runs / 4 + 1; ++r) {
        if (irmb_run(shared, models[0].input.data(), y.data()) != 0 ||
            !same(y, models[0].expected))
          ++mismatches;
        ++forwards;
      }
    });
  // Create / run / destroy cycles.
  threads.emplace_back([&, cycles] {
    const Model &model = models.back();
    std::vector<float> y(model.outputSize);
    for (int c = 0; c < cycles; ++c) {
      irmb_model *m = open(model.path, 1);
      if (c % 10 == 0) {
        if (irmb_run(m, model.input.data(), y.data()) != 0 ||
            !same(y, model.expected))
          ++mismatches;
        ++forwards;
      }
      irmb_destroy(m);
    }
  });
  for (std::thread &t : threads)
    t.join();
  irmb_destroy(shared);
  return forwards;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> paths;
  int runs = 200, cycles = 500;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (arg == "--cycles" && i + 1 < argc)
      cycles = std::atoi(argv[++i]);
    else
      paths.push_back(arg);
  }
  if (paths.empty() || runs < 4 || cycles < 1)
    die("usage: irmb-runtime-load-test MODEL.so... [--runs N] [--cycles N]");
  std::vector<Model> models;
  for (const std::string &p : paths)
    models.push_back(prepare(p));
  std::atomic<int> mismatches{0};
  // A warm-up round settles the allocator, OpenMP's pools and dlopen.
  round(models, runs / 10 + 4, cycles / 10 + 1, mismatches);
  long before = residentKiB();
  long forwards = round(models, runs, cycles, mismatches);
  long after = residentKiB();
  long growth = after - before;
  std::printf("load: %ld forwards and %d create/destroy cycles on %zu models "
              "in %zu threads, %d mismatches, resident memory %ld -> %ld KiB "
              "(%+ld)\n",
              forwards, cycles, models.size(), models.size() + 5,
              mismatches.load(), before, after, growth);
  if (mismatches != 0)
    die("outputs under load differ from the single-threaded ones");
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine keeps freed memory resident on purpose; under ASan
  // the leak check is LeakSanitizer's, at exit (test/Runtime/load.test).
  std::printf("resident memory not compared under ASan (LeakSanitizer "
              "checks at exit)\n");
#else
  if (growth > 16 * 1024)
    die("resident memory grew by " + std::to_string(growth) +
        " KiB under load (a leak?)");
#endif
  std::printf("PASS\n");
  return 0;
}
