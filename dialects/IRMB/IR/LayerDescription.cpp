//===- LayerDescription.cpp - state_dict and work of each layer -----------===//
//
// Implements LayerOpInterface::describeLayer for every model-level op: the
// Ultralytics module tree (which sub-modules exist, their state_dict keys and
// shapes, in registration order) and the multiply-adds of the deployed model.
// The trees follow ../shared/reference/ultralytics-semantics.md §3; tests
// compare the listing with the state_dict dumps in reference/state_dict.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include <algorithm>

using namespace mlir;
using namespace irmb;

int64_t StateDictEntry::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t LayerDescription::parameterCount() const {
  int64_t n = 0;
  for (const StateDictEntry &e : entries)
    if (e.kind == EntryKind::Parameter)
      n += e.numElements();
  return n;
}

namespace {

/// Height and width of a feature map.
struct Plane {
  int64_t h, w;
  int64_t area() const { return h * w; }
};

/// A position in the module tree: appends entries under `prefix` and counts
/// multiply-adds when `deployed` (sub-trees that inference drops, such as the
/// one2many head or the RepVGGDW 3×3 branch, are described with it off).
class Scope {
public:
  Scope(LayerDescription &desc, std::string prefix, bool deployed = true)
      : desc(desc), prefix(std::move(prefix)), deployed(deployed) {}

  /// The child module `name`.
  Scope operator/(const std::string &name) const {
    return Scope(desc, prefix + "." + name, deployed);
  }
  /// The child module with a numeric name (`m.0`, `cv2.1`).
  Scope operator/(int64_t index) const { return *this / std::to_string(index); }
  /// This scope with multiply-add counting switched off.
  Scope notDeployed() const { return Scope(desc, prefix, false); }

  /// One state_dict entry `<prefix>.<name>`.
  void tensor(const std::string &name, llvm::ArrayRef<int64_t> shape,
              EntryKind kind = EntryKind::Parameter) const {
    desc.entries.push_back(
        {prefix + "." + name, {shape.begin(), shape.end()}, kind});
  }
  /// Multiply-adds of the deployed model.
  void addMacs(double macs) const {
    if (deployed)
      desc.deployedMacs += macs;
  }
  /// nn.BatchNorm2d(c) named `name`.
  void batchNorm(const std::string &name, int64_t c) const {
    Scope bn = *this / name;
    bn.tensor("weight", {c});
    bn.tensor("bias", {c});
    bn.tensor("running_mean", {c}, EntryKind::Buffer);
    bn.tensor("running_var", {c}, EntryKind::Buffer);
    bn.tensor("num_batches_tracked", {}, EntryKind::Counter);
  }
  /// nn.Conv2d named `name` producing a `out` plane.
  void conv2d(const std::string &name, int64_t cin, int64_t cout, int64_t k,
              int64_t groups, bool bias, Plane out) const {
    Scope conv = *this / name;
    conv.tensor("weight", {cout, cin / groups, k, k});
    if (bias)
      conv.tensor("bias", {cout});
    addMacs(static_cast<double>(cout) * (cin / groups) * k * k * out.area());
  }
  /// Ultralytics Conv(cin, cout, k, s, autopad, g, d): `conv` + `bn`.
  Plane convBn(int64_t cin, int64_t cout, int64_t k, Plane in,
               int64_t stride = 1, int64_t groups = 1,
               int64_t dilation = 1) const {
    int64_t pad = autopad(k, dilation);
    Plane out{convOutputExtent(in.h, k, stride, pad, dilation),
              convOutputExtent(in.w, k, stride, pad, dilation)};
    size_t begin = beginUnit();
    conv2d("conv", cin, cout, k, groups, /*bias=*/false, out);
    batchNorm("bn", cout);
    endUnit(begin, {{prefix + ".conv.weight",
                     {cout, cin / groups, k, k},
                     EntryKind::Parameter},
                    {prefix + ".conv.bias", {cout}, EntryKind::Parameter}});
    return out;
  }
  /// Starts a fusable unit at the next entry; returns its begin index.
  size_t beginUnit() const { return desc.entries.size(); }
  /// Records the unit from `begin` to the current end with its fused form,
  /// keeping units ordered by begin, enclosing units first.
  void endUnit(size_t begin, std::vector<StateDictEntry> fused) const {
    FusableUnit unit{begin, desc.entries.size(), std::move(fused)};
    auto pos = llvm::find_if(desc.fusableUnits, [&](const FusableUnit &u) {
      return u.begin > begin || (u.begin == begin && u.end < unit.end);
    });
    desc.fusableUnits.insert(pos, std::move(unit));
  }
  /// The full key prefix of this scope.
  const std::string &key() const { return prefix; }

private:
  LayerDescription &desc;
  std::string prefix;
  bool deployed;
};

/// Spatial plane of a feature-map value.
Plane planeOf(Value value) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  return {shape[2], shape[3]};
}

