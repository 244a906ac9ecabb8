//===- irmb-reference.cpp - run a model with the LibTorch oracle ----------===//
//
// irmb-reference MODEL.yaml|best.pt [--weights W.safetensors|W.pt | --seed N]
//   [--scale S]
//   [--imgsz H,W] [--batch B] [--nc N] --input X.npy [--raw R.npy]
//   [--output Y.npy] [--dump-layers DIR] [--threads T] [--decompose]
//   [--fold-bn] [--bench N] [--warmup N]
//
// Imports the YAML (or the one a .pt checkpoint stores), loads and checks
// the weights (or draws random ones),
// executes the model-level IR op by op with ATen and writes the raw head
// output [B, 4 + nc, A] and the final output (v10Detect: [B, 300, 6] after
// the two-stage top-k; Detect: the raw array). The input geometry defaults to
// the input file's shape. --decompose executes the primitive-level IR that
// irmb-decompose produces instead of the model-level ops (the check that
// the decomposition is right).
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "frontend/ImportModel.h"
#include "weights/Weights.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "passes/Passes.h"
#include "reference/ReferenceExecutor.h"
#include "runtime/npy/Npy.h"
#include "tools/common/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

using namespace irmb::frontend;
using namespace irmb::weights;
using namespace irmb::tools;

namespace {

struct Options {
  std::string model, input, raw, output, dumpLayers;
  int64_t threads = 0;           ///< 0 = one per hardware thread
  bool decompose = false;        ///< run irmb-decompose and execute primitives
  int64_t bench = 0, warmup = 3; ///< timing runs (PyTorch-eager baseline)
  bool foldBatchNorm = false;    ///< time the fused (deployed) model
  ModelOptions modelOptions;
};

const char *usage =
    "usage: irmb-reference MODEL.yaml|best.pt --input X.npy [--raw R.npy] "
    "[--output Y.npy]\n"
    "                      [--weights W.safetensors|W.pt | --seed N] "
    "[--scale S]\n"
    "                      [--imgsz S|H,W] [--batch B] [--nc N] "
    "[--dump-layers DIR]\n"
    "                      [--threads T] [--decompose] [--fold-bn]\n"
    "                      [--bench N] [--warmup N]\n";

Options parseCommandLine(int argc, char **argv) {
  Options o;
  ArgReader reader(argc, argv);
  while (reader.advance()) {
    const std::string &arg = reader.current();
    if (o.modelOptions.consume(reader)) {
      continue;
    } else if (arg == "--input") {
      o.input = reader.value();
    } else if (arg == "--raw") {
      o.raw = reader.value();
    } else if (arg == "--output") {
      o.output = reader.value();
    } else if (arg == "--bench") {
      o.bench = parsePositive("--bench", reader.value());
    } else if (arg == "--warmup") {
      std::string v = reader.value();
      o.warmup = v == "0" ? 0 : parsePositive("--warmup", v);
    } else if (arg == "--fold-bn") {
      o.foldBatchNorm = true;
    } else if (arg == "--decompose") {
      o.decompose = true;
    } else if (arg == "--threads") {
      o.threads = parsePositive("--threads", reader.value());
    } else if (arg == "--dump-layers") {
      o.dumpLayers = reader.value();
    } else {
      consumeCommon(arg, o.model, usage);
    }
  }
  if (o.model.empty() || o.input.empty())
    throw UsageError{std::string("a model file and --input are required\n") +
                     usage};
  return o;
}

/// Writes a float tensor as .npy or throws UsageError.
void save(const std::string &path, const at::Tensor &t) {
  at::Tensor c = t.contiguous();
  std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());
  std::string error;
  if (!irmb::npy::writeNpy(path, shape, c.data_ptr<float>(), error))
    throw UsageError{error};
}

