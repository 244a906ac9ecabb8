//===- EmitCuda.cpp - CUDA emission of primitive irmb IR ------------------===//
//
// Same three steps as EmitCpp (weights with BatchNorms folded, the storage
// plan, one kernel per op, its calls the op's description of
// codegen/common/KernelCalls.h) with the CUDA conventions: the arena holds the
// whole batch (a root of E elements per image takes E·B, image b at b·E),
// so every tensor argument is a pointer and the batch stride of its storage
// root; activations are T, weights stay float except the GEMM operands of
// convolutions (read from the T copy of the blob); the raw output is float.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/EmitCuda.h"

#include "codegen/common/BuildLibrary.h"
#include "codegen/common/KernelCalls.h"
#include "codegen/common/KernelTable.h"
#include "codegen/common/ModelQueries.h"
#include "codegen/common/StoragePlan.h"
#include "codegen/common/WeightBlob.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace mlir;
using namespace irmb;
using ::irmb::weights::WeightMap;

namespace irmb::codegen {
// kernels/*.cuh, kernels/CudaScratch.h, kernels/CudaEmulation.h and
// ModelAbi.h, embedded at build time (CudaModelFiles.cpp,
// codegen/cuda/CMakeLists.txt).
extern const EmbeddedFile kCudaModelFiles[];

namespace {

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
    target.library = KernelLibrary::Cuda;
    target.images = batch;
    target.modelInput = input;
    target.reducedPrecision = options.precision != "fp32";
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
  /// A tensor's pointer, starting `skip` elements into each image of `v`.
  std::string base(Value v, int64_t skip = 0) {
    StoragePlan::Alias where = plan->resolve(v);
    where.offset += skip;
    std::string text;
    if (where.root == input) {
      text = "m.in";
      readsInputInT = true;
    } else if (where.root == result)
      text = "m.out";
    else
      text = llvm::formatv("(m.arena + {0})",
                           *plan->arenaOffset(where.root) * batch)
                 .str();
    if (where.offset)
      text = llvm::formatv("({0} + {1})", text, where.offset).str();
    return text;
  }
  /// A tensor argument, "pointer, batch stride" (the stride of its storage
  /// root), starting `skip` elements into each image of `v`.
  std::string arg(Value v, int64_t skip = 0) {
    return llvm::formatv("{0}, {1}", base(v, skip),
                         perImage(plan->resolve(v).root))
        .str();
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
  /// The op's kernel calls (KernelCalls.h) as launches of one kernel.
  LogicalResult emitOp(Operation *op) {
    if (auto d = dyn_cast<DetectDecodeOp>(op); d && d.getOutput() != result)
      return d.emitError("the detection output must be the result");
    FailureOr<OpKernelCalls> d = describeKernelCalls(op, blob, target);
    if (failed(d))
      return failure();
    if (d->calls.empty())
      return success();
    scratchFloats = std::max(scratchFloats, d->scratchFloats);
    std::string calls;
    for (const KernelCall &c : d->calls) {
      SmallVector<std::string> args;
      for (const KernelArg &a : c.args)
        args.push_back(spell(a));
      calls += call(c.kernel, c.params, args);
    }
    addKernel(op, calls, d->launches());
    return success();
  }

  /// An argument of a launcher: tensors as "pointer, batch stride".
  std::string spell(const KernelArg &a) {
    switch (a.kind) {
    case KernelArg::Kind::Tensor:
      return arg(a.value, a.number);
    case KernelArg::Kind::TensorBase:
      return base(a.value);
    case KernelArg::Kind::NoTensor:
      return "nullptr, 0";
    case KernelArg::Kind::Null:
      return "nullptr";
    case KernelArg::Kind::Weight:
      return wf(a.number);
    case KernelArg::Kind::GemmWeight:
      return wt(a.number);
    case KernelArg::Kind::Integer:
      return std::to_string(a.number);
    case KernelArg::Kind::Float:
      return floatLiteral(a.real);
    case KernelArg::Kind::Scratch:
      return "m.scratch";
    case KernelArg::Kind::FloatInput:
      return llvm::formatv("m.input, {0}", perImage(input)).str();
    case KernelArg::Kind::Images:
    case KernelArg::Kind::ImageStride:
      break;
    }
    llvm_unreachable("a CPU-only argument in a CUDA kernel call");
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
  KernelTarget target;
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
  build.files = withEmbeddedFiles(
      {{"model.cu", module.source.data(), module.source.size()},
       {"weights.bin", module.weights.data(), module.weights.size()}},
      kCudaModelFiles);
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
