//===- Decompose.cpp - model-level ops to primitive ops -------------------===//
//
// The irmb-decompose pass, a dialect conversion: the target accepts only
// primitive ops (irmb::PrimitiveOpTrait) beside func and builtin, every
// model-level op (LayerOpInterface) is illegal, and one conversion pattern
// rewrites each of them. One function per Ultralytics module builds the
// primitive ops that compute it, in the module's own order; the structure
// follows reference/ModelOps.cpp (the oracle), which the tests use to check
// that decomposed and model-level IR compute the same.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"
#include "passes/Passes.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

#define DEBUG_TYPE "irmb-decompose"

namespace irmb {
#define GEN_PASS_DEF_IRMBDECOMPOSEPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

/// Builds primitive ops for the module at state_dict prefix `prefix`.
class PrimitiveBuilder {
public:
  PrimitiveBuilder(OpBuilder &b, Location loc, std::string prefix)
      : b(b), loc(loc), prefix(std::move(prefix)) {}

  PrimitiveBuilder operator/(const std::string &name) const {
    return PrimitiveBuilder(b, loc, prefix + "." + name);
  }
  PrimitiveBuilder operator/(int64_t i) const {
    return *this / std::to_string(i);
  }
  const std::string &key() const { return prefix; }

  RankedTensorType type(ArrayRef<int64_t> shape, Value like) const {
    return RankedTensorType::get(
        shape, cast<RankedTensorType>(like.getType()).getElementType());
  }

  /// An nn.Conv2d named by this scope (`weight`, optional `bias`), then the
  /// optional BatchNorm (by prefix) and activation as their own ops: the
  /// fusion passes decide what merges.
  Value conv(Value x, int64_t cout, int64_t k, int64_t stride, int64_t pad,
             int64_t groups, int64_t dilation, Activation act, bool bias,
             std::optional<std::string> norm = std::nullopt) const {
    ArrayRef<int64_t> in = shapeOf(x);
    Shape out{in[0], cout, convOutputExtent(in[2], k, stride, pad, dilation),
              convOutputExtent(in[3], k, stride, pad, dilation)};
    Value y = Conv2dOp::create(
        b, loc, type(out, x), x, Value(), b.getStringAttr(prefix + ".weight"),
        bias ? b.getStringAttr(prefix + ".bias") : StringAttr(), StringAttr(),
        StringAttr(), k, stride, pad, dilation, groups, Activation::none);
    if (norm)
      y = BatchNormOp::create(b, loc, y, b.getStringAttr(*norm));
    if (act != Activation::none)
      y = ActivationOp::create(b, loc, y, act);
    return y;
  }
  /// Ultralytics Conv: `conv` + `bn` + act, autopad.
  Value convBn(Value x, int64_t cout, int64_t k, int64_t stride = 1,
               int64_t groups = 1, Activation act = Activation::silu) const {
    return (*this / "conv")
        .conv(x, cout, k, stride, autopad(k, 1), groups, 1, act, false,
              prefix + ".bn");
  }
  Value batchNorm(Value x) const {
    return BatchNormOp::create(b, loc, x, b.getStringAttr(prefix));
  }
  Value add(Value lhs, Value rhs) const {
    return AddOp::create(b, loc, lhs, rhs);
  }
  Value activation(Value x, Activation act) const {
    return ActivationOp::create(b, loc, x, act);
  }
  Value slice(Value x, int64_t start, int64_t size, int64_t groups = 1,
              int64_t period = 0) const {
    return SliceOp::create(b, loc, x, start, size, groups, period);
  }
  Value cat(ValueRange xs) const {
    return CatOp::create(b, loc, xs, /*in_place=*/DenseBoolArrayAttr());
  }

