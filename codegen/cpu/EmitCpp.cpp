//===- EmitCpp.cpp - C++ emission of primitive irmb IR --------------------===//
//
// Three steps: (1) weights: every tensor an op needs goes into one blob, BN
// folded into its convolution; (2) memory: each intermediate gets an arena
// offset, reusing the space of values whose last use has passed (first fit);
// (3) code: a kernel function per op with constant shapes calling
// kernels/Kernels.h, and irmb_model_run looping over the batch.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/EmitCpp.h"

#include "codegen/common/BuildLibrary.h"
#include "codegen/common/KernelTable.h"
#include "codegen/common/ModelQueries.h"
#include "codegen/common/StoragePlan.h"
#include "codegen/common/WeightBlob.h"

#include "codegen/cpu/kernels/Kernels.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

using namespace mlir;
using namespace mlir::irmb;
using ::irmb::weights::WeightMap;

namespace irmb::codegen {
// Text of the kernel headers and runtime/include/irmb/ModelAbi.h, embedded
// at build time (KernelSources.cpp) so irmb-compile is self-contained.
extern const KernelHeader kKernelHeaders[];
extern const char *const kModelAbiHeader;
} // namespace irmb::codegen

namespace irmb::codegen {
namespace {

/// The widest vector (AVX-512) in floats: scratch slack for any ISA.
constexpr int64_t kMaxVectorFloats = 16;

/// The emitter state for one module.
class CppEmitter {
public:
  CppEmitter(const WeightMap &weights, const CpuOptions &options)
      : blob(weights), options(options),
        tileRows(gemmTileRows(resolvedIsa(options.isa))),
        panelColumns(gemmPanelColumns(resolvedIsa(options.isa))) {}

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
  /// irmb-select-kernels chose) and its call; `bytesWritten` defaults to the
  /// whole result. The function gets a group of `images` images. A
  /// per-image `body` (uses x0.., y, scratch) runs once per image; a
  /// `batched` body takes the whole group itself (uses x0.., y, scratch,
  /// images and the image strides sx0.., sy in floats).
  void addKernel(Operation *op, ValueRange inputs, const std::string &body,
                 std::optional<int64_t> bytesWritten = std::nullopt,
                 bool batched = false) {
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
    writtenBytes += bytesWritten.value_or(perImage(result) * 4);
  }

