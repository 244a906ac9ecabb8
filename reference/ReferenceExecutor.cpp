//===- ReferenceExecutor.cpp - LibTorch oracle for irmb IR ----------------===//
//
// One function per Ultralytics module, written after the PyTorch forward
// passes summarised in ../shared/reference/ultralytics-semantics.md §3, with
// the same ATen calls in the same order so results agree to rounding. A
// `Layer` object reads weights under the op's state_dict key, always in the
// unfused structure (the loader expands fused checkpoints exactly).
//
//===----------------------------------------------------------------------===//
#include "reference/ReferenceExecutor.h"

#include "irmb/irmb.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include <stdexcept>

using namespace mlir;
using namespace mlir::irmb;
using at::Tensor;
using ::irmb::weights::kBatchNormEps;

namespace irmb::reference {
namespace {

/// GroupNorm eps inside EMA (untouched by Ultralytics).
constexpr double kGroupNormEps = 1e-5;

Tensor activate(const Tensor &x, Activation act) {
  switch (act) {
  case Activation::none:
    return x;
  case Activation::relu:
    return at::relu(x);
  case Activation::relu6:
    return at::hardtanh(x, 0.0, 6.0);
  case Activation::silu:
    return at::silu(x);
  }
  return x;
}

/// Weight access below one state_dict prefix.
class Layer {
public:
  Layer(const std::map<std::string, Tensor> &weights, std::string prefix)
      : weights(weights), prefix(std::move(prefix)) {}

  Layer operator/(const std::string &name) const {
    return Layer(weights, prefix + "." + name);
  }
  Layer operator/(int64_t i) const { return *this / std::to_string(i); }

  bool has(const std::string &name) const {
    return weights.count(prefix + "." + name) != 0;
  }
  const Tensor &w(const std::string &name) const {
    auto it = weights.find(prefix + "." + name);
    if (it == weights.end())
      throw std::runtime_error("missing weight '" + prefix + "." + name + "'");
    return it->second;
  }
  /// Optional tensor: the weight if present, else undefined.
  Tensor optional(const std::string &name) const {
    return has(name) ? w(name) : Tensor();
  }

