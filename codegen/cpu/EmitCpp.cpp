//===- EmitCpp.cpp - C++ emission of primitive irmb IR --------------------===//
//
// Three steps: (1) weights: every tensor an op needs goes into one blob, BN
// folded into its convolution; (2) memory: each intermediate gets an arena
// offset, reusing the space of values whose last use has passed (first fit);
// (3) code: a kernel function per op with constant shapes, its calls the
// op's description (codegen/common/KernelCalls.h) spelled as calls of
// kernels/Kernels.h, and irmb_model_run looping over the batch; the rest of
// the ABI is the prelude kernels/CpuModel.h.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/EmitCpp.h"

#include "codegen/common/BuildLibrary.h"
#include "codegen/common/KernelCalls.h"
#include "codegen/common/KernelTable.h"
#include "codegen/common/ModelQueries.h"
#include "codegen/common/StoragePlan.h"
#include "codegen/common/WeightBlob.h"

#include "codegen/cpu/kernels/Packing.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>
#include <sstream>

using namespace mlir;
using namespace irmb;
using ::irmb::weights::WeightMap;

namespace irmb::codegen {
// The kernel headers, CpuModel.h and runtime/include/irmb/ModelAbi.h,
// embedded at build time (CpuModelFiles.cpp, codegen/cpu/CMakeLists.txt).
extern const EmbeddedFile kCpuModelFiles[];

namespace {

/// The emitter state for one module.
class CppEmitter {
public:
  CppEmitter(const WeightMap &weights, const CpuOptions &options)
      : blob(weights), options(options),
        tileRows(gemmTileRows(resolvedIsa(options.isa))),
        panelColumns(gemmPanelColumns(resolvedIsa(options.isa))),
        directColumns(directConvColumns(resolvedIsa(options.isa))) {}

  FailureOr<CpuModule> run(ModuleOp module) {
    FailureOr<ModelBody> model = modelBody(module);
    if (failed(model))
      return failure();
    Value input = model->input, result = model->result;
    plan.emplace(*model->block, input, result);
    group = std::max<int64_t>(
        1, std::min<int64_t>(shapeOf(input)[0], options.imageGroup));
    imageArena = (plan->arenaElements() + 15) / 16 * 16;
    inputStride = perImage(input);
    outputStride = perImage(result);
    target.library = KernelLibrary::Cpu;
    target.images = group;
    target.tileRows = tileRows;
    target.directColumns = directColumns;
    names[input] = "in";
    names[result] = "out";
    for (Operation &op : model->block->without_terminator())
      if (failed(emitOp(&op)))
        return failure();
    CpuModule out;
    out.arenaBytes = group * imageArena * 4 + scratchBytes;
    out.numKernels = kernels.size();
    out.writtenBytes = writtenBytes;
    out.source = assemble(input, result, out.arenaBytes);
    out.weights = blob.take();
    return out;
  }

private:
  /// C++ expression of a value's pointer inside run().
  std::string ptr(Value v) {
    StoragePlan::Alias where = plan->resolve(v);
    std::string base;
    auto it = names.find(where.root);
    if (it != names.end())
      base = it->second;
    else
      base = llvm::formatv("F(arena, {0})", *plan->arenaOffset(where.root) * 4)
                 .str();
    return where.offset ? llvm::formatv("({0} + {1})", base, where.offset).str()
                        : base;
  }

  /// Floats between consecutive images' copies of a value in run().
  int64_t imageStride(Value v) {
    Value root = plan->resolve(v).root;
    auto it = names.find(root);
    if (it == names.end())
      return imageArena;
    return it->second == "in" ? inputStride : outputStride;
  }

  std::string weight(int64_t offset) {
    return llvm::formatv("W({0})", offset).str();
  }

