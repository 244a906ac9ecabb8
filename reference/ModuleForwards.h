//===- ModuleForwards.h - ATen forwards of Ultralytics modules --*- C++ -*-===//
//
// Internal to the reference executor. One function per Ultralytics module,
// written after the PyTorch forward passes summarised in
// ../shared/reference/ultralytics-semantics.md §3, with the same ATen calls
// in the same order so results agree to rounding. A `Layer` object reads
// weights under the op's state_dict key, always in the unfused structure
// (the loader expands fused checkpoints exactly).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_REFERENCE_MODULEFORWARDS_H
#define IRMB_REFERENCE_MODULEFORWARDS_H

#include "weights/Weights.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include <ATen/ATen.h>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace irmb::reference::detail {

/// GroupNorm eps inside EMA (untouched by Ultralytics).
constexpr double kGroupNormEps = 1e-5;

/// `x` through the activation `act` (none, ReLU, ReLU6, SiLU).
at::Tensor activate(const at::Tensor &x, irmb::Activation act);

/// Weight access below one state_dict prefix.
class Layer {
public:
  /// The weights below `prefix` of `weights` (which must outlive the layer).
  Layer(const std::map<std::string, at::Tensor> &weights, std::string prefix)
      : weights(weights), prefix(std::move(prefix)) {}

  /// The child layer `<prefix>.<name>`.
  Layer operator/(const std::string &name) const {
    return Layer(weights, prefix + "." + name);
  }
  /// The child layer `<prefix>.<i>` (an nn.Sequential or nn.ModuleList item).
  Layer operator/(int64_t i) const { return *this / std::to_string(i); }

  /// Whether the weight `<prefix>.<name>` exists.
  bool has(const std::string &name) const {
    return weights.count(prefix + "." + name) != 0;
  }
  /// The weight `<prefix>.<name>`; throws if it is missing.
  const at::Tensor &w(const std::string &name) const {
    auto it = weights.find(prefix + "." + name);
    if (it == weights.end())
      throw std::runtime_error("missing weight '" + prefix + "." + name + "'");
    return it->second;
  }
  /// Optional tensor: the weight if present, else undefined.
  at::Tensor optional(const std::string &name) const {
    return has(name) ? w(name) : at::Tensor();
  }

  /// nn.BatchNorm2d in eval mode.
  at::Tensor batchNorm(const at::Tensor &x) const {
    return at::batch_norm(x, w("weight"), w("bias"), w("running_mean"),
                          w("running_var"), /*training=*/false, 0.03,
                          ::irmb::weights::kBatchNormEps,
                          /*cudnn_enabled=*/false);
  }
  /// nn.Conv2d named by this layer (`weight`, optional `bias`).
  at::Tensor conv2d(const at::Tensor &x, int64_t stride, int64_t pad,
                    int64_t groups = 1, int64_t dilation = 1) const {
    return at::conv2d(x, w("weight"), optional("bias"), {stride, stride},
                      {pad, pad}, {dilation, dilation}, groups);
  }
  /// Ultralytics Conv (autopad): conv + BN (or fused conv with bias) + act.
  at::Tensor conv(const at::Tensor &x, int64_t k, int64_t stride = 1,
                  int64_t groups = 1,
                  irmb::Activation act = irmb::Activation::silu,
                  int64_t dilation = 1) const {
    return convPadded(x, stride, irmb::autopad(k, dilation), groups, act,
                      dilation);
  }
  /// Ultralytics Conv with an explicit padding.
  at::Tensor convPadded(const at::Tensor &x, int64_t stride, int64_t pad,
                        int64_t groups, irmb::Activation act,
                        int64_t dilation = 1) const {
    at::Tensor y = (*this / "conv").conv2d(x, stride, pad, groups, dilation);
    if (has("conv.bias")) // BatchNorm folded at construction
      return activate(y, act);
    return activate((*this / "bn").batchNorm(y), act);
  }

private:
  const std::map<std::string, at::Tensor> &weights;
  std::string prefix;
};

//===----------------------------------------------------------------------===//
// CSP building blocks
//===----------------------------------------------------------------------===//

/// Bottleneck(c1, c2, shortcut, g, k=(k, k), e) [+ an MMB after cv2].
at::Tensor bottleneck(const Layer &l, const at::Tensor &x, int64_t c2,
                      bool shortcut, int64_t g,
                      irmb::MMBConfigAttr block = {});

/// The C2f data flow with inner blocks `inner(m.j, y)`.
template <typename InnerFn>
at::Tensor c2fSkeleton(const Layer &l, const at::Tensor &x, int64_t n,
                       InnerFn inner) {
  std::vector<at::Tensor> ys = (l / "cv1").conv(x, 1).chunk(2, 1);
  for (int64_t j = 0; j < n; ++j)
    ys.push_back(inner(l / "m" / j, ys.back()));
  return (l / "cv2").conv(at::cat(ys, 1), 1);
}

/// PSABlock: attention and FFN, each with a residual.
at::Tensor attentionBlock(const Layer &l, at::Tensor x, int64_t heads);

//===----------------------------------------------------------------------===//
// The Meta Mobile Block
//===----------------------------------------------------------------------===//

/// EMA (Ouyang et al.) with `groups` groups sharing one set of weights.
at::Tensor ema(const Layer &l, const at::Tensor &x, int64_t groups);

/// timm SqueezeExcite with the block's activation and a sigmoid gate.
at::Tensor squeezeExcite(const Layer &l, const at::Tensor &x,
                         irmb::Activation act);

/// The whole Meta Mobile Block (EMO iRMB / iEMA forward) with `dimOut`
/// output channels.
at::Tensor mmbForward(const Layer &l, irmb::MMBConfigAttr cfg,
                      const at::Tensor &x, int64_t dimOut);

//===----------------------------------------------------------------------===//
// Primitive attention
//===----------------------------------------------------------------------===//

/// irmb.attention: per head and (strided-grid) window softmax(q kᵀ s) v.
at::Tensor windowedAttention(const at::Tensor &q, const at::Tensor &k,
                             const at::Tensor &v, int64_t heads, int64_t window,
                             double scale);

//===----------------------------------------------------------------------===//
// Detection heads
//===----------------------------------------------------------------------===//

/// Per-level box and class branches under `cv2Name` / `cv3Name`.
at::Tensor detectBranches(const Layer &l, const std::string &cv2Name,
                          const std::string &cv3Name,
                          llvm::ArrayRef<at::Tensor> xs, bool depthwise);

/// DFL decoding, anchors and sigmoid scores: [B, 4 + nc, A].
at::Tensor decode(const at::Tensor &dflWeight, const at::Tensor &preds,
                  llvm::ArrayRef<at::Tensor> xs,
                  llvm::ArrayRef<int64_t> strides, int64_t regMax);

} // namespace irmb::reference::detail

#endif // IRMB_REFERENCE_MODULEFORWARDS_H
