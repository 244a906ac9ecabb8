//===- irmb-run.cpp - run a compiled irmb model ---------------------------===//
//
// irmb-run MODEL.so --input X.npy [--output Y.npy] [--raw R.npy]
//          [--bench N] [--warmup N] [--threads T] [--profile] [--info]
// irmb-run MODEL.so --image FILE... [--conf 0.25] [--iou 0.7] [--max-det 300]
//          [--save-txt DIR] [--save DIR] [--json FILE] [--threads T]
//
// Uses only the runtime C APIs (irmb.h, and irmb_vision.h for images).
// --image runs Ultralytics' predict pipeline on image files and prints one
// line per image (`image 1/2 bus.jpg: 1080x810 4 person, 1 bus`); --save-txt
// writes DIR/<stem>.txt in Ultralytics' save_txt/save_conf format, --save
// DIR/<name> with the boxes drawn, --json every detection in pixels with
// its class name. --output writes the final detections
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
#include "irmb/irmb_vision.h"
#include "runtime/npy/Npy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
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

/// The index of the first NaN or infinity in `v`, or v.size().
size_t firstNonFinite(const std::vector<float> &v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      return i;
  return v.size();
}

/// Where a non-finite output came from: with `profiled`, the first kernel
/// whose result held one (irmb_first_nonfinite_kernel), else how to find it.
std::string firstNonFiniteKernel(irmb_model *model, bool profiled) {
  if (!profiled)
    return "run with --profile to name the first kernel that produced one";
  int k = irmb_first_nonfinite_kernel(model);
  const char *name = nullptr;
  int layer = 0;
  int64_t calls = 0;
  double ms = 0;
  if (k < 0 || irmb_kernel_profile(model, k, &name, &layer, &calls, &ms) != 0)
    return "no kernel's result held one (it arose past the last kernel)";
  return "the first kernel whose result held one is " + std::string(name) +
         " (kernel " + std::to_string(k) + ", YAML layer " +
         std::to_string(layer) + ")";
}

/// The multi-index of flat element `i` of an array of `shape`: "[0, 5, 17]".
std::string indexText(size_t i, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = static_cast<int64_t>(i % static_cast<size_t>(shape[d]));
    i /= static_cast<size_t>(shape[d]);
  }
  return shapeText(index.data(), static_cast<int>(index.size()));
}

/// `v` printed with %g.
std::string shortNumber(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

double number(const std::string &flag, const std::string &text, double lo,
              double hi) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= lo && v <= hi))
    die(flag + " expects a number in [" + shortNumber(lo) + ", " +
        shortNumber(hi) + "], got '" + text + "'");
  return v;
}

/// `text` as a JSON string.
std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

/// Writes `text` to `path` whole (temporary file, then rename).
void writeWhole(const std::string &path, const std::string &text) {
  std::string tmp = path + ".irmb-tmp";
  FILE *f = std::fopen(tmp.c_str(), "w");
  if (!f)
    die(path + ": cannot write");
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    die(path + ": cannot write");
  }
}

void makeDirectory(const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    die(dir + ": cannot create the folder (" + ec.message() + ")");
}

/// What --image was asked to do besides predicting.
struct ImageOutputs {
  std::string saveTxt, save, json;
};

/// --image: predicts on `files`, prints a line per image, writes outputs.
void predictImages(irmb_model *model, const std::vector<std::string> &files,
                   const irmb_predict_options &options,
                   const ImageOutputs &outputs) {
  irmb_info mi;
  irmb_get_info(model, &mi);
  std::vector<const char *> paths;
  for (const std::string &f : files)
    paths.push_back(f.c_str());
  std::vector<irmb_detections> results(files.size());
  auto t0 = std::chrono::steady_clock::now();
  if (irmb_predict_files(model, paths.data(),
                         static_cast<int64_t>(paths.size()), &options,
                         results.data()) != 0)
    die(irmb_last_error());
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
  std::vector<const char *> names(mi.num_classes);
  for (int c = 0; c < mi.num_classes; ++c)
    names[c] = irmb_class_name(model, c);
  for (const std::string *dir : {&outputs.saveTxt, &outputs.save})
    if (!dir->empty())
      makeDirectory(*dir);
  std::string json = "[\n";
  std::set<std::string> labelFiles;
  for (size_t i = 0; i < files.size(); ++i) {
    const irmb_detections &r = results[i];
    std::filesystem::path file(files[i]);
    // "image 1/2 bus.jpg: 1080x810 4 person, 1 bus"
    std::map<int, int> perClass;
    for (int64_t j = 0; j < r.count; ++j)
      ++perClass[r.items[j].cls];
    std::string summary;
    for (const auto &[cls, n] : perClass)
      summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " +
                 (cls < mi.num_classes ? names[cls] : std::to_string(cls));
    std::printf("image %zu/%zu %s: %lldx%lld %s\n", i + 1, files.size(),
                files[i].c_str(), (long long)r.orig_height,
                (long long)r.orig_width,
                summary.empty() ? "(no detections)" : summary.c_str());
    if (!outputs.saveTxt.empty()) {
      std::string txt =
          (std::filesystem::path(outputs.saveTxt) / file.stem()).string() +
          ".txt";
      // Two images of one run with the same stem share a label file, as in
      // Ultralytics (which appends).
      bool again = !labelFiles.insert(txt).second;
      if (irmb_write_txt(&r, txt.c_str(), again ? 1 : 0) != 0)
        die(irmb_last_error());
    }
    if (!outputs.save.empty()) {
      std::string out =
          (std::filesystem::path(outputs.save) / file.filename()).string();
      if (irmb_draw_file(files[i].c_str(), &r, names.data(), mi.num_classes,
                         out.c_str()) != 0)
        die(irmb_last_error());
    }
    json += "  {\"image\": " + jsonString(files[i]) + ", \"shape\": [" +
            std::to_string(r.orig_height) + ", " +
            std::to_string(r.orig_width) + ", 3], \"detections\": [";
    for (int64_t j = 0; j < r.count; ++j) {
      const irmb_detection &d = r.items[j];
      char box[160];
      std::snprintf(box, sizeof box,
                    "{\"box\": [%.9g, %.9g, %.9g, %.9g], \"conf\": %.9g, "
                    "\"class\": %d, ",
                    d.x1, d.y1, d.x2, d.y2, d.conf, d.cls);
      json += std::string(j ? ", " : "") + box + "\"name\": " +
              jsonString(d.cls < mi.num_classes ? names[d.cls]
                                                : std::to_string(d.cls)) +
              "}";
    }
    json += std::string("]}") + (i + 1 < files.size() ? "," : "") + "\n";
  }
  json += "]\n";
  if (!outputs.json.empty())
    writeWhole(outputs.json, json);
  std::printf("predicted %zu images in %.1f ms (%.1f ms per image, batch "
              "%lld, conf %g, iou %g, max_det %d)\n",
              files.size(), ms, ms / files.size(),
              (long long)mi.input_shape[0], options.conf, options.iou,
              options.max_det);
  irmb_detections_free(results.data(), static_cast<int64_t>(results.size()));
}

} // namespace