  LogicalResult emitOp(Operation *op) {
    if (kernelOf(op).empty())
      return op->emitError("has no cpu_kernel (run --irmb-select-kernels)");
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](Conv2dOp c) { return emitConv(c); })
        .Case([&](BatchNormOp n) -> LogicalResult {
          auto norm = blob.appendNorm(n.getNorm().str(), n);
          if (failed(norm))
            return failure();
          auto s = shapeOf(n.getInput());
          addKernel(op, n.getInput(),
                    llvm::formatv("  channelAffine<{0}, {1}, Act::None>(x0, "
                                  "{2}, {3}, y);\n",
                                  s[1], s[2] * s[3], weight(norm->first),
                                  weight(norm->second))
                        .str());
          return success();
        })
        .Case([&](ActivationOp a) -> LogicalResult {
          addKernel(op, a.getInput(),
                    llvm::formatv("  activation<{0}, {1}>(x0, y);\n",
                                  perImage(a.getInput()), actName(a.getAct()))
                        .str());
          return success();
        })
        .Case([&](AddOp a) -> LogicalResult {
          addKernel(
              op, {a.getLhs(), a.getRhs()},
              llvm::formatv("  add<{0}>(x0, x1, y);\n", perImage(a.getLhs()))
                  .str());
          return success();
        })
        .Case([&](SliceOp s) -> LogicalResult {
          if (s.getView())
            return success(); // an alias of its input (planMemory)
          auto in = shapeOf(s.getInput());
          addKernel(
              op, s.getInput(),
              llvm::formatv("  sliceChannels<{0}, {1}, {2}, {3}, {4}>(x0, "
                            "y);\n",
                            in[2] * in[3], s.getStart(), s.getSize(),
                            s.getGroups(), s.getPeriod())
                  .str());
          return success();
        })
        .Case([&](CatOp c) -> LogicalResult {
          // Inputs written in place by their producers are not copied.
          std::string body;
          SmallVector<Value> copied;
          int64_t at = 0;
          for (auto [i, v] : llvm::enumerate(c.getInputs())) {
            auto s = shapeOf(v);
            if (!c.getInPlace() || !(*c.getInPlace())[i]) {
              body += llvm::formatv("  copyChannels(x{0}, {1}, {2}, y, {3});\n",
                                    copied.size(), s[1], s[2] * s[3], at)
                          .str();
              copied.push_back(v);
            }
            at += s[1];
          }
          int64_t copiedBytes = 0;
          for (Value v : copied)
            copiedBytes += perImage(v) * 4;
          if (!copied.empty())
            addKernel(op, copied, body, copiedBytes);
          return success();
        })
        .Case([&](ProjectionOp p) { return emitProjection(p); })
        .Case([&](PadOp p) -> LogicalResult {
          auto in = shapeOf(p.getInput()), out = shapeOf(p.getOutput());
          addKernel(
              op, p.getInput(),
              llvm::formatv("  padBottomRight<{0}, {1}, {2}, {3}, {4}>(x0, "
                            "y);\n",
                            in[1], in[2], in[3], out[2], out[3])
                  .str());
          return success();
        })
        .Case([&](CropOp c) -> LogicalResult {
          auto in = shapeOf(c.getInput()), out = shapeOf(c.getOutput());
          addKernel(op, c.getInput(),
                    llvm::formatv("  cropTopLeft<{0}, {1}, {2}, {3}, {4}>(x0, "
                                  "y);\n",
                                  in[1], in[2], in[3], out[2], out[3])
                        .str());
          return success();
        })
        .Case([&](MaxPoolOp m) -> LogicalResult {
          auto in = shapeOf(m.getInput());
          addKernel(op, m.getInput(),
                    llvm::formatv("  maxPool<{0}, {1}, {2}, {3}, {4}, {5}>(x0, "
                                  "y);\n",
                                  in[1], in[2], in[3], m.getKernel(),
                                  m.getStride(), m.getPadding())
                        .str());
          return success();
        })
        .Case([&](ResizeNearestOp r) -> LogicalResult {
          auto in = shapeOf(r.getInput());
          addKernel(
              op, r.getInput(),
              llvm::formatv("  resizeNearest<{0}, {1}, {2}, {3}>(x0, y);\n",
                            in[1], in[2], in[3], r.getScale())
                  .str());
          return success();
        })
        .Case([&](AttentionOp a) -> LogicalResult {
          auto q = shapeOf(a.getQuery()), v = shapeOf(a.getValue());
          int64_t heads = a.getHeads();
          char scale[32];
          std::snprintf(scale, sizeof scale, "%.9gf",
                        a.getScale().convertToDouble());
          addKernel(
              op, {a.getQuery(), a.getKeyMap(), a.getValue()},
              llvm::formatv("  attention<{0}, {1}, {2}, {3}, {4}, {5}>(x0, "
                            "x1, x2, {6}, y);\n",
                            q[2], q[3], heads, q[1] / heads, v[1] / heads,
                            a.getWindow(), scale)
                  .str());
          return success();
        })
        .Case([&](EMAOp e) -> LogicalResult {
          auto s = shapeOf(e.getInput());
          FailureOr<WeightBlob::EmaTensors> t = blob.emaTensors(e);
          if (failed(t))
            return failure();
          bool streaming = kernelOf(op) == "ema_streaming";
          if (!streaming && t->norm)
            return e.emitError("an input norm needs the ema_streaming kernel");
          std::string args = "x0, ";
          if (streaming)
            args += t->norm ? weight(t->norm->first) + ", " +
                                  weight(t->norm->second) + ", "
                            : "nullptr, nullptr, ";
          for (int64_t o : t->weights)
            args += weight(o) + ", ";
          addKernel(op, e.getInput(),
                    llvm::formatv("  {0}<{1}, {2}, {3}, {4}>({5}y);\n",
                                  streaming ? "emaStreaming" : "ema", s[1],
                                  s[2], s[3], e.getGroups(), args)
                        .str());
          return success();
        })
        .Case([&](SqueezeExciteOp se) -> LogicalResult {
          auto s = shapeOf(se.getInput());
          FailureOr<WeightBlob::SqueezeExciteTensors> t =
              blob.squeezeExciteTensors(se);
          if (failed(t))
            return failure();
          addKernel(
              op, se.getInput(),
              llvm::formatv("  squeezeExcite<{0}, {1}, {2}, {3}>(x0, {4}, "
                            "{5}, {6}, {7}, y);\n",
                            s[1], s[2] * s[3], t->reduced, actName(se.getAct()),
                            weight(t->weights[0]), weight(t->weights[1]),
                            weight(t->weights[2]), weight(t->weights[3]))
                  .str());
          return success();
        })
        .Case([&](DetectDecodeOp d) -> LogicalResult {
          FailureOr<int64_t> dfl = blob.tensor(d.getDfl(), op);
          if (failed(dfl))
            return failure();
          int64_t anchors = shapeOf(d.getOutput())[2], at = 0;
          std::string body;
          for (auto [i, v] : llvm::enumerate(d.getInputs())) {
            auto s = shapeOf(v);
            body +=
                llvm::formatv("  detectDecodeLevel<{0}, {1}, {2}, {3}, {4}, "
                              "{5}>(x{6}, {7}, {8}, y);\n",
                              d.getNc(), d.getRegMax(), s[2], s[3],
                              d.getStrides()[i], anchors, i, weight(*dfl), at)
                    .str();
            at += s[2] * s[3];
          }
          addKernel(op, d.getInputs(), body);
          return success();
        })
        .Default([&](Operation *other) -> LogicalResult {
          return other->emitError()
                 << "cannot be emitted for the CPU (run --irmb-decompose "
                    "first)";
        });
  }

