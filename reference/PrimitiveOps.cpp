//===- PrimitiveOps.cpp - the primitive ops with ATen ---------------------===//
//
// The interpreter of the primitive irmb ops that irmb-decompose and the
// fusion passes produce: convolutions with their folded norms, activations
// and residuals, channel slices and concatenations, padding and cropping,
// pooling, resizing, the fused attention, EMA and SqueezeExcite, and the
// Detect decoding. Weights are named by full state_dict key on the op.
//
//===----------------------------------------------------------------------===//
#include "reference/ModuleForwards.h"
#include "reference/OpInterpreters.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace irmb;
using at::Tensor;

namespace irmb::reference::detail {

std::optional<Tensor> runPrimitiveOp(Operation *op, const OpContext &ctx) {
  return llvm::TypeSwitch<Operation *, std::optional<Tensor>>(op)
      .Case([&](Conv2dOp c) {
        Tensor x = ctx.in(c.getInput());
        if (c.getInputNorm())
          x = Layer(ctx.weights, c.getInputNorm()->str()).batchNorm(x);
        Tensor y = at::conv2d(x, ctx.w(c.getWeight()),
                              c.getBias() ? ctx.w(*c.getBias()) : Tensor(),
                              {static_cast<int64_t>(c.getStride()),
                               static_cast<int64_t>(c.getStride())},
                              {static_cast<int64_t>(c.getPadding()),
                               static_cast<int64_t>(c.getPadding())},
                              {static_cast<int64_t>(c.getDilation()),
                               static_cast<int64_t>(c.getDilation())},
                              static_cast<int64_t>(c.getGroups()));
        if (c.getNorm())
          y = Layer(ctx.weights, c.getNorm()->str()).batchNorm(y);
        y = activate(y, c.getAct());
        return c.getResidual() ? y + ctx.in(c.getResidual()) : y;
      })
      .Case([&](ProjectionOp p) {
        Tensor x = ctx.in(p.getInput());
        if (p.getInputNorm())
          x = Layer(ctx.weights, p.getInputNorm()->str()).batchNorm(x);
        std::vector<Tensor> parts;
        for (size_t i = 0; i < p.getWeights().size(); ++i) {
          StringRef bias = cast<StringAttr>(p.getBiases()[i]).getValue();
          Tensor y = at::conv2d(
              x, ctx.w(cast<StringAttr>(p.getWeights()[i]).getValue()),
              bias.empty() ? Tensor() : ctx.w(bias));
          parts.push_back(
              activate(y, cast<ActivationAttr>(p.getActs()[i]).getValue()));
        }
        return at::cat(parts, 1);
      })
      .Case([&](BatchNormOp n) {
        return Layer(ctx.weights, n.getNorm().str())
            .batchNorm(ctx.in(n.getInput()));
      })
      .Case([&](ActivationOp a) {
        return activate(ctx.in(a.getInput()), a.getAct());
      })
      .Case([&](AddOp a) { return ctx.in(a.getLhs()) + ctx.in(a.getRhs()); })
      .Case([&](SliceOp sl) {
        Tensor x = ctx.in(sl.getInput());
        if (sl.getGroups() == 1)
          return x.slice(1, sl.getStart(), sl.getStart() + sl.getSize());
        std::vector<int64_t> channels;
        for (int64_t g = 0; g < static_cast<int64_t>(sl.getGroups()); ++g)
          for (int64_t i = 0; i < static_cast<int64_t>(sl.getSize()); ++i)
            channels.push_back(g * sl.getPeriod() + sl.getStart() + i);
        return x.index_select(1, at::tensor(channels, at::kLong));
      })
      .Case([&](CatOp c) { return at::cat(ctx.inputs(c.getInputs()), 1); })
      .Case([&](PadOp p) {
        Tensor x = ctx.in(p.getInput());
        auto out = cast<RankedTensorType>(p.getType()).getShape();
        return at::constant_pad_nd(
            x, {0, out[3] - x.size(3), 0, out[2] - x.size(2)}, 0.0);
      })
      .Case([&](CropOp c) {
        auto out = cast<RankedTensorType>(c.getType()).getShape();
        return ctx.in(c.getInput())
            .slice(2, 0, out[2])
            .slice(3, 0, out[3])
            .contiguous();
      })
      .Case([&](MaxPoolOp m) {
        int64_t k = m.getKernel(), s = m.getStride(), p = m.getPadding();
        return at::max_pool2d(ctx.in(m.getInput()), {k, k}, {s, s}, {p, p});
      })
      .Case([&](ResizeNearestOp r) {
        Tensor x = ctx.in(r.getInput());
        double s = static_cast<double>(r.getScale());
        return at::upsample_nearest2d(
            x,
            {x.size(2) * static_cast<int64_t>(r.getScale()),
             x.size(3) * static_cast<int64_t>(r.getScale())},
            s, s);
      })
      .Case([&](AttentionOp a) {
        return windowedAttention(ctx.in(a.getQuery()), ctx.in(a.getKeyMap()),
                                 ctx.in(a.getValue()), a.getHeads(),
                                 a.getWindow(), a.getScale().convertToDouble());
      })
      .Case([&](EMAOp e) {
        Tensor x = ctx.in(e.getInput());
        if (e.getNorm())
          x = Layer(ctx.weights, e.getNorm()->str()).batchNorm(x);
        return ema(Layer(ctx.weights, e.getPrefix().str()), x, e.getGroups());
      })
      .Case([&](SqueezeExciteOp se) {
        return squeezeExcite(Layer(ctx.weights, se.getPrefix().str()),
                             ctx.in(se.getInput()), se.getAct());
      })
      .Case([&](DetectDecodeOp d) {
        std::vector<Tensor> xs = ctx.inputs(d.getInputs());
        std::vector<Tensor> flat;
        for (const Tensor &x : xs)
          flat.push_back(x.view({x.size(0), x.size(1), -1}));
        return decode(ctx.w(d.getDfl()), at::cat(flat, 2), xs, d.getStrides(),
                      d.getRegMax());
      })
      .Default([](Operation *) { return std::optional<Tensor>(); });
}

} // namespace irmb::reference::detail