  /// nn.BatchNorm2d in eval mode.
  Tensor batchNorm(const Tensor &x) const {
    return at::batch_norm(x, w("weight"), w("bias"), w("running_mean"),
                          w("running_var"), /*training=*/false, 0.03,
                          kBatchNormEps, /*cudnn_enabled=*/false);
  }
  /// nn.Conv2d named by this layer (`weight`, optional `bias`).
  Tensor conv2d(const Tensor &x, int64_t stride, int64_t pad,
                int64_t groups = 1, int64_t dilation = 1) const {
    return at::conv2d(x, w("weight"), optional("bias"), {stride, stride},
                      {pad, pad}, {dilation, dilation}, groups);
  }
  /// Ultralytics Conv (autopad): conv + BN (or fused conv with bias) + act.
  Tensor conv(const Tensor &x, int64_t k, int64_t stride = 1,
              int64_t groups = 1, Activation act = Activation::silu,
              int64_t dilation = 1) const {
    return convPadded(x, stride, autopad(k, dilation), groups, act, dilation);
  }
  /// Ultralytics Conv with an explicit padding.
  Tensor convPadded(const Tensor &x, int64_t stride, int64_t pad,
                    int64_t groups, Activation act,
                    int64_t dilation = 1) const {
    Tensor y = (*this / "conv").conv2d(x, stride, pad, groups, dilation);
    if (has("conv.bias")) // BatchNorm folded at construction
      return activate(y, act);
    return activate((*this / "bn").batchNorm(y), act);
  }

private:
  const std::map<std::string, Tensor> &weights;
  std::string prefix;
};

int64_t channelsOf(const Tensor &x) { return x.size(1); }

//===----------------------------------------------------------------------===//
// CSP building blocks
//===----------------------------------------------------------------------===//

Tensor mmbForward(const Layer &l, MMBConfigAttr cfg, const Tensor &x,
                  int64_t dimOut);

/// Bottleneck(c1, c2, shortcut, g, k=(k, k), e) [+ an MMB after cv2].
Tensor bottleneck(const Layer &l, const Tensor &x, int64_t c2, bool shortcut,
                  int64_t g, MMBConfigAttr block = {}) {
  Tensor y = (l / "cv2").conv((l / "cv1").conv(x, 3), 3, 1, g);
  if (block)
    y = mmbForward(l / "iRMB", block, y, c2);
  return shortcut && channelsOf(x) == c2 ? x + y : y;
}

/// The C2f data flow with inner blocks `inner(m.j, y)`.
template <typename InnerFn>
Tensor c2fSkeleton(const Layer &l, const Tensor &x, int64_t n, InnerFn inner) {
  std::vector<Tensor> ys = (l / "cv1").conv(x, 1).chunk(2, 1);
  for (int64_t j = 0; j < n; ++j)
    ys.push_back(inner(l / "m" / j, ys.back()));
  return (l / "cv2").conv(at::cat(ys, 1), 1);
}

/// Ultralytics Attention(dim, num_heads, attn_ratio = 0.5).
Tensor attention(const Layer &l, const Tensor &x, int64_t heads) {
  int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  int64_t n = h * w, headDim = c / heads, keyDim = headDim / 2;
  double scale = std::pow(static_cast<double>(keyDim), -0.5);
  Tensor qkv = (l / "qkv").conv(x, 1, 1, 1, Activation::none);
  std::vector<Tensor> parts =
      qkv.view({b, heads, 2 * keyDim + headDim, n})
          .split_with_sizes({keyDim, keyDim, headDim}, 2);
  Tensor attn = at::matmul(parts[0].transpose(-2, -1), parts[1]) * scale;
  attn = attn.softmax(-1);
  Tensor y = at::matmul(parts[2], attn.transpose(-2, -1)).view({b, c, h, w});
  y = y + (l / "pe").conv(parts[2].reshape({b, c, h, w}), 3, 1, c,
                          Activation::none);
  return (l / "proj").conv(y, 1, 1, 1, Activation::none);
}

/// PSABlock: attention and FFN, each with a residual.
Tensor attentionBlock(const Layer &l, Tensor x, int64_t heads) {
  x = x + attention(l / "attn", x, heads);
  Tensor f = (l / "ffn" / 0).conv(x, 1);
  return x + (l / "ffn" / 1).conv(f, 1, 1, 1, Activation::none);
}

//===----------------------------------------------------------------------===//
// The Meta Mobile Block
//===----------------------------------------------------------------------===//

/// iRMB window attention (EMO), steps 2-6 of ultralytics-semantics §3.13.
Tensor windowAttention(const Layer &l, MMBConfigAttr cfg, const Tensor &z,
                       int64_t dimMid) {
  int64_t b = z.size(0), c = z.size(1), h = z.size(2), w = z.size(3);
  int64_t win = cfg.getWindow();
  int64_t wh = win > 0 ? win : h, ww = win > 0 ? win : w;
  int64_t padR = (ww - w % ww) % ww, padB = (wh - h % wh) % wh;
  Tensor x = at::constant_pad_nd(z, {0, padR, 0, padB}, 0.0);
  int64_t n1 = (h + padB) / wh, n2 = (w + padR) / ww;
  // 'b c (h1 n1) (w1 n2) -> (b n1 n2) c h1 w1'
  x = x.view({b, c, wh, n1, ww, n2})
          .permute({0, 3, 5, 1, 2, 4})
          .reshape({b * n1 * n2, c, wh, ww});
  int64_t bw = b * n1 * n2, tokens = wh * ww;
  int64_t heads = c / cfg.getDimHead();
  double scale = std::pow(static_cast<double>(cfg.getDimHead()), -0.5);
  Tensor qk = (l / "qk" / "conv").conv2d(x, 1, 0);
  // 'b (qk heads dim_head) h w -> qk b heads (h w) dim_head'
  qk = qk.view({bw, 2, heads, cfg.getDimHead(), tokens})
           .permute({1, 0, 2, 4, 3});
  Tensor attn = at::matmul(qk[0], qk[1].transpose(-2, -1)) * scale;
  attn = attn.softmax(-1);
  int64_t vGroups = cfg.getVGroup() ? heads : 1;
  auto project = [&](const Tensor &t) {
    return activate((l / "v" / "conv").conv2d(t, 1, 0, vGroups), cfg.getAct());
  };
  // 'b (heads dim_head) h w -> b heads (h w) dim_head' and back.
  auto toHeads = [&](const Tensor &t) {
    return t.view({bw, heads, t.size(1) / heads, tokens}).permute({0, 1, 3, 2});
  };
  auto fromHeads = [&](const Tensor &t) {
    return t.permute({0, 1, 3, 2}).reshape({bw, -1, wh, ww});
  };
  Tensor y = cfg.getAttnPre()
                 ? project(fromHeads(at::matmul(attn, toHeads(x))))
                 : fromHeads(at::matmul(attn, toHeads(project(x))));
  // '(b n1 n2) c h1 w1 -> b c (h1 n1) (w1 n2)', then crop the padding.
  y = y.view({b, n1, n2, dimMid, wh, ww})
          .permute({0, 3, 4, 1, 5, 2})
          .reshape({b, dimMid, wh * n1, ww * n2});
  if (padR > 0 || padB > 0)
    y = y.slice(2, 0, h).slice(3, 0, w).contiguous();
  return y;
}

/// EMA (Ouyang et al.) with `groups` groups sharing one set of weights.
Tensor ema(const Layer &l, const Tensor &x, int64_t groups) {
  int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  int64_t bg = b * groups, cg = c / groups;
  Tensor gx = x.reshape({bg, cg, h, w});
  Tensor xh = at::adaptive_avg_pool2d(gx, {h, 1});
  Tensor xw = at::adaptive_avg_pool2d(gx, {1, w}).permute({0, 1, 3, 2});
  Tensor hw = (l / "conv1x1").conv2d(at::cat({xh, xw}, 2), 1, 0);
  std::vector<Tensor> parts = hw.split_with_sizes({h, w}, 2);
  Tensor x1 = at::group_norm(gx * parts[0].sigmoid() *
                                 parts[1].permute({0, 1, 3, 2}).sigmoid(),
                             cg, (l / "gn").w("weight"), (l / "gn").w("bias"),
                             kGroupNormEps, /*cudnn_enabled=*/false);
  Tensor x2 = (l / "conv3x3").conv2d(gx, 1, 1);
  auto pooledSoftmax = [&](const Tensor &t) {
    return at::adaptive_avg_pool2d(t, {1, 1})
        .reshape({bg, -1, 1})
        .permute({0, 2, 1})
        .softmax(-1);
  };
  Tensor weights = at::matmul(pooledSoftmax(x1), x2.reshape({bg, cg, -1})) +
                   at::matmul(pooledSoftmax(x2), x1.reshape({bg, cg, -1}));
  weights = weights.reshape({bg, 1, h, w});
  return (gx * weights.sigmoid()).reshape({b, c, h, w});
}

/// timm SqueezeExcite with the block's activation and a sigmoid gate.
Tensor squeezeExcite(const Layer &l, const Tensor &x, Activation act) {
  Tensor s = x.mean({2, 3}, /*keepdim=*/true);
  s = activate((l / "conv_reduce").conv2d(s, 1, 0), act);
  s = (l / "conv_expand").conv2d(s, 1, 0);
  return x * s.sigmoid();
}

/// The whole Meta Mobile Block (EMO iRMB / iEMA forward).
Tensor mmbForward(const Layer &l, MMBConfigAttr cfg, const Tensor &x,
                  int64_t dimOut) {
  int64_t dimIn = channelsOf(x), dimMid = cfg.getMidChannels(dimIn);
  bool skip = cfg.getHasSkip() && dimIn == dimOut && cfg.getStride() == 1;
  Tensor z = cfg.getNormIn() ? (l / "norm").batchNorm(x) : x;
  auto valueProjection = [&](const Tensor &t) {
    if (!cfg.getVProj())
      return t;
    return activate((l / "v" / "conv").conv2d(t, 1, 0), cfg.getAct());
  };
  switch (cfg.getOp()) {
  case OperatorF::window_attention:
    z = windowAttention(l, cfg, z, dimMid);
    break;
  case OperatorF::ema:
    z = ema(l / "ema", z, cfg.getGroups());
    break;
  case OperatorF::dwconv:
  case OperatorF::none:
    z = valueProjection(z);
    break;
  }
  if (cfg.getOp() != OperatorF::none) {
    Layer local = l / "conv_local";
    Tensor d = (local / "conv")
                   .conv2d(z, cfg.getStride(),
                           mmbPadding(cfg.getDwKs(), cfg.getStride()), dimMid,
                           cfg.getDilation());
    d = at::silu((local / "norm").batchNorm(d));
    if (cfg.getSqueezeRatio() > 0.0)
      d = squeezeExcite(l / "se", d, cfg.getAct());
    z = skip ? z + d : d;
  } else if (cfg.getSqueezeRatio() > 0.0) {
    z = squeezeExcite(l / "se", z, cfg.getAct());
  }
  Tensor y = (l / "proj" / "conv").conv2d(z, 1, 0);
  return skip ? x + y : y;
}

//===----------------------------------------------------------------------===//
// Primitive attention
//===----------------------------------------------------------------------===//

/// irmb.attention: per head and (strided-grid) window softmax(q kᵀ s) v.
Tensor windowedAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                         int64_t heads, int64_t window, double scale) {
  int64_t h = q.size(2), w = q.size(3);
  if (window > 0 && (h % window || w % window)) {
    // Implicit zero padding to whole windows, cropped afterwards.
    int64_t padB = (window - h % window) % window,
            padR = (window - w % window) % window;
    auto pad = [&](const Tensor &t) {
      return at::constant_pad_nd(t, {0, padR, 0, padB}, 0.0);
    };
    return windowedAttention(pad(q), pad(k), pad(v), heads, window, scale)
        .slice(2, 0, h)
        .slice(3, 0, w)
        .contiguous();
  }
  int64_t b = q.size(0);
  int64_t wh = window > 0 ? window : h, ww = window > 0 ? window : w;
  int64_t n1 = h / wh, n2 = w / ww, bw = b * n1 * n2, tokens = wh * ww;
  // 'b c (h1 n1) (w1 n2) -> (b n1 n2) heads (h1 w1) d'
  auto split = [&](const Tensor &t) {
    int64_t c = t.size(1);
    return t.view({b, c, wh, n1, ww, n2})
        .permute({0, 3, 5, 1, 2, 4})
        .reshape({bw, heads, c / heads, tokens})
        .permute({0, 1, 3, 2});
  };
  Tensor attn = at::matmul(split(q), split(k).transpose(-2, -1)) * scale;
  Tensor o = at::matmul(attn.softmax(-1), split(v)); // [bw, heads, T, dv]
  int64_t cv = v.size(1);
  return o.permute({0, 1, 3, 2})
      .reshape({b, n1, n2, cv, wh, ww})
      .permute({0, 3, 4, 1, 5, 2})
      .reshape({b, cv, h, w});
}

//===----------------------------------------------------------------------===//
// Detection heads
//===----------------------------------------------------------------------===//

/// Per-level box and class branches under `cv2Name` / `cv3Name`.
Tensor detectBranches(const Layer &l, const std::string &cv2Name,
                      const std::string &cv3Name, ArrayRef<Tensor> xs,
                      bool depthwise) {
  std::vector<Tensor> levels;
  int64_t b = xs.front().size(0);
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor &x = xs[i];
    Layer box = l / cv2Name / static_cast<int64_t>(i);
    Tensor bx = (box / 1).conv((box / 0).conv(x, 3), 3);
    bx = (box / "2").conv2d(bx, 1, 0);
    Layer cls = l / cv3Name / static_cast<int64_t>(i);
    Tensor cx;
    if (depthwise) {
      cx = (cls / 0 / 0).conv(x, 3, 1, channelsOf(x));
      cx = (cls / 0 / 1).conv(cx, 1);
      cx = (cls / 1 / 0).conv(cx, 3, 1, channelsOf(cx));
      cx = (cls / 1 / 1).conv(cx, 1);
    } else {
      cx = (cls / 1).conv((cls / 0).conv(x, 3), 3);
    }
    cx = (cls / "2").conv2d(cx, 1, 0);
    levels.push_back(
        at::cat({bx, cx}, 1).view({b, bx.size(1) + cx.size(1), -1}));
  }
  return at::cat(levels, 2);
}