  /// Adds a kernel: its function (named after the layer and the kernel
  /// irmb-select-kernels chose) and its call, which writes `bytesWritten`
  /// bytes per image. The function gets a group of `images` images. A
  /// per-image `body` (uses x0.., y, scratch) runs once per image; a
  /// `batched` body takes the whole group itself (uses x0.., y, scratch,
  /// images and the image strides sx0.., sy in floats).
  void addKernel(Operation *op, ArrayRef<Value> inputs,
                 const std::string &body, int64_t bytesWritten,
                 bool batched) {
    auto [index, name] = kernels.add(op);
    Value result = op->getResult(0);
    std::string params, strides, views;
    for (size_t i = 0; i < inputs.size(); ++i) {
      params += llvm::formatv("const float *X{0}, ", i).str();
      strides += llvm::formatv("  constexpr long sx{0} = {1};\n", i,
                               imageStride(inputs[i]))
                     .str();
      views += llvm::formatv("    const float *x{0} = X{0} + b * sx{0};\n", i)
                   .str();
    }
    strides +=
        llvm::formatv("  constexpr long sy = {0};\n", imageStride(result)).str();
    functions << "// " << layerName(op) << " "
              << op->getName().getStringRef().str() << sourceLine(op)
              << "\nstatic void " << name << "(" << params
              << "float *Y, float *scratch, long images) {\n"
              << "  (void)scratch;\n"
              << strides;
    if (batched) {
      for (size_t i = 0; i < inputs.size(); ++i)
        functions << llvm::formatv("  const float *x{0} = X{0};\n", i).str();
      functions << "  float *y = Y;\n" << body << "}\n\n";
    } else {
      functions << "  for (long b = 0; b < images; ++b) {\n"
                << views << "    float *y = Y + b * sy;\n"
                << body << "  }\n}\n\n";
    }
    std::string args;
    for (Value v : inputs)
      args += ptr(v) + ", ";
    calls << "    IRMB_CALL(" << index << ", " << name << "(" << args
          << ptr(result) << ", scratch, images), " << ptr(result) << ", "
          << perImage(result) << ", " << imageStride(result) << ");\n";
    writtenBytes += bytesWritten;
  }

  /// The op's kernel calls (KernelCalls.h) as one kernel function.
  LogicalResult emitOp(Operation *op) {
    FailureOr<OpKernelCalls> d = describeKernelCalls(op, blob, target);
    if (failed(d))
      return failure();
    if (d->calls.empty())
      return success();
    scratchBytes = std::max(scratchBytes, 4 * d->scratchFloats);
    SmallVector<Value> inputs = d->inputs(op);
    std::string body;
    for (const KernelCall &call : d->calls) {
      SmallVector<std::string> args;
      for (const KernelArg &a : call.args)
        args.push_back(spell(a, inputs, op->getResult(0)));
      body += "  " + call.kernel;
      if (!call.params.empty())
        body += "<" + llvm::join(call.params, ", ") + ">";
      body += "(" + llvm::join(args, ", ") + ");\n";
    }
    addKernel(op, inputs, body, d->bytesWritten, d->batched);
    return success();
  }

  /// An argument inside a kernel function: the inputs are x0.. (one image,
  /// or the group's first in batched kernels, sx0.. apart), the result y.
  std::string spell(const KernelArg &a, ArrayRef<Value> inputs,
                    Value result) {
    auto name = [&](Value v, StringRef input, StringRef output) {
      if (v == result)
        return output.str();
      return input.str() +
             std::to_string(llvm::find(inputs, v) - inputs.begin());
    };
    switch (a.kind) {
    case KernelArg::Kind::Tensor:
    case KernelArg::Kind::TensorBase:
      return name(a.value, "x", "y") +
             (a.number ? " + " + std::to_string(a.number) : "");
    case KernelArg::Kind::NoTensor:
    case KernelArg::Kind::Null:
      return "nullptr";
    case KernelArg::Kind::Weight:
    case KernelArg::Kind::GemmWeight:
      return weight(a.number);
    case KernelArg::Kind::Integer:
      return std::to_string(a.number);
    case KernelArg::Kind::Float:
      return floatLiteral(a.real);
    case KernelArg::Kind::Scratch:
      return "scratch";
    case KernelArg::Kind::Images:
      return "images";
    case KernelArg::Kind::ImageStride:
      return a.value ? name(a.value, "sx", "sy") : "0";
    case KernelArg::Kind::FloatInput:
      break;
    }
    llvm_unreachable("a CUDA-only argument in a CPU kernel call");
  }

