//===- irmb-compile.cpp - the irmb compiler driver ------------------------===//
//
// irmb-compile best.pt -o MODEL.so [...]   (YAML, scale, names from the .pt)
// irmb-compile MODEL.yaml -o MODEL.so [--weights W.safetensors|W.pt | --seed N]
//   [--scale S] [--imgsz S|H,W] [--batch B] [--nc N] [--target cpu|cuda]
//   [--precision fp32|fp16|bf16] [--cpu native|avx2|avx512]
//   [--cuda-arch sm_80,sm_90a] [--cuda-emulate]
// irmb-compile MODEL.yaml --summary | --emit=irmb|primitive|cpp|cu|state-dict
//
// Reads an Ultralytics model YAML (or the one a .pt checkpoint stores),
// applies parse_model, builds the irmb IR,
// loads and checks the weights, runs irmb-decompose and irmb-select-kernels,
// and emits C++ (cpu, host compiler) or CUDA C++ (cuda, nvcc) into one
// self-contained .so (weights embedded). Every
// user error is one line `error: <file>:<line>:<col>: <what>` and exit code 1;
// the .so appears only when everything succeeded. Steps longer than a second
// print a progress line on stderr.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/EmitCpp.h"
#include "codegen/cuda/EmitCuda.h"
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "dialects/IRMB/IR/IRMBOps.h"
#include "frontend/ImportModel.h"
#include "frontend/Summary.h"
#include "weights/Weights.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "passes/Passes.h"
#include "passes/Pipeline.h"
#include "tools/common/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatAdapters.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

using namespace irmb::frontend;
using namespace irmb::weights;
using namespace irmb::tools;