/// DFL decoding, anchors and sigmoid scores: [B, 4 + nc, A].
Tensor decode(const Tensor &dflWeight, const Tensor &preds, ArrayRef<Tensor> xs,
              ArrayRef<int64_t> strides, int64_t regMax) {
  int64_t b = preds.size(0), a = preds.size(2);
  std::vector<Tensor> parts =
      preds.split_with_sizes({4 * regMax, preds.size(1) - 4 * regMax}, 1);
  // DFL: softmax over the bins, expectation through the 1×1 conv.
  Tensor probs = parts[0].view({b, 4, regMax, a}).transpose(2, 1).softmax(1);
  Tensor dist = at::conv2d(probs, dflWeight).view({b, 4, a});
  // make_anchors(feats, strides, 0.5).
  std::vector<Tensor> points, strideColumn;
  auto opts = at::TensorOptions().dtype(at::kFloat);
  for (size_t i = 0; i < xs.size(); ++i) {
    int64_t h = xs[i].size(2), w = xs[i].size(3);
    Tensor sx = at::arange(w, opts) + 0.5;
    Tensor sy = at::arange(h, opts) + 0.5;
    std::vector<Tensor> grid = at::meshgrid({sy, sx}, "ij");
    points.push_back(at::stack({grid[1], grid[0]}, -1).view({-1, 2}));
    strideColumn.push_back(
        at::full({h * w, 1}, static_cast<double>(strides[i]), opts));
  }
  Tensor anchors = at::cat(points).transpose(0, 1).unsqueeze(0);
  Tensor stride = at::cat(strideColumn).transpose(0, 1);
  // dist2bbox(xywh=True) times the stride.
  std::vector<Tensor> ltrb = dist.chunk(2, 1);
  Tensor x1y1 = anchors - ltrb[0], x2y2 = anchors + ltrb[1];
  Tensor box = at::cat({(x1y1 + x2y2) / 2, x2y2 - x1y1}, 1) * stride;
  return at::cat({box, parts[1].sigmoid()}, 1);
}