  Value pad(Value x, int64_t height, int64_t width) const {
    ArrayRef<int64_t> in = shapeOf(x);
    return PadOp::create(b, loc, type({in[0], in[1], height, width}, x), x);
  }
  Value crop(Value x, int64_t height, int64_t width) const {
    ArrayRef<int64_t> in = shapeOf(x);
    return CropOp::create(b, loc, type({in[0], in[1], height, width}, x), x);
  }
  Value attention(Value q, Value k, Value v, int64_t heads, int64_t window,
                  double scale) const {
    return AttentionOp::create(b, loc, q, k, v, heads, window,
                               llvm::APFloat(scale));
  }
  Value ema(Value x, int64_t groups) const {
    return EMAOp::create(b, loc, x, b.getStringAttr(prefix), groups,
                         /*norm=*/StringAttr(), /*streaming=*/false);
  }
  Value squeezeExcite(Value x, Activation act) const {
    return SqueezeExciteOp::create(b, loc, x, b.getStringAttr(prefix), act);
  }
  Value maxPool(Value x, int64_t k) const {
    return MaxPoolOp::create(b, loc, x, k, 1, k / 2);
  }
  Value resize(Value x, int64_t scale) const {
    return ResizeNearestOp::create(b, loc, x, scale);
  }
  Value detectDecode(ValueRange levels, int64_t nc, int64_t regMax,
                     ArrayRef<int64_t> strides) const {
    return DetectDecodeOp::create(b, loc, levels,
                                  b.getStringAttr(prefix + ".conv.weight"), nc,
                                  regMax, strides);
  }

private:
  OpBuilder &b;
  Location loc;
  std::string prefix;
};

Value decomposeMMB(const PrimitiveBuilder &e, MMBConfigAttr cfg, Value x,
                   int64_t dimOut);

/// Bottleneck(c1, c2, shortcut, g, k=(3, 3), e) [+ an MMB after cv2].
Value bottleneck(const PrimitiveBuilder &e, Value x, int64_t c2, int64_t hidden,
                 bool shortcut, int64_t g, MMBConfigAttr block = {}) {
  Value y = (e / "cv1").convBn(x, hidden, 3);
  y = (e / "cv2").convBn(y, c2, 3, 1, g);
  if (block)
    y = decomposeMMB(e / "iRMB", block, y, c2);
  return shortcut && channelsOf(x) == c2 ? e.add(x, y) : y;
}

/// The C2f data flow: cv1, split, n inner blocks, concatenation, cv2.
template <typename InnerFn>
Value c2fSkeleton(const PrimitiveBuilder &e, Value x, int64_t c, int64_t n,
                  int64_t cout, InnerFn inner) {
  Value t = (e / "cv1").convBn(x, 2 * c, 1);
  SmallVector<Value> ys{e.slice(t, 0, c), e.slice(t, c, c)};
  for (int64_t j = 0; j < n; ++j)
    ys.push_back(inner(e / "m" / j, ys.back()));
  return (e / "cv2").convBn(e.cat(ys), cout, 1);
}

/// Ultralytics Attention(dim, heads, attn_ratio = 0.5).
Value attention(const PrimitiveBuilder &e, Value x, int64_t heads) {
  int64_t dim = channelsOf(x), headDim = dim / heads, keyDim = headDim / 2;
  int64_t period = 2 * keyDim + headDim;
  Value qkv = (e / "qkv").convBn(x, heads * period, 1, 1, 1, Activation::none);
  Value q = e.slice(qkv, 0, keyDim, heads, period);
  Value k = e.slice(qkv, keyDim, keyDim, heads, period);
  Value v = e.slice(qkv, 2 * keyDim, headDim, heads, period);
  Value o = e.attention(q, k, v, heads, 0,
                        std::pow(static_cast<double>(keyDim), -0.5));
  Value pe = (e / "pe").convBn(v, dim, 3, 1, dim, Activation::none);
  return (e / "proj").convBn(e.add(o, pe), dim, 1, 1, 1, Activation::none);
}

/// PSABlock: attention and FFN, each with a residual.
Value attentionBlock(const PrimitiveBuilder &e, Value x, int64_t heads) {
  x = e.add(x, attention(e / "attn", x, heads));
  int64_t c = channelsOf(x);
  Value f = (e / "ffn" / 0).convBn(x, 2 * c, 1);
  f = (e / "ffn" / 1).convBn(f, c, 1, 1, 1, Activation::none);
  return e.add(x, f);
}

/// PSA (one block) or C2PSA (n blocks under m.<j>).
Value partialAttention(const PrimitiveBuilder &e, Value x, int64_t hidden,
                       int64_t n, int64_t heads, bool nested) {
  Value t = (e / "cv1").convBn(x, 2 * hidden, 1);
  Value a = e.slice(t, 0, hidden), y = e.slice(t, hidden, hidden);
  for (int64_t j = 0; j < n; ++j)
    y = attentionBlock(nested ? e / "m" / j : e, y, heads);
  return (e / "cv2").convBn(e.cat({a, y}), channelsOf(x), 1);
}

/// iRMB window attention: explicit zero padding after the norm, q/k and v
/// projections on the padded map, strided-grid attention, crop.
Value windowAttention(const PrimitiveBuilder &e, MMBConfigAttr cfg, Value z,
                      int64_t dimMid) {
  int64_t h = shapeOf(z)[2], w = shapeOf(z)[3], c = channelsOf(z);
  int64_t win = cfg.getWindow();
  int64_t wh = win > 0 ? win : h, ww = win > 0 ? win : w;
  int64_t hp = (h + wh - 1) / wh * wh, wp = (w + ww - 1) / ww * ww;
  Value x = (hp != h || wp != w) ? e.pad(z, hp, wp) : z;
  int64_t heads = c / cfg.getDimHead();
  double scale = std::pow(static_cast<double>(cfg.getDimHead()), -0.5);
  Value qk =
      (e / "qk" / "conv")
          .conv(x, 2 * c, 1, 1, 0, 1, 1, Activation::none, cfg.getQkvBias());
  Value q = e.slice(qk, 0, c), k = e.slice(qk, c, c);
  int64_t vGroups = cfg.getVGroup() ? heads : 1;
  auto project = [&](Value t) {
    return (e / "v" / "conv")
        .conv(t, dimMid, 1, 1, 0, vGroups, 1, cfg.getAct(), cfg.getQkvBias());
  };
  int64_t window = win > 0 ? win : 0; // 0: the whole map, one window
  Value y = cfg.getAttnPre()
                ? project(e.attention(q, k, x, heads, window, scale))
                : e.attention(q, k, project(x), heads, window, scale);
  return (hp != h || wp != w) ? e.crop(y, h, w) : y;
}

/// The Meta Mobile Block (EMO iRMB / iEMA).
Value decomposeMMB(const PrimitiveBuilder &e, MMBConfigAttr cfg, Value x,
                   int64_t dimOut) {
  int64_t dimIn = channelsOf(x), dimMid = cfg.getMidChannels(dimIn);
  bool skip = cfg.getHasSkip() && dimIn == dimOut && cfg.getStride() == 1;
  Value z = cfg.getNormIn() ? (e / "norm").batchNorm(x) : x;
  switch (cfg.getOp()) {
  case OperatorF::window_attention:
    z = windowAttention(e, cfg, z, dimMid);
    break;
  case OperatorF::ema:
    z = (e / "ema").ema(z, cfg.getGroups());
    break;
  case OperatorF::dwconv:
  case OperatorF::none:
    if (cfg.getVProj())
      z = (e / "v" / "conv")
              .conv(z, dimMid, 1, 1, 0, 1, 1, cfg.getAct(), cfg.getQkvBias());
    break;
  }
  if (cfg.getOp() != OperatorF::none) {
    PrimitiveBuilder local = e / "conv_local";
    Value d = (local / "conv")
                  .conv(z, dimMid, cfg.getDwKs(), cfg.getStride(),
                        mmbPadding(cfg.getDwKs(), cfg.getStride()), dimMid,
                        cfg.getDilation(), Activation::silu, false,
                        local.key() + ".norm");
    if (cfg.getSqueezeRatio() > 0.0)
      d = (e / "se").squeezeExcite(d, cfg.getAct());
    z = skip ? e.add(z, d) : d;
  } else if (cfg.getSqueezeRatio() > 0.0) {
    z = (e / "se").squeezeExcite(z, cfg.getAct());
  }
  Value y = (e / "proj" / "conv")
                .conv(z, dimOut, 1, 1, 0, 1, 1, Activation::none, false);
  return skip ? e.add(x, y) : y;
}

/// The per-level head maps [B, 4·reg_max + nc, H, W] of a Detect head.
SmallVector<Value> detectLevels(const PrimitiveBuilder &e,
                                const std::string &cv2, const std::string &cv3,
                                ValueRange xs, int64_t nc, int64_t regMax,
                                bool depthwise) {
  int64_t ch0 = channelsOf(xs.front());
  int64_t c2 = std::max({int64_t(16), ch0 / 4, regMax * 4});
  int64_t c3 = std::max(ch0, std::min(nc, int64_t(100)));
  SmallVector<Value> levels;
  for (auto [i, x] : llvm::enumerate(xs)) {
    PrimitiveBuilder box = e / cv2 / static_cast<int64_t>(i);
    Value bx = (box / 1).convBn((box / 0).convBn(x, c2, 3), c2, 3);
    bx =
        (box / "2").conv(bx, 4 * regMax, 1, 1, 0, 1, 1, Activation::none, true);
    PrimitiveBuilder cls = e / cv3 / static_cast<int64_t>(i);
    Value cx;
    if (depthwise) {
      int64_t cin = channelsOf(x);
      cx = (cls / 0 / 0).convBn(x, cin, 3, 1, cin);
      cx = (cls / 0 / 1).convBn(cx, c3, 1);
      cx = (cls / 1 / 0).convBn(cx, c3, 3, 1, c3);
      cx = (cls / 1 / 1).convBn(cx, c3, 1);
    } else {
      cx = (cls / 1).convBn((cls / 0).convBn(x, c3, 3), c3, 3);
    }
    cx = (cls / "2").conv(cx, nc, 1, 1, 0, 1, 1, Activation::none, true);
    levels.push_back(e.cat({bx, cx}));
  }
  return levels;
}

/// Builds the primitive ops of one model-level op; returns its value.
Value decompose(OpBuilder &b, Operation *op) {
  std::string key = cast<LayerOpInterface>(op).getKey().str();
  // Primitives keep the YAML position and gain the layer's key as a name,
  // which code generation uses to name kernels.
  PrimitiveBuilder e(b, NameLoc::get(b.getStringAttr(key), op->getLoc()), key);
  int64_t cout = op->getNumResults() ? shapeOf(op->getResult(0))[1] : 0;
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](ConvOp c) {
        return (e / "conv")
            .conv(c.getInput(), cout, c.getKernel(), c.getStride(),
                  c.getPadding(), c.getGroups(), c.getDilation(), c.getAct(),
                  false, e.key() + ".bn");
      })
      .Case([&](ConcatOp c) { return e.cat(c.getInputs()); })
      .Case([&](UpsampleOp u) { return e.resize(u.getInput(), u.getScale()); })
      .Case([&](C2fOp c) {
        MMBConfigAttr block = c.getBlock() ? *c.getBlock() : MMBConfigAttr();
        int64_t hidden = c.getHidden();
        return c2fSkeleton(e, c.getInput(), hidden, c.getN(), cout,
                           [&](const PrimitiveBuilder &m, Value y) {
                             return bottleneck(m, y, hidden, hidden,
                                               c.getShortcut(), c.getGroups(),
                                               block);
                           });
      })
      .Case([&](C3k2Op c) {
        int64_t hidden = c.getHidden(), half = hidden / 2;
        return c2fSkeleton(
            e, c.getInput(), hidden, c.getN(), cout,
            [&](const PrimitiveBuilder &m, Value y) -> Value {
              if (!c.getC3k())
                return bottleneck(m, y, hidden, half, c.getShortcut(),
                                  c.getGroups());
              Value a = (m / "cv1").convBn(y, half, 1);
              for (int64_t j = 0; j < 2; ++j)
                a = bottleneck(m / "m" / j, a, half, half, c.getShortcut(),
                               c.getGroups());
              Value bb = (m / "cv2").convBn(y, half, 1);
              return (m / "cv3").convBn(m.cat({a, bb}), hidden, 1);
            });
      })
      .Case([&](C2fCIBOp c) {
        int64_t hidden = c.getHidden();
        return c2fSkeleton(
            e, c.getInput(), hidden, c.getN(), cout,
            [&](const PrimitiveBuilder &m, Value x) -> Value {
              PrimitiveBuilder seq = m / "cv1";
              Value y = (seq / 0).convBn(x, hidden, 3, 1, hidden);
              y = (seq / 1).convBn(y, 2 * hidden, 1);
              PrimitiveBuilder mid = seq / 2;
              if (c.getLk()) {
                Value a = (mid / "conv")
                              .convBn(y, 2 * hidden, 7, 1, 2 * hidden,
                                      Activation::none);
                Value bb = (mid / "conv1")
                               .convBn(y, 2 * hidden, 3, 1, 2 * hidden,
                                       Activation::none);
                y = mid.activation(mid.add(a, bb), Activation::silu);
              } else {
                y = mid.convBn(y, 2 * hidden, 3, 1, 2 * hidden);
              }
              y = (seq / 3).convBn(y, hidden, 1);
              y = (seq / 4).convBn(y, hidden, 3, 1, hidden);
              return c.getShortcut() ? m.add(x, y) : y;
            });
      })
      .Case([&](SCDownOp s) {
        Value y = (e / "cv1").convBn(s.getInput(), cout, 1);
        return (e / "cv2").convBn(y, cout, s.getKernel(), s.getStride(), cout,
                                  Activation::none);
      })
      .Case([&](SPPFOp s) {
        int64_t hidden = channelsOf(s.getInput()) / 2;
        SmallVector<Value> ys{(e / "cv1").convBn(s.getInput(), hidden, 1)};
        for (int i = 0; i < 3; ++i)
          ys.push_back(e.maxPool(ys.back(), s.getKernel()));
        return (e / "cv2").convBn(e.cat(ys), cout, 1);
      })
      .Case([&](PSAOp p) {
        return partialAttention(e, p.getInput(), p.getHidden(), 1,
                                p.getNumHeads(), false);
      })
      .Case([&](C2PSAOp p) {
        return partialAttention(e, p.getInput(), p.getHidden(), p.getN(),
                                p.getNumHeads(), true);
      })
      .Case([&](MMBOp m) {
        return decomposeMMB(e, m.getConfig(), m.getInput(), cout);
      })
      .Case([&](DetectOp d) {
        SmallVector<Value> levels =
            detectLevels(e, "cv2", "cv3", d.getInputs(), d.getNc(),
                         d.getRegMax(), d.getClsHead() == ClsHead::depthwise);
        return (e / "dfl").detectDecode(levels, d.getNc(),
                                        d.getRegMax(), d.getStrides());
      })
      .Case([&](V10DetectOp d) {
        SmallVector<Value> levels =
            detectLevels(e, "one2one_cv2", "one2one_cv3", d.getInputs(),
                         d.getNc(), d.getRegMax(), true);
        return (e / "dfl").detectDecode(levels, d.getNc(),
                                        d.getRegMax(), d.getStrides());
      })
      .Default([](Operation *) { return Value(); });
}