namespace {

/// What irmb-compile was asked to do.
struct Options {
  std::string model, output, emit;
  std::string target = "cpu", precision = "fp32", cpu = "native";
  std::string cudaArch = "sm_80,sm_90a", cudaSources;
  int64_t imageGroup = 1;
  bool winogradGiven = false;
  /// 3×3 stride-2 convolutions by the direct kernel: auto (AVX2 builds, and
  /// AVX-512 builds for 16 or more input channels, where it was measured
  /// faster), on (every one) or off.
  std::string directConv = "auto";
  bool summary = false, cudaEmulate = false;
  irmb::FusionOptions fusion = irmb::FusionOptions::all();
  ModelOptions modelOptions;
};

const char *usage =
    "usage: irmb-compile MODEL.yaml -o MODEL.so [--weights W.safetensors|W.pt "
    "| --seed N]\n"
    "       irmb-compile best.pt -o MODEL.so [...]   (the model YAML, scale, "
    "class names and\n"
    "                    weights of an Ultralytics checkpoint)\n"
    "                    [--scale n|s|m|l|x] [--imgsz S | --imgsz H,W] "
    "[--batch B] [--nc N]\n"
    "                    [--target cpu|cuda] [--precision fp32|fp16|bf16] "
    "[--cpu native|avx2|avx512]\n"
    "                    [--cuda-arch sm_80,sm_90a] [--cuda-emulate] "
    "[--cuda-sources DIR]\n"
    "                    [--fusion=all|none] [--disable-fusion=NAME,...] "
    "[--enable-fusion=NAME,...] [--fusion-report]\n"
    "                    [--winograd=f4|f2|off] [--direct-conv=auto|on|off] "
    "[--image-group N]\n"
    "       (fusions, in pipeline order: window-attention, fold-bn, ema, "
    "depthwise,\n        conv-epilogue, merge-qkv, concat)\n"
    "       irmb-compile MODEL.yaml (--summary | "
    "--emit=irmb|primitive|cpp|cu|state-dict) [...]\n";

Options parseCommandLine(int argc, char **argv) {
  Options o;
  ArgReader reader(argc, argv);
  while (reader.advance()) {
    const std::string &arg = reader.current();
    if (o.modelOptions.consume(reader)) {
      continue;
    } else if (arg == "--summary") {
      o.summary = true;
    } else if (arg == "--fusion") {
      std::string v = reader.value();
      if (v == "all")
        o.fusion.enabled = irmb::FusionOptions::all().enabled;
      else if (v == "none")
        o.fusion.enabled.clear();
      else
        throw UsageError{"--fusion=" + v + " is not available (all, none)"};
    } else if (arg == "--disable-fusion" || arg == "--enable-fusion") {
      bool enable = arg == "--enable-fusion";
      std::string list = reader.value();
      llvm::SmallVector<llvm::StringRef> names;
      llvm::StringRef(list).split(names, ',');
      const auto &known = irmb::fusionNames();
      for (llvm::StringRef name : names) {
        if (std::find(known.begin(), known.end(), name) == known.end())
          throw UsageError{"unknown fusion '" + name.str() + "' in " + arg +
                           " (" + irmb::fusionList() + ")"};
        if (enable)
          o.fusion.enabled.insert(name.str());
        else
          o.fusion.enabled.erase(name.str());
      }
    } else if (arg == "--winograd") {
      o.winogradGiven = true;
      o.fusion.winograd = reader.value();
      if (o.fusion.winograd != "f4" && o.fusion.winograd != "f2" &&
          o.fusion.winograd != "off")
        throw UsageError{"--winograd=" + o.fusion.winograd +
                         " is not available (f4, f2, off)"};
    } else if (arg == "--direct-conv") {
      o.directConv = reader.value();
      if (o.directConv != "auto" && o.directConv != "on" &&
          o.directConv != "off")
        throw UsageError{"--direct-conv=" + o.directConv +
                         " is not available (auto, on, off)"};
    } else if (arg == "--image-group") {
      std::string v = reader.value();
      char *end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 64)
        throw UsageError{"--image-group " + v +
                         " is not an image count from 1 to 64"};
      o.imageGroup = n;
    } else if (arg == "--fusion-report") {
      o.fusion.report = true;
    } else if (arg == "--emit") {
      o.emit = reader.value();
      if (o.emit != "irmb" && o.emit != "primitive" && o.emit != "cpp" &&
          o.emit != "cu" && o.emit != "state-dict")
        throw UsageError{"--emit=" + o.emit +
                         " is not available (choose irmb, primitive, cpp, cu "
                         "or state-dict)"};
    } else if (arg == "-o") {
      o.output = reader.value();
    } else if (arg == "--target") {
      o.target = reader.value();
      if (o.target != "cpu" && o.target != "cuda")
        throw UsageError{"unknown --target '" + o.target + "' (cpu, cuda)"};
    } else if (arg == "--precision") {
      o.precision = reader.value();
      if (o.precision != "fp32" && o.precision != "fp16" &&
          o.precision != "bf16")
        throw UsageError{"unknown --precision '" + o.precision +
                         "' (fp32, fp16, bf16)"};
    } else if (arg == "--cuda-arch") {
      o.cudaArch = reader.value();
      std::string error = irmb::codegen::checkCudaArch(o.cudaArch);
      if (!error.empty())
        throw UsageError{error};
    } else if (arg == "--cuda-emulate") {
      o.cudaEmulate = true;
    } else if (arg == "--cuda-sources") {
      o.cudaSources = reader.value();
    } else if (arg == "--cpu") {
      o.cpu = reader.value();
      if (o.cpu != "native" && o.cpu != "avx2" && o.cpu != "avx512")
        throw UsageError{"unknown --cpu '" + o.cpu +
                         "' (native, avx2, avx512)"};
    } else {
      consumeCommon(arg, o.model, usage);
    }
  }
  if (o.model.empty())
    throw UsageError{std::string("no model file given\n") + usage};
  if (o.target == "cpu" && o.precision != "fp32")
    throw UsageError{"--precision " + o.precision +
                     " is not available on the CPU target (fp32; fp16 and "
                     "bf16 need --target cuda)"};
  if (o.target == "cpu" &&
      (o.cudaEmulate || o.cudaArch != "sm_80,sm_90a" || !o.cudaSources.empty()))
    throw UsageError{
        "--cuda-arch, --cuda-emulate and --cuda-sources need --target cuda"};
  if (o.target != "cpu" && o.winogradGiven)
    throw UsageError{"--winograd needs --target cpu (the CUDA target runs "
                     "every convolution directly)"};
  if (o.target != "cpu" && o.directConv != "auto")
    throw UsageError{"--direct-conv needs --target cpu (the CUDA target runs "
                     "every convolution directly)"};
  if (o.target != "cpu" && o.imageGroup != 1)
    throw UsageError{"--image-group needs --target cpu (a CUDA model runs the "
                     "whole batch at once)"};
  if ((o.emit == "cpp" && o.target != "cpu") ||
      (o.emit == "cu" && o.target != "cuda"))
    throw UsageError{"--emit=" + o.emit + " does not match --target " +
                     o.target + " (cpp: cpu, cu: cuda)"};
  if (!o.summary && o.emit.empty() && o.output.empty() && !o.fusion.report &&
      o.cudaSources.empty())
    throw UsageError{
        std::string("nothing to do: pass -o MODEL.so, --summary or --emit\n") +
        usage};
  return o;
}

