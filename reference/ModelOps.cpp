//===- ModelOps.cpp - the model-level ops with ATen -----------------------===//
//
// The interpreter of the model-level irmb ops: each op is one Ultralytics
// module (Conv, C2f, C3k2, C2fCIB, SCDown, SPPF, PSA, C2PSA, the Meta Mobile
// Block, Detect, v10Detect), run through the forwards of ModuleForwards.h
// with its weights under the op's state_dict key.
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

/// C3k2's Bottleneck(c, c, shortcut, g, k=(3, 3), e=0.5).
static Tensor bottleneckHalf(const Layer &m, const Tensor &y, C3k2Op c) {
  Tensor t = (m / "cv2").conv((m / "cv1").conv(y, 3), 3, 1, c.getGroups());
  return c.getShortcut() ? y + t : t;
}

/// CIB(c, c, shortcut, e=1.0, lk).
static Tensor cib(const Layer &m, const Tensor &x, C2fCIBOp c) {
  int64_t ch = x.size(1);
  Layer seq = m / "cv1";
  Tensor y = (seq / 0).conv(x, 3, 1, ch);
  y = (seq / 1).conv(y, 1);
  Layer mid = seq / 2;
  if (!c.getLk()) {
    y = mid.conv(y, 3, 1, 2 * ch);
  } else {
    Tensor a = (mid / "conv").conv(y, 7, 1, 2 * ch, Activation::none);
    Tensor b = (mid / "conv1").conv(y, 3, 1, 2 * ch, Activation::none);
    y = at::silu(a + b);
  }
  y = (seq / 3).conv(y, 1);
  y = (seq / 4).conv(y, 3, 1, ch);
  return c.getShortcut() ? x + y : y;
}

/// PSA (one block at attn/ffn) or C2PSA (n blocks at m.j).
static Tensor partialAttention(const Layer &l, const Tensor &x, int64_t hidden,
                               int64_t n, int64_t heads, bool nested) {
  std::vector<Tensor> ab =
      (l / "cv1").conv(x, 1).split_with_sizes({hidden, hidden}, 1);
  Tensor b = ab[1];
  for (int64_t j = 0; j < n; ++j)
    b = attentionBlock(nested ? l / "m" / j : l, b, heads);
  return (l / "cv2").conv(at::cat({ab[0], b}, 1), 1);
}

std::optional<Tensor> runModelOp(Operation *op, const OpContext &ctx) {
  auto layer = dyn_cast<LayerOpInterface>(op);
  Layer l(ctx.weights, layer ? layer.getKey().str() : std::string());
  return llvm::TypeSwitch<Operation *, std::optional<Tensor>>(op)
      .Case([&](ConvOp c) {
        return l.convPadded(ctx.in(c.getInput()), c.getStride(), c.getPadding(),
                            c.getGroups(), c.getAct(), c.getDilation());
      })
      .Case([&](ConcatOp c) {
        std::vector<Tensor> xs;
        for (Value v : c.getInputs())
          xs.push_back(ctx.in(v));
        return at::cat(xs, c.getDim());
      })
      .Case([&](UpsampleOp u) {
        Tensor x = ctx.in(u.getInput());
        return at::upsample_nearest2d(
            x,
            {x.size(2) * static_cast<int64_t>(u.getScale()),
             x.size(3) * static_cast<int64_t>(u.getScale())},
            static_cast<double>(u.getScale()),
            static_cast<double>(u.getScale()));
      })
      .Case([&](C2fOp c) {
        std::optional<MMBConfigAttr> block = c.getBlock();
        return c2fSkeleton(l, ctx.in(c.getInput()), c.getN(),
                           [&](const Layer &m, const Tensor &y) {
                             return bottleneck(m, y, c.getHidden(),
                                               c.getShortcut(), c.getGroups(),
                                               block ? *block
                                                     : MMBConfigAttr());
                           });
      })
      .Case([&](C3k2Op c) {
        return c2fSkeleton(l, ctx.in(c.getInput()), c.getN(),
                           [&](const Layer &m, const Tensor &y) -> Tensor {
                             if (!c.getC3k())
                               return bottleneckHalf(m, y, c);
                             Tensor a = (m / "cv1").conv(y, 1);
                             for (int64_t j = 0; j < 2; ++j)
                               a = bottleneck(m / "m" / j, a, a.size(1),
                                              c.getShortcut(), c.getGroups());
                             return (m / "cv3").conv(
                                 at::cat({a, (m / "cv2").conv(y, 1)}, 1), 1);
                           });
      })
      .Case([&](C2fCIBOp c) {
        return c2fSkeleton(
            l, ctx.in(c.getInput()), c.getN(),
            [&](const Layer &m, const Tensor &y) { return cib(m, y, c); });
      })
      .Case([&](SCDownOp s) {
        Tensor y = (l / "cv1").conv(ctx.in(s.getInput()), 1);
        return (l / "cv2").conv(y, s.getKernel(), s.getStride(), y.size(1),
                                Activation::none);
      })
      .Case([&](SPPFOp s) {
        int64_t k = s.getKernel();
        std::vector<Tensor> ys{(l / "cv1").conv(ctx.in(s.getInput()), 1)};
        for (int i = 0; i < 3; ++i)
          ys.push_back(
              at::max_pool2d(ys.back(), {k, k}, {1, 1}, {k / 2, k / 2}));
        return (l / "cv2").conv(at::cat(ys, 1), 1);
      })
      .Case([&](PSAOp p) {
        return partialAttention(l, ctx.in(p.getInput()), p.getHidden(), 1,
                                p.getNumHeads(), /*nested=*/false);
      })
      .Case([&](C2PSAOp p) {
        return partialAttention(l, ctx.in(p.getInput()), p.getHidden(),
                                p.getN(), p.getNumHeads(), /*nested=*/true);
      })
      .Case([&](MMBOp m) {
        int64_t outChannels =
            cast<RankedTensorType>(op->getResult(0).getType()).getDimSize(1);
        return mmbForward(l, m.getConfig(), ctx.in(m.getInput()), outChannels);
      })
      .Case([&](DetectOp d) {
        std::vector<Tensor> xs = ctx.inputs(d.getInputs());
        Tensor preds = detectBranches(l, "cv2", "cv3", xs,
                                      d.getClsHead() == ClsHead::depthwise);
        return decode((l / "dfl" / "conv").w("weight"), preds, xs,
                      d.getStrides(), d.getRegMax());
      })
      .Case([&](V10DetectOp d) {
        std::vector<Tensor> xs = ctx.inputs(d.getInputs());
        Tensor preds =
            detectBranches(l, "one2one_cv2", "one2one_cv3", xs, true);
        return decode((l / "dfl" / "conv").w("weight"), preds, xs,
                      d.getStrides(), d.getRegMax());
      })
      .Default([](Operation *) { return std::optional<Tensor>(); });
}

} // namespace irmb::reference::detail
