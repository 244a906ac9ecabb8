//===- EmitCuda.cpp - CUDA emission of primitive irmb IR ------------------===//
//
// Same three steps as EmitCpp (weights with BatchNorms folded, the storage
// plan, one call per op) with the CUDA conventions: the arena holds the
// whole batch (a root of E elements per image takes E·B, image b at b·E),
// so every tensor argument is a pointer and the batch stride of its storage
// root; activations are T, weights stay float except the GEMM operands of
// convolutions (read from the T copy of the blob); the raw output is float.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/EmitCuda.h"

#include "codegen/common/BuildLibrary.h"
#include "codegen/common/KernelTable.h"
#include "codegen/common/ModelQueries.h"
#include "codegen/common/StoragePlan.h"
#include "codegen/common/WeightBlob.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace mlir;
using namespace mlir::irmb;
using ::irmb::weights::WeightMap;

namespace irmb::codegen {
// Text of kernels/*.cuh, kernels/CudaEmulation.h and ModelAbi.h, embedded
// at build time (CudaSources.cpp).
extern const char *const kCudaKernelsHeader;
extern const char *const kCudaModelHeader;
extern const char *const kCudaEmulationHeader;
extern const char *const kModelAbiHeader;
} // namespace irmb::codegen

namespace irmb::codegen {
namespace {

/// Floats of scratch an EMA needs per image (emaScratchFloats of
/// CudaKernels.cuh, which this file cannot include).
int64_t emaScratchFloats(int64_t c, int64_t h, int64_t w) {
  return 2 * c * h * w + 2 * c * (h + w) + 4 * c;
}

const char *elementType(const std::string &precision) {
  if (precision == "fp16")
    return "__half";
  if (precision == "bf16")
    return "__nv_bfloat16";
  return "float";
}

int64_t elementBytes(const std::string &precision) {
  return precision == "fp32" ? 4 : 2;
}

/// The emitter state for one module.
class CudaEmitter {
public:
  CudaEmitter(const WeightMap &weights, const CudaOptions &options)
      : blob(weights), options(options) {}

  FailureOr<CudaModule> run(ModuleOp module) {
    FailureOr<ModelBody> model = modelBody(module);
    if (failed(model))
      return failure();
    input = model->input;
    result = model->result;
    batch = shapeOf(input)[0];
    plan.emplace(*model->block, input, result);
    for (Operation &op : model->block->without_terminator())
      if (failed(emitOp(&op)))
        return failure();
    CudaModule out;
    out.numKernels = kernels.size();
    out.launches = launches;
    int64_t arenaElems = plan->arenaElements() * batch;
    int64_t t = elementBytes(options.precision),
            inputs = perImage(input) * batch;
    // The float input staging, its T copy when a kernel reads one, the
    // arena, the scratch and the float output.
    out.deviceBytes = inputs * 4 + (readsInputInT && t != 4 ? inputs * t : 0) +
                      arenaElems * t + scratchFloats * 4 +
                      perImage(result) * batch * 4;
    out.weights = blob.take();
    out.source = assemble(arenaElems, out.deviceBytes, out.weights.size());
    return out;
  }

private:
  /// A tensor argument, "pointer, batch stride", starting `skip` elements
  /// into each image of `v`.
  std::string arg(Value v, int64_t skip = 0) {
    StoragePlan::Alias where = plan->resolve(v);
    where.offset += skip;
    std::string base;
    if (where.root == input) {
      base = "m.in";
      readsInputInT = true;
    } else if (where.root == result)
      base = "m.out";
    else
      base = llvm::formatv("(m.arena + {0})",
                           *plan->arenaOffset(where.root) * batch)
                 .str();
    if (where.offset)
      base = llvm::formatv("({0} + {1})", base, where.offset).str();
    return llvm::formatv("{0}, {1}", base, perImage(where.root)).str();
  }
  static std::string wf(int64_t byteOffset) {
    return llvm::formatv("(m.wf + {0})", byteOffset / 4).str();
  }
  static std::string wt(int64_t byteOffset) {
    return llvm::formatv("(m.wt + {0})", byteOffset / 4).str();
  }

