//===- ModuleForwards.cpp - ATen forwards of Ultralytics modules ----------===//
//
// The CSP blocks (Bottleneck, PSA attention), the Meta Mobile Block (iRMB
// window attention, EMA, SqueezeExcite), the primitive windowed attention
// and the detection heads (branches, DFL decoding), each with the ATen calls
// of its PyTorch forward in the same order (see ModuleForwards.h).
//
//===----------------------------------------------------------------------===//
#include "reference/ModuleForwards.h"

#include <cmath>

using namespace mlir;
using namespace irmb;
using at::Tensor;

namespace irmb::reference::detail {

/// `x` through `act`, with the ATen op PyTorch runs for it.
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

/// The channel count of an NCHW tensor.
static int64_t channelsOf(const Tensor &x) { return x.size(1); }

//===----------------------------------------------------------------------===//
// CSP building blocks
//===----------------------------------------------------------------------===//

/// Bottleneck(c1, c2, shortcut, g, k=(k, k), e) [+ an MMB after cv2].
Tensor bottleneck(const Layer &l, const Tensor &x, int64_t c2, bool shortcut,
                  int64_t g, MMBConfigAttr block) {
  Tensor y = (l / "cv2").conv((l / "cv1").conv(x, 3), 3, 1, g);
  if (block)
    y = mmbForward(l / "iRMB", block, y, c2);
  return shortcut && channelsOf(x) == c2 ? x + y : y;
}

/// Ultralytics Attention(dim, num_heads, attn_ratio = 0.5).
static Tensor attention(const Layer &l, const Tensor &x, int64_t heads) {
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
static Tensor windowAttention(const Layer &l, MMBConfigAttr cfg,
                              const Tensor &z, int64_t dimMid) {
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

} // namespace irmb::reference::detail