  std::string assemble(Value input, Value result, int64_t arenaBytes) {
    auto in = shapeOf(input), out = shapeOf(result);
    std::ostringstream src;
    src << "// Generated by irmb-compile from " << options.source
        << " for the CPU (" << options.isa << ").\n"
        << "// One function per kernel; every shape is a constant.\n"
        << "#include \"CpuModel.h\"\n\n"
        << "using namespace irmb::kernels;\n\n"
        << "static_assert(kTileRows == " << tileRows << " && kTileCols == "
        << panelColumns << " && kDirectTileCols == " << directColumns
        << ", \"the weights are packed for "
        << resolvedIsa(options.isa)
        << " micro-kernel tiles: build with the -march of --cpu "
        << options.isa << "\");\n\n"
        << functions.str();
    KernelTable::Descriptor d;
    d.source = options.source;
    d.target = "cpu";
    d.isa = options.isa;
    d.precision = "fp32";
    d.input = in;
    d.output = out;
    d.isV10 = options.isV10;
    d.classNames = options.classNames;
    d.arenaBytes = arenaBytes;
    d.launches = kernels.size(); // one call per kernel
    src << kernels.tables(d)
        << "static const irmb_model_desc kDesc = " << kernels.descriptor(d)
        << ";\n\n";
    src << "static const irmb_model_desc &modelDesc() { return kDesc; }\n\n"
        << "extern \"C\" int irmb_model_run(void *, const float *input, "
           "float *output,\n"
        << "                              void *arena_ptr, double *kernel_ms,\n"
        << "                              int *first_nonfinite) {\n"
        << "  unsigned char *arena = static_cast<unsigned char *>(arena_ptr);\n"
        << "  if (first_nonfinite)\n    *first_nonfinite = -1;\n"
        << llvm::formatv("  float *scratch = F(arena, {0});\n",
                         group * imageArena * 4)
               .str()
        << "  // The batch in groups of up to " << group
        << " images, each kernel taking a whole group.\n"
        << llvm::formatv("  for (long g = 0; g < {0}; g += {1}) {{\n", in[0],
                         group)
               .str()
        << llvm::formatv("    long images = {0} - g < {1} ? {0} - g : {1};\n",
                         in[0], group)
               .str()
        << llvm::formatv("    const float *in = input + g * {0}L;\n",
                         perImage(input))
               .str()
        << llvm::formatv("    float *out = output + g * {0}L;\n",
                         perImage(result))
               .str()
        << calls.str() << "  }\n  return 0;\n}\n";
    return src.str();
  }

  WeightBlob blob;
  const CpuOptions &options;
  int64_t scratchBytes = 0, writtenBytes = 0;
  /// Images per group, floats of one image's arena (64-byte multiple), and
  /// the floats between images of the model input and output.
  int64_t group = 1, imageArena = 0, inputStride = 0, outputStride = 0;
  std::optional<StoragePlan> plan;
  llvm::DenseMap<Value, std::string> names;
  std::ostringstream functions, calls;
  KernelTable kernels;
  KernelTarget target;
  /// The ISA's GEMM micro-kernel tile (GEMM weights are packed for its
  /// rows) and the direct convolution's output channels per block (its
  /// weights are packed for them).
  int64_t tileRows, panelColumns, directColumns;
};

} // namespace

std::string resolvedIsa(const std::string &isa) {
  if (isa != "native")
    return isa;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return "avx2";
  return "sse";
}

int64_t gemmTileRows(const std::string &isa) {
  if (isa == "avx512")
    return ::irmb::kernels::kAvx512TileRows;
  if (isa == "avx2")
    return ::irmb::kernels::kAvx2TileRows;
  return ::irmb::kernels::kSseTileRows;
}

int64_t gemmPanelColumns(const std::string &isa) {
  if (isa == "avx512")
    return ::irmb::kernels::kAvx512TileCols;
  if (isa == "avx2")
    return ::irmb::kernels::kAvx2TileCols;
  return ::irmb::kernels::kSseTileCols;
}

int64_t winogradMinTiles(const std::string &isa) {
  // One AVX-512 vector of GEMM columns (the narrow last panel), AVX2's
  // whole 16-column panel, SSE's 8: docs/design-notes.md, session 18.
  return isa == "avx512" || isa == "avx2" ? 16 : ::irmb::kernels::kSseTileCols;
}

int64_t directConvColumns(const std::string &isa) {
  if (isa == "avx512")
    return ::irmb::kernels::kAvx512DirectCols;
  if (isa == "avx2")
    return ::irmb::kernels::kAvx2DirectCols;
  return ::irmb::kernels::kSseDirectCols;
}

namespace {

/// -march flags of an ISA name.
std::string marchFlag(const std::string &isa) {
  if (isa == "avx2")
    return "-march=haswell";
  if (isa == "avx512")
    return "-march=skylake-avx512";
  return "-march=native";
}

} // namespace

FailureOr<CpuModule> emitCpp(ModuleOp module, const WeightMap &weights,
                             const CpuOptions &options) {
  return CppEmitter(weights, options).run(module);
}

std::string compileSharedLibrary(const CpuModule &module,
                                 const CpuOptions &options,
                                 const std::string &outputPath) {
  const char *cxx = std::getenv("CXX");
  const char *extra = std::getenv("IRMB_CXXFLAGS");
  std::string command =
      llvm::formatv("{0} -std=c++17 -O3 -ffp-contract=fast {1} -fopenmp -fPIC "
                    "-fvisibility=hidden -shared {2} -o {{out} model.cpp",
                    cxx && *cxx ? cxx : "c++", marchFlag(options.isa),
                    extra ? extra : "")
          .str();
  std::vector<BuildFile> files = withEmbeddedFiles(
      {{"model.cpp", module.source.data(), module.source.size()},
       {"weights.bin", module.weights.data(), module.weights.size()}},
      kCpuModelFiles);
  return buildLibrary(files, command, "the host compiler", outputPath);
}

} // namespace irmb::codegen