  /// Adds the `count` launches of one op as its kernel.
  void addKernel(Operation *op, const std::string &calls, int count = 1) {
    auto [index, name] = kernels.add(op);
    body << "  // " << name << ": " << op->getName().getStringRef().str()
         << sourceLine(op) << "\n  IRMB_CALL(" << index << ", {\n"
         << calls << "  });\n  IRMB_CHECK(" << index << ", "
         << arg(op->getResult(0)) << ", " << perImage(op->getResult(0))
         << ");\n";
    launches += count;
  }
  /// "launcher<T, params...>(stream, kBatch, args...);\n"
  static std::string call(StringRef launcher, ArrayRef<std::string> params,
                          ArrayRef<std::string> args) {
    std::string text = "    " + launcher.str() + "<T";
    for (const std::string &p : params)
      text += ", " + p;
    text += ">(stream, kBatch";
    for (const std::string &a : args)
      text += ", " + a;
    return text + ");\n";
  }
  template <typename... V> static SmallVector<std::string> nums(V... v) {
    return {std::to_string(v)...};
  }

  LogicalResult emitOp(Operation *op) {
    if (kernelOf(op).empty())
      return op->emitError("has no cpu_kernel (run --irmb-select-kernels)");
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](Conv2dOp c) { return emitConv(c); })
        .Case([&](ProjectionOp p) { return emitProjection(p); })
        .Case([&](BatchNormOp n) -> LogicalResult {
          auto norm = blob.appendNorm(n.getNorm().str(), n);
          if (failed(norm))
            return failure();
          auto s = shapeOf(n.getInput());
          SmallVector<std::string> params = nums(s[1], s[2] * s[3]);
          params.push_back("Act::None");
          addKernel(op, call("channelAffine", params,
                             {arg(n.getInput()), wf(norm->first),
                              wf(norm->second), arg(n.getOutput())}));
          return success();
        })
        .Case([&](ActivationOp a) -> LogicalResult {
          addKernel(op, call("activation",
                             {std::to_string(perImage(a.getInput())),
                              actName(a.getAct())},
                             {arg(a.getInput()), arg(a.getOutput())}));
          return success();
        })
        .Case([&](AddOp a) -> LogicalResult {
          addKernel(
              op, call("add", nums(perImage(a.getLhs())),
                       {arg(a.getLhs()), arg(a.getRhs()), arg(a.getOutput())}));
          return success();
        })
        .Case([&](SliceOp s) -> LogicalResult {
          if (s.getView())
            return success(); // an alias of its input (StoragePlan)
          auto in = shapeOf(s.getInput());
          addKernel(op, call("sliceChannels",
                             nums(in[2] * in[3], s.getStart(), s.getSize(),
                                  s.getGroups(), s.getPeriod()),
                             {arg(s.getInput()), arg(s.getOutput())}));
          return success();
        })
        .Case([&](CatOp c) -> LogicalResult {
          std::string calls;
          int copies = 0;
          int64_t at = 0;
          for (auto [i, v] : llvm::enumerate(c.getInputs())) {
            if (!c.getInPlace() || !(*c.getInPlace())[i]) {
              calls += call("copy", {},
                            {arg(v), std::to_string(perImage(v)),
                             arg(c.getOutput(), at)});
              ++copies;
            }
            at += perImage(v);
          }
          if (copies)
            addKernel(op, calls, copies);
          return success();
        })
        .Case([&](PadOp p) -> LogicalResult {
          auto in = shapeOf(p.getInput()), out = shapeOf(p.getOutput());
          addKernel(op, call("padBottomRight",
                             nums(in[1], in[2], in[3], out[2], out[3]),
                             {arg(p.getInput()), arg(p.getOutput())}));
          return success();
        })
        .Case([&](CropOp c) -> LogicalResult {
          auto in = shapeOf(c.getInput()), out = shapeOf(c.getOutput());
          addKernel(op, call("cropTopLeft",
                             nums(in[1], in[2], in[3], out[2], out[3]),
                             {arg(c.getInput()), arg(c.getOutput())}));
          return success();
        })
        .Case([&](MaxPoolOp m) -> LogicalResult {
          auto in = shapeOf(m.getInput());
          addKernel(op, call("maxPool",
                             nums(in[1], in[2], in[3], m.getKernel(),
                                  m.getStride(), m.getPadding()),
                             {arg(m.getInput()), arg(m.getOutput())}));
          return success();
        })
        .Case([&](ResizeNearestOp r) -> LogicalResult {
          auto in = shapeOf(r.getInput());
          addKernel(op, call("resizeNearest",
                             nums(in[1], in[2], in[3], r.getScale()),
                             {arg(r.getInput()), arg(r.getOutput())}));
          return success();
        })
        .Case([&](AttentionOp a) -> LogicalResult {
          auto q = shapeOf(a.getQuery()), v = shapeOf(a.getValue());
          int64_t heads = a.getHeads();
          char scale[32];
          std::snprintf(scale, sizeof scale, "%.9gf",
                        a.getScale().convertToDouble());
          addKernel(op, call("attention",
                             nums(q[2], q[3], heads, q[1] / heads, v[1] / heads,
                                  a.getWindow()),
                             {arg(a.getQuery()), arg(a.getKeyMap()),
                              arg(a.getValue()), scale, arg(a.getOutput())}));
          return success();
        })
        .Case([&](EMAOp e) -> LogicalResult {
          auto s = shapeOf(e.getInput());
          FailureOr<WeightBlob::EmaTensors> t = blob.emaTensors(e);
          if (failed(t))
            return failure();
          scratchFloats = std::max(scratchFloats,
                                   batch * emaScratchFloats(s[1], s[2], s[3]));
          SmallVector<std::string> args{
              arg(e.getInput()), t->norm ? wf(t->norm->first) : "nullptr",
              t->norm ? wf(t->norm->second) : "nullptr"};
          for (int64_t o : t->weights)
            args.push_back(wf(o));
          args.push_back(arg(e.getOutput()));
          args.push_back("m.scratch");
          addKernel(op,
                    call("ema", nums(s[1], s[2], s[3], e.getGroups()), args));
          return success();
        })
        .Case([&](SqueezeExciteOp se) -> LogicalResult {
          auto s = shapeOf(se.getInput());
          FailureOr<WeightBlob::SqueezeExciteTensors> t =
              blob.squeezeExciteTensors(se);
          if (failed(t))
            return failure();
          scratchFloats = std::max(scratchFloats, 2 * batch * s[1]);
          SmallVector<std::string> params = nums(s[1], s[2] * s[3], t->reduced);
          params.push_back(actName(se.getAct()));
          SmallVector<std::string> args{arg(se.getInput())};
          for (int64_t o : t->weights)
            args.push_back(wf(o));
          args.push_back(arg(se.getOutput()));
          args.push_back("m.scratch");
          addKernel(op, call("squeezeExcite", params, args), 3);
          return success();
        })
        .Case([&](DetectDecodeOp d) -> LogicalResult {
          if (d.getOutput() != result)
            return d.emitError("the detection output must be the result");
          FailureOr<int64_t> dfl = blob.tensor(d.getDfl(), op);
          if (failed(dfl))
            return failure();
          int64_t anchors = shapeOf(d.getOutput())[2], at = 0;
          std::string calls;
          for (auto [i, v] : llvm::enumerate(d.getInputs())) {
            auto s = shapeOf(v);
            calls += call("detectDecodeLevel",
                          nums(d.getNc(), d.getRegMax(), s[2], s[3],
                               d.getStrides()[i], anchors),
                          {arg(v), wf(*dfl), std::to_string(at), "m.out"});
            at += s[2] * s[3];
          }
          addKernel(op, calls, static_cast<int>(d.getInputs().size()));
          return success();
        })
        .Default([&](Operation *other) -> LogicalResult {
          return other->emitError()
                 << "cannot be emitted for CUDA (run --irmb-decompose first)";
        });
  }

