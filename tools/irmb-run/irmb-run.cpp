//===- irmb-run.cpp - run a compiled irmb model ---------------------------===//
//
// irmb-run MODEL.so --input X.npy [--output Y.npy] [--raw R.npy]
//          [--bench N] [--warmup N] [--threads T] [--profile] [--info]
//
// Uses only the runtime C API (irmb.h). --output writes the final detections
// ([B, 300, 6] for v10Detect, the raw array for Detect), --raw the raw
// predictions [B, 4 + nc, A]. --bench times N runs after --warmup runs and
// prints `latency_ms: median=<m> min=<a> max=<b> runs=<N> threads=<T>` last;
// --profile prints per kernel: name, YAML layer, calls, total ms, % of run
// and GFLOP/s (the direct algorithm's FLOPs over the kernel's time, "-" for
// data movement); --info the model's description and how many kernels of
// each kind (gemm, winograd_f4, depthwise, ...) it runs.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb.h"
#include "runtime/npy/Npy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(1);
}

int64_t positive(const std::string &flag, const char *text, bool allowZero) {
  char *end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (*end != '\0' || v < (allowZero ? 0 : 1) || v > (1LL << 30))
    die(flag + " expects a " + (allowZero ? "non-negative" : "positive") +
        " integer, got '" + text + "'");
  return v;
}

std::string shapeText(const int64_t *s, int n) {
  std::string t = "[";
  for (int i = 0; i < n; ++i)
    t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

void save(const std::string &path, const std::vector<int64_t> &shape,
          const std::vector<float> &values) {
  std::string error;
  if (!irmb::npy::writeNpy(path, shape, values.data(), error))
    die(error);
}

} // namespace