int main(int argc, char **argv) {
  std::string modelPath, input, output, raw;
  int64_t bench = 0, warmup = 3, threads = 0;
  bool profile = false, info = false, imageFlagsGiven = false;
  std::vector<std::string> images;
  ImageOutputs imageOutputs;
  irmb_predict_options options;
  irmb_predict_options_default(&options);
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
    if (arg == "--image") {
      images.push_back(next());
      // Every following argument up to the next flag is an image too.
      while (!inlineValue && i + 1 < argc && argv[i + 1][0] != '-')
        images.push_back(argv[++i]);
    } else if (arg == "--conf") {
      options.conf = static_cast<float>(number(arg, next(), 0, 1));
      imageFlagsGiven = true;
    } else if (arg == "--iou") {
      options.iou = number(arg, next(), 0, 1);
      imageFlagsGiven = true;
    } else if (arg == "--max-det") {
      options.max_det = static_cast<int>(number(arg, next(), 1, 100000));
      imageFlagsGiven = true;
    } else if (arg == "--save-txt") {
      imageOutputs.saveTxt = next();
      imageFlagsGiven = true;
    } else if (arg == "--save") {
      imageOutputs.save = next();
      imageFlagsGiven = true;
    } else if (arg == "--json") {
      imageOutputs.json = next();
      imageFlagsGiven = true;
    } else if (arg == "--input")
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
                  "[--threads T] [--profile] [--info]\n"
                  "       irmb-run MODEL.so --image FILE... [--conf 0.25] "
                  "[--iou 0.7] [--max-det 300]\n                [--save-txt "
                  "DIR] [--save DIR] [--json FILE] [--threads T]\n");
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
  if (imageFlagsGiven && images.empty())
    die("--conf, --iou, --max-det, --save-txt, --save and --json need --image");
  if (!images.empty()) {
    if (!input.empty() || !output.empty() || !raw.empty() || bench || profile)
      die("--image cannot be combined with --input, --output, --raw, --bench "
          "or --profile");
    predictImages(model, images, options, imageOutputs);
    irmb_destroy(model);
    return 0;
  }
  if (input.empty()) {
    if (info)
      return 0;
    die("--input X.npy or --image FILE... is required");
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
  if (size_t bad = firstNonFinite(x.values); bad != x.values.size())
    die(input + ": the input holds a non-finite value (" +
        std::to_string(x.values[bad]) + " at " +
        indexText(bad, x.shape) + "); a model input is an image in [0, 1]");
  std::vector<int64_t> rawShape(mi.output_shape, mi.output_shape + 3);
  std::vector<float> y(rawShape[0] * rawShape[1] * rawShape[2]);
  // With --profile the first run also scans every kernel's result.
  if (profile)
    irmb_enable_profiling(model, 1);
  if (irmb_run(model, x.values.data(), y.data()) != 0)
    die(irmb_last_error());
  // Never hand on silent garbage: a NaN or infinity in the output means
  // the weights or the input are not something the model computes with.
  if (size_t bad = firstNonFinite(y); bad != y.size())
    die(modelPath + ": the model produced a non-finite output (" +
        std::to_string(y[bad]) + " at raw output " +
        indexText(bad, rawShape) + "); nothing was written; " +
        firstNonFiniteKernel(model, profile));
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