//===----------------------------------------------------------------------===//
// Building blocks shared by several layers
//===----------------------------------------------------------------------===//

/// Ultralytics Bottleneck(c1, c2, shortcut, g, k=(k1, k2), e).
void describeBottleneck(const Scope &s, int64_t c1, int64_t c2, int64_t k1,
                        int64_t k2, double e, int64_t groups, Plane p) {
  int64_t hidden = static_cast<int64_t>(static_cast<double>(c2) * e);
  (s / "cv1").convBn(c1, hidden, k1, p);
  (s / "cv2").convBn(hidden, c2, k2, p, 1, groups);
}

/// The Meta Mobile Block (EMO iRMB / iEMA) from dimIn to dimOut channels.
void describeMMB(const Scope &s, MMBConfigAttr cfg, int64_t dimIn,
                 int64_t dimOut, Plane in) {
  int64_t dimMid = cfg.getMidChannels(dimIn);
  if (cfg.getNormIn())
    s.batchNorm("norm", dimIn);
  switch (cfg.getOp()) {
  case OperatorF::window_attention: {
    int64_t heads = dimIn / cfg.getDimHead();
    int64_t win = cfg.getWindow();
    int64_t wh = win > 0 ? win : in.h, ww = win > 0 ? win : in.w;
    Plane padded{(in.h + wh - 1) / wh * wh, (in.w + ww - 1) / ww * ww};
    (s / "qk").conv2d("conv", dimIn, 2 * dimIn, 1, 1, cfg.getQkvBias(), padded);
    (s / "v").conv2d("conv", dimIn, dimMid, 1, cfg.getVGroup() ? heads : 1,
                     cfg.getQkvBias(), padded);
    // Per window of T tokens: q·kᵀ (T·T·dimIn) and attn·v (T·T·width of
    // the attended tensor, dimIn with attn_pre, else dimMid).
    int64_t windows = (padded.h / wh) * (padded.w / ww), tokens = wh * ww;
    int64_t attended = cfg.getAttnPre() ? dimIn : dimMid;
    s.addMacs(static_cast<double>(windows) * tokens * tokens * (dimIn + attended));
    break;
  }
  case OperatorF::ema: {
    int64_t g = cfg.getGroups(), cg = dimIn / g;
    Scope ema = s / "ema";
    (ema / "gn").tensor("weight", {cg});
    (ema / "gn").tensor("bias", {cg});
    ema.notDeployed().conv2d("conv1x1", cg, cg, 1, 1, true, in);
    ema.addMacs(static_cast<double>(g) * cg * cg * (in.h + in.w));
    ema.notDeployed().conv2d("conv3x3", cg, cg, 3, 1, true, in);
    ema.addMacs(static_cast<double>(g) * cg * cg * 9 * in.area());
    // Two [1, cg] x [cg, h·w] products per group.
    ema.addMacs(2.0 * g * cg * in.area());
    break;
  }
  case OperatorF::dwconv:
  case OperatorF::none:
    if (cfg.getVProj())
      (s / "v").conv2d("conv", dimIn, dimMid, 1, 1, cfg.getQkvBias(), in);
    break;
  }
  Plane out = in;
  if (cfg.getOp() != OperatorF::none) {
    int64_t k = cfg.getDwKs(), pad = mmbPadding(k, cfg.getStride());
    out = {convOutputExtent(in.h, k, cfg.getStride(), pad, cfg.getDilation()),
           convOutputExtent(in.w, k, cfg.getStride(), pad, cfg.getDilation())};
    Scope local = s / "conv_local";
    local.conv2d("conv", dimMid, dimMid, k, dimMid, false, out);
    local.batchNorm("norm", dimMid);
  }
  if (int64_t rd = cfg.getSEChannels(dimMid)) {
    Scope se = s / "se";
    se.conv2d("conv_reduce", dimMid, rd, 1, 1, true, {1, 1});
    se.conv2d("conv_expand", rd, dimMid, 1, 1, true, {1, 1});
  }
  (s / "proj").conv2d("conv", dimMid, dimOut, 1, 1, false, out);
}