/// Rewrites one model-level op into its primitive ops.
struct DecomposeLayer final
    : OpInterfaceConversionPattern<LayerOpInterface> {
  using OpInterfaceConversionPattern::OpInterfaceConversionPattern;

  LogicalResult
  matchAndRewrite(LayerOpInterface layer, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    Operation *op = layer;
    // The decompositions read their inputs through the op's accessors:
    // point them at the converted producers (the adaptor's values).
    rewriter.modifyOpInPlace(op, [&] { op->setOperands(operands); });
    Value replacement = decompose(rewriter, op);
    if (!replacement)
      return rewriter.notifyMatchFailure(op, "has no decomposition");
    rewriter.replaceOp(op, replacement);
    return success();
  }
};

/// The pass: converts every model-level op of the module.
struct IRMBDecomposePass final
    : irmb::impl::IRMBDecomposePassBase<IRMBDecomposePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    int64_t layers = 0, before = 0;
    getOperation().walk([&](Operation *op) {
      ++before;
      layers += isa<LayerOpInterface>(op);
    });
    ConversionTarget target(*ctx);
    target.addLegalDialect<func::FuncDialect>();
    target.addLegalOp<ModuleOp>();
    target.addDynamicallyLegalDialect<IRMBDialect>([](Operation *op) {
      return op->hasTrait<PrimitiveOpTrait>();
    });
    RewritePatternSet patterns(ctx);
    patterns.add<DecomposeLayer>(ctx);
    if (failed(applyFullConversion(getOperation(), target,
                                   std::move(patterns))))
      return signalPassFailure();
    int64_t after = 0;
    getOperation().walk([&](Operation *) { ++after; });
    numModelOps += layers;
    numPrimitiveOps += after - (before - layers);
  }
};

} // namespace