  LogicalResult emitConv(Conv2dOp c) {
    bool depthwise = kernelOf(c) == "depthwise";
    bool direct = kernelOf(c) == "direct_s2";
    int64_t winograd = kernelOf(c) == "winograd_f4"   ? 4
                       : kernelOf(c) == "winograd_f2" ? 2
                                                      : 0;
    FailureOr<WeightBlob::ConvTensors> t = blob.convTensors(
        c, depthwise || direct ? 0 : tileRows, winograd,
        direct ? panelColumns : 0);
    if (failed(t))
      return failure();
    auto in = shapeOf(c.getInput()), out = shapeOf(c.getOutput());
    int64_t k = c.getKernel(), s = c.getStride(), p = c.getPadding(),
            d = c.getDilation(), g = c.getGroups();
    std::string bias = t->bias >= 0 ? weight(t->bias) : "nullptr";
    std::string res = c.getResidual() ? "x1" : "nullptr";
    SmallVector<Value> inputs{c.getInput()};
    if (c.getResidual())
      inputs.push_back(c.getResidual());
    std::string body;
    if (depthwise) {
      body = llvm::formatv("  depthwiseConv2d<{0}, {1}, {2}, {3}, {4}, {5}, "
                           "{6}, {7}>(x0, {8}, {9}, {10}, y);\n",
                           in[1], in[2], in[3], k, s, p, d, actName(c.getAct()),
                           weight(t->weight), bias, res)
                 .str();
    } else if (direct) {
      body = llvm::formatv("  directConv3x3s2<{0}, {1}, {2}, {3}, {4}>(x0, {5}, "
                           "{6}, {7}, y, images, sx0, sy, {8});\n",
                           in[1], in[2], in[3], out[1], actName(c.getAct()),
                           weight(t->weight), bias, res,
                           c.getResidual() ? "sx1" : "0")
                 .str();
    } else if (winograd) {
      // The group's images through every GEMM at once.
      scratchBytes = std::max(
          scratchBytes, 4 * ::irmb::kernels::winogradScratchFloats(
                                in[1], in[2], in[3], out[1], winograd,
                                kMaxVectorFloats, group));
      body = llvm::formatv("  winogradConv3x3<{0}, {1}, {2}, {3}, {4}, {5}>"
                           "(x0, {6}, {7}, {8}, y, scratch, images, sx0, sy, "
                           "{9});\n",
                           in[1], in[2], in[3], out[1], winograd,
                           actName(c.getAct()), weight(t->weight), bias, res,
                           c.getResidual() ? "sx1" : "0")
                 .str();
    } else {
      scratchBytes = std::max(
          scratchBytes, 4 * group *
                            ::irmb::kernels::convScratchFloats(
                                in[1], in[2], in[3], k, s, p, d, g));
      body = llvm::formatv("  conv2d<{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, "
                           "{8}, {9}>(x0, {10}, {11}, {12}, y, scratch, "
                           "images, sx0, sy, {13});\n",
                           in[1], in[2], in[3], out[1], k, s, p, d, g,
                           actName(c.getAct()), weight(t->weight), bias, res,
                           c.getResidual() ? "sx1" : "0")
                 .str();
    }
    addKernel(c, inputs, body, std::nullopt, /*batched=*/!depthwise);
    return success();
  }