  LogicalResult emitConv(Conv2dOp c) {
    FailureOr<WeightBlob::ConvTensors> t = blob.convTensors(c);
    if (failed(t))
      return failure();
    auto in = shapeOf(c.getInput()), out = shapeOf(c.getOutput());
    std::string bias = t->bias >= 0 ? wf(t->bias) : "nullptr";
    std::string res = c.getResidual() ? arg(c.getResidual()) : "nullptr, 0";
    SmallVector<std::string> params;
    std::string calls;
    if (kernelOf(c) == "depthwise") {
      params = nums(in[1], in[2], in[3], c.getKernel(), c.getStride(),
                    c.getPadding(), c.getDilation());
      params.push_back(actName(c.getAct()));
      calls = call(
          "depthwiseConv2d", params,
          {arg(c.getInput()), wf(t->weight), bias, res, arg(c.getOutput())});
    } else {
      params = nums(in[1], in[2], in[3], out[1], c.getKernel(), c.getStride(),
                    c.getPadding(), c.getDilation(), c.getGroups());
      params.push_back(actName(c.getAct()));
      // A convolution of the model input reads the float input itself
      // (converting while its tiles load), saving the conversion pass.
      std::string x;
      if (c.getInput() == input && options.precision != "fp32") {
        params.push_back("float");
        x = llvm::formatv("m.input, {0}", perImage(input)).str();
      } else {
        x = arg(c.getInput());
      }
      calls = call("conv2d", params,
                   {x, wt(t->weight), bias, res, arg(c.getOutput())});
    }
    addKernel(c, calls);
    return success();
  }