/// The C2f skeleton: cv1 (1×1 to 2c), cv2 (1×1 from (2+n)c), then the n
/// inner blocks `m.<j>` described by `inner`.
template <typename InnerFn>
void describeC2fSkeleton(const Scope &s, int64_t c1, int64_t c2, int64_t c,
                         int64_t n, Plane p, InnerFn inner) {
  (s / "cv1").convBn(c1, 2 * c, 1, p);
  (s / "cv2").convBn((2 + n) * c, c2, 1, p);
  for (int64_t j = 0; j < n; ++j)
    inner(s / "m" / j);
}

/// Ultralytics Attention(dim, num_heads, attn_ratio = 0.5) on a `p` plane.
void describeAttention(const Scope &s, int64_t dim, int64_t heads, Plane p) {
  int64_t headDim = dim / heads, keyDim = headDim / 2;
  int64_t qkvWidth = dim + 2 * keyDim * heads;
  (s / "qkv").convBn(dim, qkvWidth, 1, p);
  (s / "proj").convBn(dim, dim, 1, p);
  (s / "pe").convBn(dim, dim, 3, p, 1, dim);
  s.addMacs(static_cast<double>(heads) * p.area() * p.area() * (keyDim + headDim));
}

/// PSA / PSABlock tail: attention then the two-conv FFN on `c` channels.
void describeAttentionBlock(const Scope &s, int64_t c, int64_t heads, Plane p) {
  describeAttention(s / "attn", c, heads, p);
  (s / "ffn" / 0).convBn(c, 2 * c, 1, p);
  (s / "ffn" / 1).convBn(2 * c, c, 1, p);
}

/// The per-level box and class branches of a Detect head under `s`
/// (`cv2`/`cv3`, or `one2one_cv2`/`one2one_cv3` with `namePrefix`).
void describeDetectBranches(const Scope &s, const std::string &namePrefix,
                            ValueRange inputs, int64_t nc, int64_t regMax,
                            bool depthwise) {
  int64_t ch0 = channelsOf(inputs.front());
  int64_t c2 = std::max({int64_t(16), ch0 / 4, regMax * 4});
  int64_t c3 = std::max(ch0, std::min(nc, int64_t(100)));
  for (auto [i, x] : llvm::enumerate(inputs)) {
    Scope box = s / (namePrefix + "cv2") / i;
    Plane p = planeOf(x);
    int64_t cx = channelsOf(x);
    (box / 0).convBn(cx, c2, 3, p);
    (box / 1).convBn(c2, c2, 3, p);
    box.conv2d("2", c2, 4 * regMax, 1, 1, true, p);
  }
  for (auto [i, x] : llvm::enumerate(inputs)) {
    Scope cls = s / (namePrefix + "cv3") / i;
    Plane p = planeOf(x);
    int64_t cx = channelsOf(x);
    if (depthwise) {
      (cls / 0 / 0).convBn(cx, cx, 3, p, 1, cx);
      (cls / 0 / 1).convBn(cx, c3, 1, p);
      (cls / 1 / 0).convBn(c3, c3, 3, p, 1, c3);
      (cls / 1 / 1).convBn(c3, c3, 1, p);
    } else {
      (cls / 0).convBn(cx, c3, 3, p);
      (cls / 1).convBn(c3, c3, 3, p);
    }
    cls.conv2d("2", c3, nc, 1, 1, true, p);
  }
}