/// Runs one op.
class OpRunner {
public:
  OpRunner(const std::map<std::string, Tensor> &weights,
           const std::function<Tensor(Value)> &valueOf)
      : weights(weights), valueOf(valueOf) {}

  Tensor run(Operation *op) {
    auto layer = dyn_cast<LayerOpInterface>(op);
    Layer l(weights, layer ? layer.getKey().str() : std::string());
    int64_t outChannels =
        cast<RankedTensorType>(op->getResult(0).getType()).getDimSize(1);
    return llvm::TypeSwitch<Operation *, Tensor>(op)
        .Case([&](ConvOp c) {
          return l.convPadded(in(c.getInput()), c.getStride(), c.getPadding(),
                              c.getGroups(), c.getAct(), c.getDilation());
        })
        .Case([&](ConcatOp c) {
          std::vector<Tensor> xs;
          for (Value v : c.getInputs())
            xs.push_back(in(v));
          return at::cat(xs, c.getDim());
        })
        .Case([&](UpsampleOp u) {
          Tensor x = in(u.getInput());
          return at::upsample_nearest2d(
              x,
              {x.size(2) * static_cast<int64_t>(u.getScale()),
               x.size(3) * static_cast<int64_t>(u.getScale())},
              static_cast<double>(u.getScale()),
              static_cast<double>(u.getScale()));
        })
        .Case([&](C2fOp c) {
          std::optional<MMBConfigAttr> block = c.getBlock();
          return c2fSkeleton(l, in(c.getInput()), c.getN(),
                             [&](const Layer &m, const Tensor &y) {
                               return bottleneck(m, y, c.getHidden(),
                                                 c.getShortcut(), c.getGroups(),
                                                 block ? *block
                                                       : MMBConfigAttr());
                             });
        })
        .Case([&](C3k2Op c) {
          return c2fSkeleton(l, in(c.getInput()), c.getN(),
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
              l, in(c.getInput()), c.getN(),
              [&](const Layer &m, const Tensor &y) { return cib(m, y, c); });
        })
        .Case([&](SCDownOp s) {
          Tensor y = (l / "cv1").conv(in(s.getInput()), 1);
          return (l / "cv2").conv(y, s.getKernel(), s.getStride(), y.size(1),
                                  Activation::none);
        })
        .Case([&](SPPFOp s) {
          int64_t k = s.getKernel();
          std::vector<Tensor> ys{(l / "cv1").conv(in(s.getInput()), 1)};
          for (int i = 0; i < 3; ++i)
            ys.push_back(
                at::max_pool2d(ys.back(), {k, k}, {1, 1}, {k / 2, k / 2}));
          return (l / "cv2").conv(at::cat(ys, 1), 1);
        })
        .Case([&](PSAOp p) {
          return partialAttention(l, in(p.getInput()), p.getHidden(), 1,
                                  p.getNumHeads(), /*nested=*/false);
        })
        .Case([&](C2PSAOp p) {
          return partialAttention(l, in(p.getInput()), p.getHidden(), p.getN(),
                                  p.getNumHeads(), /*nested=*/true);
        })
        .Case([&](MMBOp m) {
          return mmbForward(l, m.getConfig(), in(m.getInput()), outChannels);
        })
        .Case([&](DetectOp d) {
          std::vector<Tensor> xs = inputs(d.getInputs());
          Tensor preds = detectBranches(l, "cv2", "cv3", xs,
                                        d.getClsHead() == ClsHead::depthwise);
          return decode((l / "dfl" / "conv").w("weight"), preds, xs,
                        d.getStrides(), d.getRegMax());
        })
        .Case([&](V10DetectOp d) {
          std::vector<Tensor> xs = inputs(d.getInputs());
          Tensor preds =
              detectBranches(l, "one2one_cv2", "one2one_cv3", xs, true);
          return decode((l / "dfl" / "conv").w("weight"), preds, xs,
                        d.getStrides(), d.getRegMax());
        })
        .Case([&](Conv2dOp c) {
          Tensor x = in(c.getInput());
          if (c.getInputNorm())
            x = Layer(weights, c.getInputNorm()->str()).batchNorm(x);
          Tensor y = at::conv2d(x, w(c.getWeight()),
                                c.getBias() ? w(*c.getBias()) : Tensor(),
                                {static_cast<int64_t>(c.getStride()),
                                 static_cast<int64_t>(c.getStride())},
                                {static_cast<int64_t>(c.getPadding()),
                                 static_cast<int64_t>(c.getPadding())},
                                {static_cast<int64_t>(c.getDilation()),
                                 static_cast<int64_t>(c.getDilation())},
                                static_cast<int64_t>(c.getGroups()));
          if (c.getNorm())
            y = Layer(weights, c.getNorm()->str()).batchNorm(y);
          y = activate(y, c.getAct());
          return c.getResidual() ? y + in(c.getResidual()) : y;
        })
        .Case([&](ProjectionOp p) {
          Tensor x = in(p.getInput());
          if (p.getInputNorm())
            x = Layer(weights, p.getInputNorm()->str()).batchNorm(x);
          std::vector<Tensor> parts;
          for (size_t i = 0; i < p.getWeights().size(); ++i) {
            StringRef bias = cast<StringAttr>(p.getBiases()[i]).getValue();
            Tensor y = at::conv2d(
                x, w(cast<StringAttr>(p.getWeights()[i]).getValue()),
                bias.empty() ? Tensor() : w(bias));
            parts.push_back(
                activate(y, cast<ActivationAttr>(p.getActs()[i]).getValue()));
          }
          return at::cat(parts, 1);
        })
        .Case([&](BatchNormOp n) {
          return Layer(weights, n.getNorm().str()).batchNorm(in(n.getInput()));
        })
        .Case([&](ActivationOp a) {
          return activate(in(a.getInput()), a.getAct());
        })
        .Case([&](AddOp a) { return in(a.getLhs()) + in(a.getRhs()); })
        .Case([&](SliceOp sl) {
          Tensor x = in(sl.getInput());
          if (sl.getGroups() == 1)
            return x.slice(1, sl.getStart(), sl.getStart() + sl.getSize());
          std::vector<int64_t> channels;
          for (int64_t g = 0; g < static_cast<int64_t>(sl.getGroups()); ++g)
            for (int64_t i = 0; i < static_cast<int64_t>(sl.getSize()); ++i)
              channels.push_back(g * sl.getPeriod() + sl.getStart() + i);
          return x.index_select(1, at::tensor(channels, at::kLong));
        })
        .Case([&](CatOp c) { return at::cat(inputs(c.getInputs()), 1); })
        .Case([&](PadOp p) {
          Tensor x = in(p.getInput());
          auto out = cast<RankedTensorType>(p.getType()).getShape();
          return at::constant_pad_nd(
              x, {0, out[3] - x.size(3), 0, out[2] - x.size(2)}, 0.0);
        })
        .Case([&](CropOp c) {
          auto out = cast<RankedTensorType>(c.getType()).getShape();
          return in(c.getInput())
              .slice(2, 0, out[2])
              .slice(3, 0, out[3])
              .contiguous();
        })
        .Case([&](MaxPoolOp m) {
          int64_t k = m.getKernel(), s = m.getStride(), p = m.getPadding();
          return at::max_pool2d(in(m.getInput()), {k, k}, {s, s}, {p, p});
        })
        .Case([&](ResizeNearestOp r) {
          Tensor x = in(r.getInput());
          double s = static_cast<double>(r.getScale());
          return at::upsample_nearest2d(
              x,
              {x.size(2) * static_cast<int64_t>(r.getScale()),
               x.size(3) * static_cast<int64_t>(r.getScale())},
              s, s);
        })
        .Case([&](AttentionOp a) {
          return windowedAttention(
              in(a.getQuery()), in(a.getKeyMap()), in(a.getValue()),
              a.getHeads(), a.getWindow(), a.getScale().convertToDouble());
        })
        .Case([&](EMAOp e) {
          Tensor x = in(e.getInput());
          if (e.getNorm())
            x = Layer(weights, e.getNorm()->str()).batchNorm(x);
          return ema(Layer(weights, e.getPrefix().str()), x, e.getGroups());
        })
        .Case([&](SqueezeExciteOp se) {
          return squeezeExcite(Layer(weights, se.getPrefix().str()),
                               in(se.getInput()), se.getAct());
        })
        .Case([&](DetectDecodeOp d) {
          std::vector<Tensor> xs = inputs(d.getInputs());
          std::vector<Tensor> flat;
          for (const Tensor &x : xs)
            flat.push_back(x.view({x.size(0), x.size(1), -1}));
          return decode(w(d.getDfl()), at::cat(flat, 2), xs, d.getStrides(),
                        d.getRegMax());
        })
        .Default([&](Operation *other) -> Tensor {
          throw std::runtime_error("the reference executor cannot run " +
                                   other->getName().getStringRef().str());
        });
  }

private:
  Tensor in(Value v) const { return valueOf(v); }
  /// A weight by its full key.
  const Tensor &w(StringRef key) const {
    auto it = weights.find(key.str());
    if (it == weights.end())
      throw std::runtime_error("missing weight '" + key.str() + "'");
    return it->second;
  }
  std::vector<Tensor> inputs(ValueRange vs) const {
    std::vector<Tensor> xs;
    for (Value v : vs)
      xs.push_back(in(v));
    return xs;
  }

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
  static Tensor partialAttention(const Layer &l, const Tensor &x,
                                 int64_t hidden, int64_t n, int64_t heads,
                                 bool nested) {
    std::vector<Tensor> ab =
        (l / "cv1").conv(x, 1).split_with_sizes({hidden, hidden}, 1);
    Tensor b = ab[1];
    for (int64_t j = 0; j < n; ++j)
      b = attentionBlock(nested ? l / "m" / j : l, b, heads);
    return (l / "cv2").conv(at::cat({ab[0], b}, 1), 1);
  }