/// Prints `step` on stderr when it took more than a second (and did not
/// fail: nothing is printed while an error unwinds).
class Progress {
public:
  explicit Progress(std::string step)
      : step(std::move(step)), start(std::chrono::steady_clock::now()),
        failures(std::uncaught_exceptions()) {}
  ~Progress() {
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (s > 1.0 && std::uncaught_exceptions() == failures)
      llvm::errs() << "irmb-compile: " << step << " ("
                   << llvm::format("%.1f", s) << " s)\n";
  }

private:
  std::string step;
  std::chrono::steady_clock::time_point start;
  int failures;
};

/// Builds the library of `kernels` kernels into `output` with a progress
/// line: `what` says how, `compile` returns "" or the error (thrown).
void buildLibrary(const std::string &output, int64_t kernels,
                  const std::string &what,
                  const std::function<std::string()> &compile) {
  Progress p("compiled " + std::to_string(kernels) + " kernels into " + output);
  llvm::errs() << "irmb-compile: compiling " << kernels << " kernels " << what
               << "...\n";
  std::string error = compile();
  if (!error.empty())
    throw UsageError{error};
}

/// Prints the fusion passes' remarks as the --fusion-report table on
/// stdout: `<layer> <file:line> <pattern> <site> fused|not fused: <why>`.
void installFusionReportHandler(mlir::MLIRContext &context) {
  context.getDiagEngine().registerHandler(
      [](mlir::Diagnostic &diag) -> mlir::LogicalResult {
        if (diag.getSeverity() != mlir::DiagnosticSeverity::Remark)
          return mlir::failure(); // not ours: the next handler prints it
        std::string layer = "-", where = "-";
        mlir::Location loc = diag.getLocation();
        if (auto name = llvm::dyn_cast<mlir::NameLoc>(loc)) {
          layer = name.getName().str();
          loc = name.getChildLoc();
        }
        if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc))
          where = (llvm::sys::path::filename(file.getFilename().getValue()) +
                   ":" + llvm::Twine(file.getLine()))
                      .str();
        // "<pattern> <site>: <outcome>"
        std::string text = diag.str();
        size_t space = text.find(' '), colon = text.find(": ");
        if (space == std::string::npos || colon == std::string::npos ||
            space > colon)
          return mlir::failure();
        llvm::outs() << llvm::left_justify(layer, 9) << " "
                     << llvm::left_justify(where, 24) << " "
                     << llvm::left_justify(text.substr(0, space), 16) << " "
                     << llvm::left_justify(
                            text.substr(space + 1, colon - space - 1), 34)
                     << " " << text.substr(colon + 2) << "\n";
        return mlir::success();
      });
}

/// Emits and builds the CUDA library.
int compileCuda(const Options &options, mlir::ModuleOp module,
                const WeightMap &weights, bool isV10) {
  irmb::codegen::CudaOptions cuda;
  cuda.precision = options.precision;
  cuda.arch = options.cudaArch;
  cuda.emulate = options.cudaEmulate;
  cuda.source = options.model;
  cuda.isV10 = isV10;
  cuda.classNames = options.modelOptions.classNames();
  mlir::FailureOr<irmb::codegen::CudaModule> code =
      irmb::codegen::emitCuda(module, weights, cuda);
  if (mlir::failed(code))
    return 1;
  if (options.emit == "cu")
    llvm::outs() << code->source;
  llvm::outs().flush();
  if (!options.cudaSources.empty()) {
    std::string error =
        irmb::codegen::writeCudaSources(*code, cuda, options.cudaSources);
    if (!error.empty())
      throw UsageError{error};
    llvm::errs() << "irmb-compile: wrote the CUDA sources (" << code->numKernels
                 << " kernels) and build.sh to " << options.cudaSources << "\n";
  }
  if (options.output.empty())
    return 0;
  std::string what;
  llvm::raw_string_ostream(what)
      << "(" << code->launches << " launches per forward, one CUDA graph) for "
      << (cuda.emulate ? "the CUDA emulator" : cuda.arch) << " in "
      << cuda.precision << " with "
      << (cuda.emulate ? "the host compiler" : "nvcc") << " (device "
      << llvm::format("%.2f", code->deviceBytes / 1048576.0) << " MiB)";
  buildLibrary(options.output, code->numKernels, what, [&] {
    return irmb::codegen::compileCudaLibrary(*code, cuda, options.output);
  });
  return 0;
}

