//===- KernelCalls.cpp - what each primitive op calls, on any target -----===//
//
// One case per primitive op (KernelCalls.h). A case names the kernel, its
// template constants and its arguments in the order the kernel libraries
// (codegen/cpu/kernels/Kernels.h, codegen/cuda/kernels/CudaKernels.cuh)
// declare them, asks the blob for the op's weights, and sizes the scratch
// from the kernels' own formulas (ConvScratch.h, WinogradTransforms.h,
// CudaScratch.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/common/KernelCalls.h"

#include "codegen/common/ModelQueries.h"
#include "codegen/cpu/kernels/ConvScratch.h"
#include "codegen/cpu/kernels/WinogradTransforms.h"
#include "codegen/cuda/kernels/CudaScratch.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/KernelChoice.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstdio>

using namespace mlir;
using namespace irmb;

namespace irmb::codegen {

SmallVector<Value> OpKernelCalls::inputs(Operation *op) const {
  SmallVector<Value> read;
  for (const KernelCall &call : calls)
    for (const KernelArg &a : call.args)
      if ((a.kind == KernelArg::Kind::Tensor ||
           a.kind == KernelArg::Kind::TensorBase) &&
          a.value != op->getResult(0) && !llvm::is_contained(read, a.value))
        read.push_back(a.value);
  return read;
}

int OpKernelCalls::launches() const {
  int n = 0;
  for (const KernelCall &call : calls)
    n += call.launches;
  return n;
}

std::string floatLiteral(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9gf", value);
  return text;
}

namespace {

using Kind = KernelArg::Kind;

/// The widest CPU vector (AVX-512) in floats: scratch slack for any ISA.
constexpr int64_t kMaxVectorFloats = 16;

template <typename... V> SmallVector<std::string> nums(V... v) {
  return {std::to_string(v)...};
}

/// Builds the description of one op.
class Describer {
public:
  Describer(Operation *op, WeightBlob &blob, const KernelTarget &target)
      : op(op), blob(blob), target(target),
        cpu(target.library == KernelLibrary::Cpu) {}