  const std::map<std::string, Tensor> &weights;
  const std::function<Tensor(Value)> &valueOf;
};

/// YAML layer index of an op key (`model.4` / `model.4.1` -> 4).
int64_t layerIndexOf(llvm::StringRef key) {
  llvm::StringRef rest = key.drop_front(key.find('.') + 1);
  int64_t index = 0;
  rest.take_until([](char c) { return c == '.'; }).getAsInteger(10, index);
  return index;
}

} // namespace

ReferenceExecutor::ReferenceExecutor(ModuleOp module,
                                     const weights::WeightMap &weights,
                                     bool foldBatchNorm)
    : module(module) {
  for (const auto &[key, t] : weights)
    this->weights[key] =
        at::from_blob(const_cast<float *>(t.values.data()), t.shape,
                      at::TensorOptions().dtype(at::kFloat))
            .clone();
  if (!foldBatchNorm)
    return;
  // Conv + BN -> conv with bias, per Ultralytics Conv (`<p>.conv.weight`
  // next to `<p>.bn.*`); MMB norms stay (they are not after a conv).
  std::vector<std::string> prefixes;
  for (const auto &kv : this->weights) {
    llvm::StringRef key(kv.first);
    if (key.ends_with(".bn.weight"))
      prefixes.push_back(key.drop_back(strlen(".bn.weight")).str());
  }
  for (const std::string &p : prefixes) {
    auto &w = this->weights;
    if (!w.count(p + ".conv.weight"))
      continue;
    Tensor scale = w[p + ".bn.weight"] /
                   at::sqrt(w[p + ".bn.running_var"] + kBatchNormEps);
    w[p + ".conv.weight"] = w[p + ".conv.weight"] * scale.view({-1, 1, 1, 1});
    w[p + ".conv.bias"] = w[p + ".bn.bias"] - w[p + ".bn.running_mean"] * scale;
  }
}