int run(Options o) {
  irmb::npy::Array input;
  std::string error;
  if (!irmb::npy::readNpy(o.input, input, error))
    throw UsageError{error};
  if (input.shape.size() != 4)
    throw UsageError{o.input + ": the input must be [B, C, H, W], got rank " +
                     std::to_string(input.shape.size())};
  ImportOptions &geometry = o.modelOptions.import;
  if (!o.modelOptions.imgszGiven) {
    geometry.height = input.shape[2];
    geometry.width = input.shape[3];
    if (geometry.height % 32 != 0 || geometry.width % 32 != 0)
      throw UsageError{
          o.input + ": input size " + std::to_string(geometry.height) + "x" +
          std::to_string(geometry.width) + " is not a multiple of 32"};
  }
  if (!o.modelOptions.batchGiven)
    geometry.batch = input.shape[0];

  o.modelOptions.imgszGiven = true; // the input's size is the model's
  ResolvedModel model = o.modelOptions.loadModel(o.model);
  for (const std::string &w : model.warnings)
    llvm::errs() << "warning: " << w << "\n";
  mlir::MLIRContext context;
  installDiagnosticHandler(context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importModel(context, model, geometry);
  if (!module)
    return 1;
  std::vector<int64_t> expected{geometry.batch, model.inputChannels,
                                geometry.height, geometry.width};
  if (input.shape != expected) {
    auto text = [](const std::vector<int64_t> &s) {
      std::string t = "[";
      for (size_t i = 0; i < s.size(); ++i)
        t += (i ? ", " : "") + std::to_string(s[i]);
      return t + "]";
    };
    throw UsageError{o.input + ": input shape " + text(input.shape) +
                     " does not match the model's " + text(expected)};
  }
  WeightMap weights = o.modelOptions.loadWeightsFor(*module);

  bool v10 = false; // decided on the model-level IR
  module->walk([&](irmb::V10DetectOp) { v10 = true; });
  if (o.decompose) {
    if (!o.dumpLayers.empty())
      throw UsageError{"--dump-layers needs the model-level IR (drop "
                       "--decompose)"};
    mlir::PassManager pm(&context);
    pm.addPass(irmb::createIRMBDecomposePass());
    if (mlir::failed(pm.run(*module)))
      return 1;
  }
  // ATen's own default is one thread per physical core; one per hardware
  // thread is what the golden 640x640 cases were computed with on this
  // machine kind, and convolution rounding depends on the count.
  int64_t threads = o.threads > 0
                        ? o.threads
                        : std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(threads));
  irmb::reference::ReferenceExecutor executor(*module, weights,
                                              o.foldBatchNorm);
  at::Tensor x = at::from_blob(input.values.data(), input.shape,
                               at::TensorOptions().dtype(at::kFloat));
  std::vector<at::Tensor> layers;
  auto start = std::chrono::steady_clock::now();
  at::Tensor raw = executor.run(x, o.dumpLayers.empty() ? nullptr : &layers);
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (!at::isfinite(raw).all().item<bool>())
    throw UsageError{"the model produced non-finite values (check the "
                     "weights)"};
  llvm::errs() << "reference forward: " << llvm::format("%.1f", ms)
               << " ms, output [";
  for (int64_t i = 0; i < raw.dim(); ++i)
    llvm::errs() << (i ? ", " : "") << raw.size(i);
  llvm::errs() << "]\n";
  if (o.bench > 0) {
    for (int64_t i = 0; i < o.warmup; ++i)
      executor.run(x);
    std::vector<double> times;
    for (int64_t i = 0; i < o.bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      executor.run(x);
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - t0)
                          .count());
    }
    std::sort(times.begin(), times.end());
    size_t n = times.size();
    double median =
        n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    llvm::outs() << llvm::format("latency_ms: median=%.3f min=%.3f max=%.3f "
                                 "runs=%lld threads=%lld\n",
                                 median, times.front(), times.back(),
                                 (long long)n, (long long)threads);
  }
  if (!o.raw.empty())
    save(o.raw, raw);
  if (!o.output.empty())
    save(o.output, v10 ? irmb::reference::v10Postprocess(raw) : raw);
  if (!o.dumpLayers.empty()) {
    std::filesystem::create_directories(o.dumpLayers);
    for (size_t i = 0; i < layers.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "/layer%02zu.npy", i);
      save(o.dumpLayers + name, layers[i]);
    }
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return runDriver([&] { return run(parseCommandLine(argc, argv)); });
}