  /// A merged projection: the parts' folded weights stacked into one
  /// matrix, one GEMM per run of parts with the same activation.
  LogicalResult emitProjection(ProjectionOp p) {
    auto in = shapeOf(p.getInput());
    int64_t hw = in[2] * in[3], cin = in[1];
    FailureOr<WeightBlob::StackedProjection> stacked = blob.stackProjection(p, tileRows);
    if (failed(stacked))
      return failure();
    std::string body =
        llvm::formatv("  const float *WP = {0}, *BP = {1};\n",
                      weight(stacked->weight), weight(stacked->bias))
            .str();
    for (const auto &r : stacked->runs)
      body += llvm::formatv("  batchedGemm<{0}>({1}, {2}, {3}, WP + {4}, x0, "
                            "{2}, BP + {5}, nullptr, y + {6}, {2}, images, "
                            "sx0, sy, 0);\n",
                            actName(r.act), r.end - r.start, hw, cin,
                            r.start * cin, r.start, r.start * hw)
                  .str();
    addKernel(p, p.getInput(), body, std::nullopt, /*batched=*/true);
    return success();
  }

  std::string assemble(Value input, Value result, int64_t arenaBytes) {
    auto in = shapeOf(input), out = shapeOf(result);
    std::ostringstream src;
    src << "// Generated by irmb-compile from " << options.source
        << " for the CPU (" << options.isa << ").\n"
        << "// One function per kernel; every shape is a constant.\n"
        << "#include \"Kernels.h\"\n#include \"ModelAbi.h\"\n"
        << "#include <chrono>\n#include <omp.h>\n\n"
        << "using namespace irmb::kernels;\n\n"
        << "static_assert(kTileRows == " << tileRows << " && kTileCols == "
        << panelColumns << ", \"the weights are packed for "
        << resolvedIsa(options.isa)
        << " micro-kernel tiles: build with the -march of --cpu "
        << options.isa << "\");\n\n"
        << "extern \"C\" const char irmb_weights[];\n"
        << "asm(\".section .rodata\\n.balign 64\\n.global irmb_weights\\n"
           "irmb_weights:\\n.incbin \\\"weights.bin\\\"\\n.previous\\n\");\n"
        << "static inline const float *W(long offset) {\n"
        << "  return reinterpret_cast<const float *>(irmb_weights + offset);\n"
        << "}\n"
        << "static inline float *F(unsigned char *arena, long offset) {\n"
        << "  return reinterpret_cast<float *>(arena + offset);\n}\n\n"
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
    src << "extern \"C\" const irmb_model_desc *irmb_model_describe(void) {\n"
        << "  return &kDesc;\n}\n\n"
        << "extern \"C\" void irmb_model_set_threads(int threads) {\n"
        << "  omp_set_num_threads(threads > 0 ? threads : 1);\n}\n\n"
        << "extern \"C\" const char *irmb_model_error(void) { return \"\"; }\n"
        << "extern \"C\" int irmb_model_open(void **state) {\n"
        << "  *state = nullptr;\n  return 0;\n}\n"
        << "extern \"C\" void irmb_model_close(void *) {}\n\n"
        // One kernel call: timed when profiling, and then its result (the
        // `floats` per image at `result`, `step` apart) scanned.
        << "#define IRMB_CALL(index, call, result, floats, step)          \\\n"
        << "  do {                                                        \\\n"
        << "    if (kernel_ms) {                                          \\\n"
        << "      auto t0 = std::chrono::steady_clock::now();             \\\n"
        << "      call;                                                   \\\n"
        << "      kernel_ms[index] += std::chrono::duration<double,       \\\n"
        << "          std::milli>(std::chrono::steady_clock::now() - t0)  \\\n"
        << "          .count();                                           \\\n"
        << "    } else {                                                  \\\n"
        << "      call;                                                   \\\n"
        << "    }                                                         \\\n"
        << "    if (first_nonfinite &&                                    \\\n"
        << "        (*first_nonfinite < 0 || index < *first_nonfinite) && \\\n"
        << "        !irmb::kernels::allFinite(result, floats, step, images)) \\\n"
        << "      *first_nonfinite = index;                               \\\n"
        << "  } while (0)\n\n"
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
  /// The ISA's micro-kernel tile: rows (GEMM weights are packed for them)
  /// and columns (the direct convolution's output channels per block).
  int64_t tileRows, panelColumns;
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
  std::vector<BuildFile> files{
      {"model.cpp", module.source.data(), module.source.size()},
      {"weights.bin", module.weights.data(), module.weights.size()},
      {"ModelAbi.h", kModelAbiHeader, std::strlen(kModelAbiHeader)}};
  for (const KernelHeader *h = kKernelHeaders; h->name; ++h)
    files.push_back({h->name, h->text, std::strlen(h->text)});
  return buildLibrary(files, command, "the host compiler", outputPath);
}

} // namespace irmb::codegen