  FailureOr<OpKernelCalls> run() {
    std::optional<Kernel> chosen = chosenKernel(op);
    if (!chosen)
      return op->emitError("has no irmb.kernel (run --irmb-select-kernels)");
    kernel = *chosen;
    out.bytesWritten = perImage(op->getResult(0)) * 4;
    LogicalResult described =
        llvm::TypeSwitch<Operation *, LogicalResult>(op)
            .Case([&](Conv2dOp c) { return conv(c); })
            .Case([&](ProjectionOp p) { return projection(p); })
            .Case([&](BatchNormOp n) -> LogicalResult {
              auto norm = blob.appendNorm(n.getNorm().str(), n);
              if (failed(norm))
                return failure();
              auto s = shapeOf(n.getInput());
              SmallVector<std::string> params = nums(s[1], s[2] * s[3]);
              params.push_back("Act::None");
              call("channelAffine", params,
                   {KernelArg::tensor(n.getInput()),
                    KernelArg::weight(norm->first),
                    KernelArg::weight(norm->second),
                    KernelArg::tensor(n.getOutput())});
              return success();
            })
            .Case([&](ActivationOp a) -> LogicalResult {
              call("activation",
                   {std::to_string(perImage(a.getInput())),
                    actName(a.getAct())},
                   {KernelArg::tensor(a.getInput()),
                    KernelArg::tensor(a.getOutput())});
              return success();
            })
            .Case([&](AddOp a) -> LogicalResult {
              call("add", nums(perImage(a.getLhs())),
                   {KernelArg::tensor(a.getLhs()),
                    KernelArg::tensor(a.getRhs()),
                    KernelArg::tensor(a.getOutput())});
              return success();
            })
            .Case([&](SliceOp s) -> LogicalResult {
              if (s.getView())
                return success(); // an alias of its input (StoragePlan)
              auto in = shapeOf(s.getInput());
              call("sliceChannels",
                   nums(in[2] * in[3], s.getStart(), s.getSize(),
                        s.getGroups(), s.getPeriod()),
                   {KernelArg::tensor(s.getInput()),
                    KernelArg::tensor(s.getOutput())});
              return success();
            })
            .Case([&](CatOp c) { return cat(c); })
            .Case([&](PadOp p) -> LogicalResult {
              auto in = shapeOf(p.getInput()), o = shapeOf(p.getOutput());
              call("padBottomRight", nums(in[1], in[2], in[3], o[2], o[3]),
                   {KernelArg::tensor(p.getInput()),
                    KernelArg::tensor(p.getOutput())});
              return success();
            })
            .Case([&](CropOp c) -> LogicalResult {
              auto in = shapeOf(c.getInput()), o = shapeOf(c.getOutput());
              call("cropTopLeft", nums(in[1], in[2], in[3], o[2], o[3]),
                   {KernelArg::tensor(c.getInput()),
                    KernelArg::tensor(c.getOutput())});
              return success();
            })
            .Case([&](MaxPoolOp m) -> LogicalResult {
              auto in = shapeOf(m.getInput());
              call("maxPool",
                   nums(in[1], in[2], in[3], m.getKernel(), m.getStride(),
                        m.getPadding()),
                   {KernelArg::tensor(m.getInput()),
                    KernelArg::tensor(m.getOutput())});
              return success();
            })
            .Case([&](ResizeNearestOp r) -> LogicalResult {
              auto in = shapeOf(r.getInput());
              call("resizeNearest", nums(in[1], in[2], in[3], r.getScale()),
                   {KernelArg::tensor(r.getInput()),
                    KernelArg::tensor(r.getOutput())});
              return success();
            })
            .Case([&](AttentionOp a) -> LogicalResult {
              auto q = shapeOf(a.getQuery()), v = shapeOf(a.getValue());
              int64_t heads = a.getHeads();
              KernelArg scale{Kind::Float};
              scale.real = a.getScale().convertToDouble();
              call("attention",
                   nums(q[2], q[3], heads, q[1] / heads, v[1] / heads,
                        a.getWindow()),
                   {KernelArg::tensor(a.getQuery()),
                    KernelArg::tensor(a.getKeyMap()),
                    KernelArg::tensor(a.getValue()), scale,
                    KernelArg::tensor(a.getOutput())});
              return success();
            })
            .Case([&](EMAOp e) { return ema(e); })
            .Case([&](SqueezeExciteOp se) { return squeezeExcite(se); })
            .Case([&](DetectDecodeOp d) { return detectDecode(d); })
            .Default([&](Operation *other) -> LogicalResult {
              return other->emitError()
                     << "is not a primitive op and cannot be emitted (run "
                        "--irmb-decompose first)";
            });
    if (failed(described))
      return failure();
    return std::move(out);
  }

private:
  void call(StringRef kernel, SmallVector<std::string> params,
            SmallVector<KernelArg> args, int launches = 1) {
    out.calls.push_back(
        {kernel.str(), std::move(params), std::move(args), launches});
  }

  /// The CPU batched kernels' trailing arguments: the images, then the
  /// image strides of the input, the result and the residual (0 without).
  void appendBatchArgs(SmallVector<KernelArg> &args, Value x, Value y,
                       Value residual) {
    args.push_back(KernelArg::of(Kind::Images));
    args.push_back(KernelArg::of(Kind::ImageStride, x));
    args.push_back(KernelArg::of(Kind::ImageStride, y));
    args.push_back(KernelArg::of(Kind::ImageStride, residual));
  }