/// Number of anchors of a head (Σ H·W over its levels).
int64_t anchorsOf(ValueRange inputs) {
  int64_t a = 0;
  for (Value x : inputs)
    a += planeOf(x).area();
  return a;
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementary layers
//===----------------------------------------------------------------------===//

void ConvOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  int64_t cin = channelsOf(getInput()), cout = channelsOf(getOutput());
  size_t begin = s.beginUnit();
  s.conv2d("conv", cin, cout, getKernel(), getGroups(), false,
           planeOf(getOutput()));
  s.batchNorm("bn", cout);
  s.endUnit(begin, {{s.key() + ".conv.weight",
                     {cout, cin / static_cast<int64_t>(getGroups()),
                      static_cast<int64_t>(getKernel()),
                      static_cast<int64_t>(getKernel())},
                     EntryKind::Parameter},
                    {s.key() + ".conv.bias", {cout}, EntryKind::Parameter}});
}

void ConcatOp::describeLayer(LayerDescription &) {}

void UpsampleOp::describeLayer(LayerDescription &) {}

//===----------------------------------------------------------------------===//
// CSP blocks
//===----------------------------------------------------------------------===//

void C2fOp::describeLayer(LayerDescription &desc) {
  Plane p = planeOf(getInput());
  int64_t c = getHidden();
  std::optional<MMBConfigAttr> block = getBlock();
  describeC2fSkeleton(Scope(desc, getKey().str()), channelsOf(getInput()),
                      channelsOf(getOutput()), c, getN(), p,
                      [&](const Scope &m) {
                        describeBottleneck(m, c, c, 3, 3, 1.0, getGroups(), p);
                        if (block)
                          describeMMB(m / "iRMB", *block, c, c, p);
                      });
}

void C3k2Op::describeLayer(LayerDescription &desc) {
  Plane p = planeOf(getInput());
  int64_t c = getHidden(), g = getGroups();
  describeC2fSkeleton(
      Scope(desc, getKey().str()), channelsOf(getInput()),
      channelsOf(getOutput()), c, getN(), p, [&](const Scope &m) {
        if (!getC3k()) {
          describeBottleneck(m, c, c, 3, 3, 0.5, g, p);
          return;
        }
        // C3k(c, c, n=2, shortcut, g, e=0.5, k=3).
        int64_t half = static_cast<int64_t>(static_cast<double>(c) * 0.5);
        (m / "cv1").convBn(c, half, 1, p);
        (m / "cv2").convBn(c, half, 1, p);
        (m / "cv3").convBn(2 * half, c, 1, p);
        for (int64_t j = 0; j < 2; ++j)
          describeBottleneck(m / "m" / j, half, half, 3, 3, 1.0, g, p);
      });
}