  /// A merged projection: one 1×1 convolution per run of rows with the
  /// same activation over the stacked weights.
  LogicalResult emitProjection(ProjectionOp p) {
    auto in = shapeOf(p.getInput());
    int64_t hw = in[2] * in[3], cin = in[1];
    FailureOr<WeightBlob::StackedProjection> stacked = blob.stackProjection(p);
    if (failed(stacked))
      return failure();
    std::string calls;
    for (const auto &r : stacked->runs) {
      SmallVector<std::string> params =
          nums(cin, in[2], in[3], r.end - r.start, 1, 1, 0, 1, 1);
      params.push_back(actName(r.act));
      calls += call("conv2d", params,
                    {arg(p.getInput()), wt(stacked->weight + r.start * cin * 4),
                     wf(stacked->bias + r.start * 4), "nullptr, 0",
                     arg(p.getOutput(), r.start * hw)});
    }
    addKernel(p, calls, static_cast<int>(stacked->runs.size()));
    return success();
  }

  std::string assemble(int64_t arenaElems, int64_t deviceBytes,
                       int64_t weightBytes) {
    auto in = shapeOf(input), out = shapeOf(result);
    std::ostringstream src;
    src << "// Generated by irmb-compile from " << options.source
        << " for CUDA (" << options.arch << ", " << options.precision
        << ").\n// One forward over the whole batch; every shape is a "
           "constant.\n"
        << "#include \"CudaKernels.cuh\"\n#include \"ModelAbi.h\"\n\n"
        << "using namespace irmb::cuda;\n"
        << "using T = " << elementType(options.precision) << ";\n"
        << "constexpr int kBatch = " << batch << ";\n"
        << "constexpr bool kConvertInput = "
        << (readsInputInT ? "true" : "false") << ";\n"
        << "constexpr int64_t kInputElems = " << perImage(input) * batch
        << ", kOutputElems = " << perImage(result) * batch
        << ",\n    kArenaElems = " << arenaElems
        << ", kScratchFloats = " << scratchFloats
        << ",\n    kWeightBytes = " << weightBytes << ";\n\n"
        << "extern \"C\" const char irmb_weights[];\n"
        << "#ifndef __CUDA_ARCH__\n"
        << "asm(\".section .rodata\\n.balign 64\\n.global irmb_weights\\n"
           ".hidden irmb_weights\\nirmb_weights:\\n.incbin "
           "\\\"IRMB_BUILD_DIR/weights.bin\\\"\\n.previous\\n\");\n"
        << "#endif\n\n"
        << "static const irmb_model_desc &modelDesc();\n"
        << "#include \"CudaModel.cuh\"\n\n";
    src << "static void forward(cudaStream_t stream, const Buffers &m,\n"
        << "                    KernelTimer *timer) {\n"
        << body.str() << "}\n\n";
    KernelTable::Descriptor d;
    d.source = options.source;
    d.target = "cuda";
    d.isa = options.emulate ? "emulated" : options.arch;
    d.precision = options.precision;
    d.input = in;
    d.output = out;
    d.isV10 = options.isV10;
    d.classNames = options.classNames;
    d.arenaBytes = deviceBytes;
    d.launches = launches;
    src << kernels.tables(d) << "static const irmb_model_desc &modelDesc() {\n"
        << "  static const irmb_model_desc desc = " << kernels.descriptor(d)
        << ";\n  return desc;\n}\n";
    return src.str();
  }

  WeightBlob blob;
  const CudaOptions &options;
  Value input, result;
  int64_t batch = 1, scratchFloats = 0, launches = 0;
  /// Whether a kernel reads the input in T (so the forward converts it).
  bool readsInputInT = false;
  std::optional<StoragePlan> plan;
  std::ostringstream body;
  KernelTable kernels;
};

} // namespace

std::string checkCudaArch(const std::string &arch) {
  SmallVector<StringRef> parts;
  StringRef(arch).split(parts, ',');
  for (StringRef p : parts) {
    StringRef digits = p;
    if (!digits.consume_front("sm_"))
      return "--cuda-arch: '" + p.str() + "' is not sm_<NN>[a] (e.g. sm_90a)";
    digits.consume_back("a");
    unsigned version = 0;
    if (digits.getAsInteger(10, version))
      return "--cuda-arch: '" + p.str() + "' is not sm_<NN>[a] (e.g. sm_90a)";
    if (version < 80)
      return "--cuda-arch: " + p.str() +
             " is older than sm_80 (the kernels need sm_80 or newer)";
  }
  return "";
}