Tensor ReferenceExecutor::run(const Tensor &input,
                              std::vector<Tensor> *layerOutputs) const {
  ModuleOp m = module;
  auto func = *m.getOps<func::FuncOp>().begin();
  Block &body = func.getBody().front();
  llvm::DenseMap<Value, Tensor> values;
  values[body.getArgument(0)] = input.contiguous();
  std::function<Tensor(Value)> valueOf = [&](Value v) { return values[v]; };
  OpRunner runner(weights, valueOf);
  at::NoGradGuard noGrad;
  for (Operation &op : body.without_terminator()) {
    Tensor out = runner.run(&op);
    values[op.getResult(0)] = out;
    auto layer = dyn_cast<LayerOpInterface>(op);
    if (layerOutputs && layer) {
      auto index = static_cast<size_t>(layerIndexOf(layer.getKey()));
      if (layerOutputs->size() <= index)
        layerOutputs->resize(index + 1);
      (*layerOutputs)[index] = out;
    }
  }
  return values[body.getTerminator()->getOperand(0)];
}

Tensor v10Postprocess(const Tensor &raw, int64_t maxDetections) {
  Tensor r = raw.contiguous();
  int64_t k = std::min(maxDetections, r.size(2));
  Tensor out = at::zeros({r.size(0), k, 6}, r.options());
  irmb_postprocess_v10(r.data_ptr<float>(), r.size(0), r.size(1), r.size(2),
                       maxDetections, out.data_ptr<float>());
  return out;
}

} // namespace irmb::reference