int run(Options &options) {
  ResolvedModel model = options.modelOptions.loadModel(options.model);
  for (const std::string &w : model.warnings)
    llvm::errs() << "warning: " << w << "\n";
  mlir::MLIRContext context;
  installDiagnosticHandler(context);
  LayerOps layerOps;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importModel(context, model, options.modelOptions.import, &layerOps);
  if (!module)
    return 1;
  if (options.summary)
    printSummary(llvm::outs(), model, layerOps);
  if (options.emit == "irmb")
    module->print(llvm::outs()), llvm::outs() << "\n";
  else if (options.emit == "state-dict")
    printStateDict(llvm::outs(), *module);
  bool needsCode = !options.output.empty() || !options.cudaSources.empty() ||
                   options.emit == "primitive" || options.emit == "cpp" ||
                   options.emit == "cu" || options.fusion.report;
  if (!needsCode)
    return 0;

  WeightMap weights;
  {
    Progress p("loaded the weights");
    weights = options.modelOptions.loadWeightsFor(*module);
  }
  const std::vector<std::string> &names = options.modelOptions.classNames();
  if (!names.empty() && static_cast<int64_t>(names.size()) != model.nc)
    llvm::errs() << "warning: the checkpoint names " << names.size()
                 << " classes but the model has nc = " << model.nc
                 << "; classes beyond the names are called by their index\n";
  bool isV10 = false;
  module->walk([&](irmb::V10DetectOp) { isV10 = true; });
  mlir::PassManager pm(&context);
  irmb::FusionOptions pipeline = options.fusion;
  if (options.target == "cuda")
    pipeline.winograd = "off"; // the CUDA target has no Winograd kernel
  else {
    const std::string isa = irmb::codegen::resolvedIsa(options.cpu);
    pipeline.winogradMinTiles = irmb::codegen::winogradMinTiles(isa);
    // auto: AVX2 runs every stride-2 3×3 convolution directly, AVX-512 those
    // with 16 or more input channels (docs/design-notes.md, session 17).
    pipeline.directStride2 =
        options.directConv == "on" ||
        (options.directConv == "auto" && (isa == "avx2" || isa == "avx512"));
    if (options.directConv == "auto" && isa == "avx512")
      pipeline.directMinChannels = 16;
  }
  irmb::buildPipeline(pm, pipeline);
  if (options.fusion.report)
    installFusionReportHandler(context);
  if (mlir::failed(pm.run(*module)))
    return 1;
  if (options.emit == "primitive") {
    module->print(llvm::outs());
    llvm::outs() << "\n";
  }
  if (options.target == "cuda")
    return compileCuda(options, *module, weights, isV10);
  irmb::codegen::CpuOptions cpu;
  cpu.isa = options.cpu;
  cpu.source = options.model;
  cpu.isV10 = isV10;
  cpu.imageGroup = options.imageGroup;
  cpu.classNames = options.modelOptions.classNames();
  mlir::FailureOr<irmb::codegen::CpuModule> code =
      irmb::codegen::emitCpp(*module, weights, cpu);
  if (mlir::failed(code))
    return 1;
  if (options.emit == "cpp")
    llvm::outs() << code->source;
  llvm::outs().flush();
  if (options.output.empty())
    return 0;
  std::string what;
  llvm::raw_string_ostream(what)
      << "with the host compiler (per image: kernels write "
      << llvm::format("%.2f", code->writtenBytes / 1048576.0)
      << " MiB; arena " << llvm::format("%.2f", code->arenaBytes / 1048576.0)
      << " MiB)";
  buildLibrary(options.output, code->numKernels, what, [&] {
    return irmb::codegen::compileSharedLibrary(*code, cpu, options.output);
  });
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return runDriver([&] {
    Options options = parseCommandLine(argc, argv);
    return run(options);
  });
}