  LogicalResult conv(Conv2dOp c) {
    bool depthwise = kernel == Kernel::depthwise;
    bool direct = cpu && kernel == Kernel::direct_s2;
    int64_t winograd = !cpu                            ? 0
                       : kernel == Kernel::winograd_f4 ? 4
                       : kernel == Kernel::winograd_f2 ? 2
                                                       : 0;
    bool gemm = !depthwise && !direct && !winograd;
    // The CPU packs GEMM operands (the im2col GEMM, Winograd's positions)
    // for its micro-kernel tiles and the direct kernel's with output
    // channels in lanes; CUDA reads the folded weights as they are.
    FailureOr<WeightBlob::ConvTensors> t = blob.convTensors(
        c, cpu && (gemm || winograd) ? target.tileRows : 0, winograd,
        direct ? target.directColumns : 0);
    if (failed(t))
      return failure();
    auto in = shapeOf(c.getInput()), o = shapeOf(c.getOutput());
    Value x = c.getInput(), y = c.getOutput(), res = c.getResidual();
    SmallVector<std::string> params;
    // The im2col GEMM and Winograd read the weights as a GEMM operand (CUDA:
    // the T copy); depthwise and direct_s2 read the float weights.
    KernelArg weight{depthwise || direct ? Kind::Weight : Kind::GemmWeight, {},
                     t->weight};
    SmallVector<KernelArg> args{KernelArg::tensor(x), weight,
                                KernelArg::optionalWeight(t->bias),
                                KernelArg::optionalTensor(res),
                                KernelArg::tensor(y)};
    if (depthwise) {
      params = nums(in[1], in[2], in[3], c.getKernel(), c.getStride(),
                    c.getPadding(), c.getDilation());
      params.push_back(actName(c.getAct()));
      call("depthwiseConv2d", params, args);
      return success();
    }
    if (!cpu) {
      params = nums(in[1], in[2], in[3], o[1], c.getKernel(), c.getStride(),
                    c.getPadding(), c.getDilation(), c.getGroups());
      params.push_back(actName(c.getAct()));
      // A convolution of the model input reads the float input itself
      // (converting while its tiles load), saving the conversion pass.
      if (x == target.modelInput && target.reducedPrecision) {
        params.push_back("float");
        args[0] = KernelArg::of(Kind::FloatInput);
      }
      call("conv2d", params, args);
      return success();
    }
    out.batched = true;
    if (direct) {
      params = nums(in[1], in[2], in[3], o[1]);
      params.push_back(actName(c.getAct()));
      appendBatchArgs(args, x, y, res);
      call("directConv3x3s2", params, args);
      return success();
    }
    args.push_back(KernelArg::of(Kind::Scratch));
    appendBatchArgs(args, x, y, res);
    if (winograd) {
      // The group's images through every GEMM at once.
      out.scratchFloats = ::irmb::kernels::winogradScratchFloats(
          in[1], in[2], in[3], o[1], winograd, kMaxVectorFloats,
          target.images);
      params = nums(in[1], in[2], in[3], o[1], winograd);
      params.push_back(actName(c.getAct()));
      call("winogradConv3x3", params, args);
      return success();
    }
    out.scratchFloats =
        target.images * ::irmb::kernels::convScratchFloats(
                            in[1], in[2], in[3], c.getKernel(), c.getStride(),
                            c.getPadding(), c.getDilation(), c.getGroups());
    params = nums(in[1], in[2], in[3], o[1], c.getKernel(), c.getStride(),
                  c.getPadding(), c.getDilation(), c.getGroups());
    params.push_back(actName(c.getAct()));
    call("conv2d", params, args);
    return success();
  }

  /// A merged projection: the parts' folded weights stacked into one
  /// matrix, one GEMM per run of parts with the same activation (CPU: the
  /// batched GEMM; CUDA: a 1×1 convolution).
  LogicalResult projection(ProjectionOp p) {
    auto in = shapeOf(p.getInput());
    int64_t hw = in[2] * in[3], cin = in[1];
    FailureOr<WeightBlob::StackedProjection> stacked =
        blob.stackProjection(p, cpu ? target.tileRows : 0);
    if (failed(stacked))
      return failure();
    Value x = p.getInput(), y = p.getOutput();
    out.batched = cpu;
    for (const auto &r : stacked->runs) {
      int64_t rows = r.end - r.start;
      KernelArg w{Kind::GemmWeight, {}, stacked->weight + r.start * cin * 4};
      KernelArg bias = KernelArg::weight(stacked->bias + r.start * 4);
      KernelArg result = KernelArg::tensor(y, r.start * hw);
      if (cpu) {
        SmallVector<KernelArg> args{
            KernelArg::integer(rows), KernelArg::integer(hw),
            KernelArg::integer(cin),  w,
            KernelArg::tensor(x),     KernelArg::integer(hw),
            bias,                     KernelArg::of(Kind::NoTensor),
            result,                   KernelArg::integer(hw)};
        appendBatchArgs(args, x, y, Value());
        call("batchedGemm", {actName(r.act)}, args);
      } else {
        SmallVector<std::string> params =
            nums(cin, in[2], in[3], rows, 1, 1, 0, 1, 1);
        params.push_back(actName(r.act));
        call("conv2d", params,
             {KernelArg::tensor(x), w, bias, KernelArg::of(Kind::NoTensor),
              result});
      }
    }
    return success();
  }