void C2fCIBOp::describeLayer(LayerDescription &desc) {
  Plane p = planeOf(getInput());
  int64_t c = getHidden();
  describeC2fSkeleton(
      Scope(desc, getKey().str()), channelsOf(getInput()),
      channelsOf(getOutput()), c, getN(), p, [&](const Scope &m) {
        // CIB(c, c, shortcut, e=1.0, lk): hidden width c.
        Scope cv1 = m / "cv1";
        (cv1 / 0).convBn(c, c, 3, p, 1, c);
        (cv1 / 1).convBn(c, 2 * c, 1, p);
        if (getLk()) {
          // RepVGGDW(2c): the deployed form is one 7×7 depthwise conv.
          Scope rep = cv1 / 2;
          size_t begin = rep.beginUnit();
          (rep / "conv").convBn(2 * c, 2 * c, 7, p, 1, 2 * c);
          (rep / "conv1").notDeployed().convBn(2 * c, 2 * c, 3, p, 1, 2 * c);
          rep.endUnit(
              begin,
              {{rep.key() + ".conv.weight",
                {2 * c, 1, 7, 7},
                EntryKind::Parameter},
               {rep.key() + ".conv.bias", {2 * c}, EntryKind::Parameter}});
        } else {
          (cv1 / 2).convBn(2 * c, 2 * c, 3, p, 1, 2 * c);
        }
        (cv1 / 3).convBn(2 * c, c, 1, p);
        (cv1 / 4).convBn(c, c, 3, p, 1, c);
      });
}

//===----------------------------------------------------------------------===//
// Down-sampling and pooling
//===----------------------------------------------------------------------===//

void SCDownOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  int64_t c2 = channelsOf(getOutput());
  Plane p =
      (s / "cv1").convBn(channelsOf(getInput()), c2, 1, planeOf(getInput()));
  (s / "cv2").convBn(c2, c2, getKernel(), p, getStride(), c2);
}

void SPPFOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  int64_t c1 = channelsOf(getInput()), hidden = c1 / 2;
  Plane p = planeOf(getInput());
  (s / "cv1").convBn(c1, hidden, 1, p);
  (s / "cv2").convBn(4 * hidden, channelsOf(getOutput()), 1, p);
}

//===----------------------------------------------------------------------===//
// Global attention blocks
//===----------------------------------------------------------------------===//

void PSAOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  int64_t c1 = channelsOf(getInput()), c = getHidden();
  Plane p = planeOf(getInput());
  (s / "cv1").convBn(c1, 2 * c, 1, p);
  (s / "cv2").convBn(2 * c, c1, 1, p);
  describeAttentionBlock(s, c, getNumHeads(), p);
}

void C2PSAOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  int64_t c1 = channelsOf(getInput()), c = getHidden();
  Plane p = planeOf(getInput());
  (s / "cv1").convBn(c1, 2 * c, 1, p);
  (s / "cv2").convBn(2 * c, c1, 1, p);
  for (int64_t j = 0; j < static_cast<int64_t>(getN()); ++j)
    describeAttentionBlock(s / "m" / j, c, getNumHeads(), p);
}

//===----------------------------------------------------------------------===//
// The Meta Mobile Block
//===----------------------------------------------------------------------===//

void MMBOp::describeLayer(LayerDescription &desc) {
  describeMMB(Scope(desc, getKey().str()), getConfig(), channelsOf(getInput()),
              channelsOf(getOutput()), planeOf(getInput()));
}

//===----------------------------------------------------------------------===//
// Detection heads
//===----------------------------------------------------------------------===//

void DetectOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  describeDetectBranches(s, "", getInputs(), getNc(), getRegMax(),
                         getClsHead() == ClsHead::depthwise);
  (s / "dfl").conv2d("conv", getRegMax(), 1, 1, 1, false,
                     {4, anchorsOf(getInputs())});
}

void V10DetectOp::describeLayer(LayerDescription &desc) {
  Scope s(desc, getKey().str());
  describeDetectBranches(s.notDeployed(), "", getInputs(), getNc(), getRegMax(),
                         /*depthwise=*/true);
  (s / "dfl").conv2d("conv", getRegMax(), 1, 1, 1, false,
                     {4, anchorsOf(getInputs())});
  describeDetectBranches(s, "one2one_", getInputs(), getNc(), getRegMax(),
                         /*depthwise=*/true);
}