FailureOr<CudaModule> emitCuda(ModuleOp module, const WeightMap &weights,
                               const CudaOptions &options) {
  return CudaEmitter(weights, options).run(module);
}

namespace {

/// The build folder's files and the shell command that compiles them
/// (run in that folder; `{out}` is the library).
struct CudaBuild {
  std::vector<BuildFile> files;
  std::string command;
};

CudaBuild cudaBuild(const CudaModule &module, const CudaOptions &options) {
  CudaBuild build;
  if (options.emulate) {
    const char *cxx = std::getenv("CXX");
    build.command =
        llvm::formatv("{0} -std=c++17 -O2 -x c++ -DIRMB_CUDA_EMULATION "
                      "-include CudaEmulation.h -fPIC -shared -o {{out} "
                      "model.cu",
                      cxx && *cxx ? cxx : "c++")
            .str();
  } else {
    std::string nvcc = "nvcc";
    if (const char *env = std::getenv("NVCC"); env && *env)
      nvcc = env;
    else if (access("/usr/local/cuda/bin/nvcc", X_OK) == 0)
      nvcc = "/usr/local/cuda/bin/nvcc";
    std::string gencode;
    SmallVector<StringRef> parts;
    StringRef(options.arch).split(parts, ',');
    for (StringRef p : parts) {
      std::string v = p.drop_front(3).str();
      gencode += " -gencode arch=compute_" + v + ",code=sm_" + v;
    }
    // PTX of the oldest architecture, for GPUs newer than the list.
    gencode += " -gencode arch=compute_" + parts.front().drop_front(3).str() +
               ",code=compute_" + parts.front().drop_front(3).str();
    const char *extra = std::getenv("IRMB_NVCCFLAGS");
    build.command = llvm::formatv("{0} -std=c++17 -O3 -Xcompiler -fPIC -shared "
                                  "-cudart static{1} {2} -o {{out} model.cu",
                                  nvcc, gencode, extra ? extra : "")
                        .str();
  }
  // nvcc compiles the host side from its own temporary folder, so the
  // blob's .incbin gets the build folder's absolute path.
  build.command =
      "sed -i \"s|IRMB_BUILD_DIR|$(pwd)|\" model.cu && " + build.command;
  build.files = {
      {"model.cu", module.source.data(), module.source.size()},
      {"weights.bin", module.weights.data(), module.weights.size()},
      {"CudaKernels.cuh", kCudaKernelsHeader, std::strlen(kCudaKernelsHeader)},
      {"CudaModel.cuh", kCudaModelHeader, std::strlen(kCudaModelHeader)},
      {"CudaEmulation.h", kCudaEmulationHeader,
       std::strlen(kCudaEmulationHeader)},
      {"ModelAbi.h", kModelAbiHeader, std::strlen(kModelAbiHeader)}};
  return build;
}

} // namespace

std::string compileCudaLibrary(const CudaModule &module,
                               const CudaOptions &options,
                               const std::string &outputPath) {
  CudaBuild build = cudaBuild(module, options);
  return buildLibrary(build.files, build.command,
                      options.emulate ? "the host compiler (CUDA emulation)"
                                      : "nvcc",
                      outputPath);
}

std::string writeCudaSources(const CudaModule &module,
                             const CudaOptions &options,
                             const std::string &folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec)
    return "cannot create '" + folder + "': " + ec.message();
  CudaBuild build = cudaBuild(module, options);
  std::string command = build.command;
  for (size_t at = command.find("{out}"); at != std::string::npos;
       at = command.find("{out}"))
    command.replace(at, 5, "\"${1:-model.so}\"");
  std::string script =
      "#!/bin/sh\n# Builds model.so here (or the path given) "
      "from these sources.\nset -e\ncd \"$(dirname \"$0\")\"\n" +
      command + "\n";
  build.files.push_back({"build.sh", script.data(), script.size()});
  for (const BuildFile &f : build.files) {
    std::ofstream out(fs::path(folder) / f.name, std::ios::binary);
    out.write(f.data, f.size);
    if (!out)
      return "cannot write '" + (fs::path(folder) / f.name).string() + "'";
  }
  fs::permissions(fs::path(folder) / "build.sh", fs::perms::owner_exec,
                  fs::perm_options::add, ec);
  return "";
}

} // namespace irmb::codegen