  /// Copies of the inputs not written in place by their producers (CPU: by
  /// channels at a channel offset; CUDA: flat, at an element offset).
  LogicalResult cat(CatOp c) {
    out.bytesWritten = 0;
    int64_t channels = 0, elements = 0;
    for (auto [i, v] : llvm::enumerate(c.getInputs())) {
      auto s = shapeOf(v);
      if (!c.getInPlace() || !(*c.getInPlace())[i]) {
        if (cpu)
          call("copyChannels", {},
               {KernelArg::tensor(v), KernelArg::integer(s[1]),
                KernelArg::integer(s[2] * s[3]),
                KernelArg::tensor(c.getOutput()),
                KernelArg::integer(channels)});
        else
          call("copy", {},
               {KernelArg::tensor(v), KernelArg::integer(perImage(v)),
                KernelArg::tensor(c.getOutput(), elements)});
        out.bytesWritten += perImage(v) * 4;
      }
      channels += s[1];
      elements += perImage(v);
    }
    return success();
  }

  /// EMA: the CPU has a streaming kernel (the only one that takes an input
  /// norm, which the dialect's irmb.kernel verifier holds to) and a plain
  /// one; CUDA one kernel with scratch.
  LogicalResult ema(EMAOp e) {
    auto s = shapeOf(e.getInput());
    FailureOr<WeightBlob::EmaTensors> t = blob.emaTensors(e);
    if (failed(t))
      return failure();
    bool streaming = !cpu || kernel == Kernel::ema_streaming;
    SmallVector<KernelArg> args{KernelArg::tensor(e.getInput())};
    if (streaming) {
      args.push_back(t->norm ? KernelArg::weight(t->norm->first)
                             : KernelArg::of(Kind::Null));
      args.push_back(t->norm ? KernelArg::weight(t->norm->second)
                             : KernelArg::of(Kind::Null));
    }
    for (int64_t o : t->weights)
      args.push_back(KernelArg::weight(o));
    args.push_back(KernelArg::tensor(e.getOutput()));
    if (!cpu) {
      args.push_back(KernelArg::of(Kind::Scratch));
      out.scratchFloats =
          target.images * ::irmb::cuda::emaScratchFloats(s[1], s[2], s[3]);
    }
    call(cpu && streaming ? "emaStreaming" : "ema",
         nums(s[1], s[2], s[3], e.getGroups()), args);
    return success();
  }

  /// Squeeze-excite: one CPU kernel; three CUDA launches through scratch.
  LogicalResult squeezeExcite(SqueezeExciteOp se) {
    auto s = shapeOf(se.getInput());
    FailureOr<WeightBlob::SqueezeExciteTensors> t =
        blob.squeezeExciteTensors(se);
    if (failed(t))
      return failure();
    SmallVector<std::string> params = nums(s[1], s[2] * s[3], t->reduced);
    params.push_back(actName(se.getAct()));
    SmallVector<KernelArg> args{KernelArg::tensor(se.getInput())};
    for (int64_t o : t->weights)
      args.push_back(KernelArg::weight(o));
    args.push_back(KernelArg::tensor(se.getOutput()));
    if (cpu) {
      call("squeezeExcite", params, args);
      return success();
    }
    args.push_back(KernelArg::of(Kind::Scratch));
    out.scratchFloats =
        target.images * ::irmb::cuda::squeezeExciteScratchFloats(s[1]);
    call("squeezeExcite", params, args, /*launches=*/3);
    return success();
  }

  /// One call per level, each writing its anchors' columns of the output.
  LogicalResult detectDecode(DetectDecodeOp d) {
    FailureOr<int64_t> dfl = blob.tensor(d.getDfl(), d);
    if (failed(dfl))
      return failure();
    int64_t anchors = shapeOf(d.getOutput())[2], at = 0;
    for (auto [i, v] : llvm::enumerate(d.getInputs())) {
      auto s = shapeOf(v);
      call("detectDecodeLevel",
           nums(d.getNc(), d.getRegMax(), s[2], s[3], d.getStrides()[i],
                anchors),
           {KernelArg::tensor(v), KernelArg::weight(*dfl),
            KernelArg::integer(at),
            KernelArg::of(Kind::TensorBase, d.getOutput())});
      at += s[2] * s[3];
    }
    return success();
  }

  Operation *op;
  WeightBlob &blob;
  const KernelTarget &target;
  bool cpu;
  Kernel kernel = Kernel::im2col_gemm; ///< the op's irmb.kernel
  OpKernelCalls out;
};

} // namespace

FailureOr<OpKernelCalls> describeKernelCalls(Operation *op, WeightBlob &blob,
                                             const KernelTarget &target) {
  return Describer(op, blob, target).run();
}

} // namespace irmb::codegen