int main(int argc, char **argv) {
  std::string modelPath, input, output, raw;
  int64_t bench = 0, warmup = 3, threads = 0;
  bool profile = false, info = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    size_t eq = arg.find('=');
    bool inlineValue = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inlineValue) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto next = [&]() -> std::string {
      if (inlineValue)
        return value;
      if (i + 1 >= argc)
        die(arg + " expects a value");
      return argv[++i];
    };
    if (arg == "--input")
      input = next();
    else if (arg == "--output")
      output = next();
    else if (arg == "--raw")
      raw = next();
    else if (arg == "--bench")
      bench = positive(arg, next().c_str(), false);
    else if (arg == "--warmup")
      warmup = positive(arg, next().c_str(), true);
    else if (arg == "--threads")
      threads = positive(arg, next().c_str(), false);
    else if (arg == "--profile")
      profile = true;
    else if (arg == "--info")
      info = true;
    else if (arg == "--help" || arg == "-h") {
      std::printf("usage: irmb-run MODEL.so --input X.npy [--output Y.npy] "
                  "[--raw R.npy]\n                [--bench N] [--warmup N] "
                  "[--threads T] [--profile] [--info]\n");
      return 0;
    } else if (!arg.empty() && arg[0] == '-')
      die("unknown option '" + arg + "'");
    else if (modelPath.empty())
      modelPath = arg;
    else
      die("more than one model file");
  }
  if (modelPath.empty())
    die("no model .so given");
  irmb_model *model = irmb_create(modelPath.c_str());
  if (!model)
    die(irmb_last_error());
  if (threads > 0)
    irmb_set_threads(model, static_cast<int>(threads));
  irmb_info mi;
  irmb_get_info(model, &mi);
  if (info)
    std::printf("model: %s\ntarget: %s\nisa: %s\nprecision: %s\n"
                "input: %s\noutput: %s\nclasses: %d\nhead: %s\nkernels: %d\n"
                "launches_per_forward: %d\narena_peak_bytes: %lld\n"
                "threads: %d\n",
                mi.source, mi.target, mi.isa, mi.precision,
                shapeText(mi.input_shape, 4).c_str(),
                shapeText(mi.output_shape, 3).c_str(), mi.num_classes,
                mi.is_v10 ? "v10Detect" : "Detect", mi.num_kernels, mi.launches,
                (long long)mi.arena_bytes, mi.threads);
  if (info) {
    std::printf("names: {");
    for (int c = 0; c < mi.num_classes; ++c)
      std::printf("%s%d: '%s'", c ? ", " : "", c, irmb_class_name(model, c));
    std::printf("}\n");
    // Kernel names are <layer>_<kind>_<index> (e.g. model_23_winograd_f4_70).
    std::map<std::string, int> kinds;
    for (int k = 0; k < mi.num_kernels; ++k) {
      const char *name = nullptr;
      int layer = 0;
      int64_t calls = 0;
      double ms = 0;
      irmb_kernel_profile(model, k, &name, &layer, &calls, &ms);
      std::string kind = name;
      std::string prefix = "model_" + std::to_string(layer) + "_";
      if (kind.rfind(prefix, 0) == 0)
        kind = kind.substr(prefix.size());
      kind = kind.substr(0, kind.rfind('_'));
      ++kinds[kind];
    }
    std::printf("kernel_kinds:");
    for (const auto &[kind, count] : kinds)
      std::printf(" %s=%d", kind.c_str(), count);
    std::printf("\n");
  }
  if (input.empty()) {
    if (info)
      return 0;
    die("--input X.npy is required");
  }
  irmb::npy::Array x;
  std::string error;
  if (!irmb::npy::readNpy(input, x, error))
    die(error);
  std::vector<int64_t> expected(mi.input_shape, mi.input_shape + 4);
  if (x.shape != expected)
    die(input + ": input shape " + shapeText(x.shape.data(), x.shape.size()) +
        " does not match the compiled shape " + shapeText(mi.input_shape, 4) +
        " (recompile with --imgsz / --batch)");
  std::vector<int64_t> rawShape(mi.output_shape, mi.output_shape + 3);
  std::vector<float> y(rawShape[0] * rawShape[1] * rawShape[2]);
  if (irmb_run(model, x.values.data(), y.data()) != 0)
    die(irmb_last_error());
  if (!raw.empty())
    save(raw, rawShape, y);
  if (!output.empty()) {
    if (mi.is_v10) {
      int64_t k = std::min<int64_t>(300, rawShape[2]);
      std::vector<float> final(rawShape[0] * k * 6);
      irmb_postprocess_v10(y.data(), rawShape[0], rawShape[1], rawShape[2], 300,
                           final.data());
      save(output, {rawShape[0], k, 6}, final);
    } else {
      save(output, rawShape, y);
    }
  }
  if (profile) {
    irmb_enable_profiling(model, 1);
    int64_t runs = std::max<int64_t>(bench, 5);
    for (int64_t r = 0; r < runs; ++r)
      if (irmb_run(model, x.values.data(), y.data()) != 0)
        die(irmb_last_error());
    struct Row {
      const char *name;
      int layer;
      int64_t calls;
      double ms, flops;
    };
    std::vector<Row> rows(mi.num_kernels);
    double total = 0, flops = 0;
    for (int k = 0; k < mi.num_kernels; ++k) {
      Row &r = rows[k];
      irmb_kernel_profile(model, k, &r.name, &r.layer, &r.calls, &r.ms);
      r.flops = irmb_kernel_flops(model, k);
      total += r.ms;
      flops += r.flops;
    }
    // GFLOP/s of `f` FLOPs per call over `ms` for `calls` calls.
    auto rate = [](double f, double ms, int64_t calls) {
      char text[32] = "-";
      if (f > 0 && ms > 0)
        std::snprintf(text, sizeof text, "%.1f", f * calls / (ms * 1e6));
      return std::string(text);
    };
    std::printf("%-40s %6s %6s %10s %6s %8s\n", "kernel", "layer", "calls",
                "total_ms", "%", "GFLOP/s");
    for (const Row &r : rows)
      std::printf("%-40s %6d %6lld %10.3f %6.2f %8s\n", r.name, r.layer,
                  (long long)r.calls, r.ms,
                  total > 0 ? 100.0 * r.ms / total : 0.0,
                  rate(r.flops, r.ms, r.calls).c_str());
    std::printf("whole forward: %.3f ms, %.2f GFLOP, %s GFLOP/s\n",
                runs > 0 ? total / runs : 0.0, flops / 1e9,
                rate(flops, total, runs).c_str());
    std::printf("kernel launches per forward: %d (%s, %d kernels)\n",
                mi.launches, mi.target, mi.num_kernels);
    irmb_enable_profiling(model, 0);
  }
  if (bench > 0) {
    for (int64_t r = 0; r < warmup; ++r)
      if (irmb_run(model, x.values.data(), y.data()) != 0)
        die(irmb_last_error());
    std::vector<double> ms;
    for (int64_t r = 0; r < bench; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      if (irmb_run(model, x.values.data(), y.data()) != 0)
        die(irmb_last_error());
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    double median =
        sorted.size() % 2
            ? sorted[sorted.size() / 2]
            : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
    std::printf("latency_ms: median=%.3f min=%.3f max=%.3f runs=%lld "
                "threads=%d\n",
                median, sorted.front(), sorted.back(), (long long)bench,
                mi.threads);
  }
  irmb_destroy(model);
  return 0;
}
