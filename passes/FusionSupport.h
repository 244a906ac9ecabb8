//===- FusionSupport.h - shared pieces of the fusion passes -----*- C++ -*-===//
//
// What every fusion pass shares: the report of a candidate site (counted in
// the pass's statistics, and with `report` a remark `<pattern>: fused` or
// `<pattern>: not fused: <why>` on the op, which irmb-compile
// --fusion-report prints as one line per site), and small
// queries on the primitive IR (sole consumer, shapes, zero-preserving ops).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_PASSES_FUSIONSUPPORT_H
#define IRMB_PASSES_FUSIONSUPPORT_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include "dialects/IRMB/IR/IRMBOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Debug.h"

namespace irmb {

/// The weight or norm prefix naming a site inside its YAML layer (a conv's
/// `model.4.m.0.cv1.conv`), or the op name.
inline std::string siteName(Operation *op) {
  auto trim = [](StringRef key) {
    key.consume_back(".weight");
    return key.str();
  };
  if (auto c = dyn_cast<Conv2dOp>(op))
    return trim(c.getWeight());
  if (auto bn = dyn_cast<BatchNormOp>(op))
    return bn.getNorm().str();
  if (auto e = dyn_cast<EMAOp>(op))
    return e.getPrefix().str();
  return op->getName().getStringRef().str();
}

/// Where a fusion pass counts and reports its candidate sites: its `report`
/// option and its `fused` / `not-fused` statistics (IRMBFusionPass in
/// Passes.td). Each pass makes one with its `sites()` member.
struct SiteReporter {
  bool report;
  Pass::Statistic &fused, &notFused;
  /// The pass's DEBUG_TYPE: `-debug-only=<it>` (an LLVM with assertions)
  /// prints every site as it is decided.
  const char *debugType;
};

/// Counts one candidate site of `pattern` (fused when `why` is empty) and,
/// with `sites.report`, emits the remark `<pattern> <site>: fused
/// [(<detail>)]` or `<pattern> <site>: not fused: <why>`.
inline void reportSite(const SiteReporter &sites, Operation *op,
                       StringRef pattern, const llvm::Twine &why = "",
                       const llvm::Twine &detail = "") {
  std::string reason = why.str();
  if (reason.empty())
    ++sites.fused;
  else
    ++sites.notFused;
  DEBUG_WITH_TYPE(sites.debugType,
                  llvm::dbgs() << pattern << " " << siteName(op) << ": "
                               << (reason.empty() ? "fused" : reason) << "\n");
  if (!sites.report)
    return;
  std::string more = detail.str();
  InFlightDiagnostic d = op->emitRemark();
  d << pattern << " " << siteName(op) << ": ";
  if (!reason.empty())
    d << "not fused: " << reason;
  else if (more.empty())
    d << "fused";
  else
    d << "fused (" << more << ")";
}

/// The reason a disabled pass gives for every site it finds.
inline constexpr const char *kDisabled = "disabled (--disable-fusion)";

/// The single op consuming `v`, or null when it has none or several.
inline Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

/// Whether a convolution is depthwise (groups = input = output channels).
inline bool isDepthwise(Conv2dOp c) {
  auto in = cast<RankedTensorType>(c.getInput().getType());
  auto out = cast<RankedTensorType>(c.getType());
  int64_t groups = static_cast<int64_t>(c.getGroups());
  return groups > 1 && groups == in.getDimSize(1) &&
         groups == out.getDimSize(1);
}

/// Whether a convolution is a pointwise (1×1, stride 1, unpadded) one.
inline bool isPointwise(Conv2dOp c) {
  return c.getKernel() == 1 && c.getStride() == 1 && c.getPadding() == 0;
}

/// `t` with height and width replaced.
inline RankedTensorType withSpatial(Type t, int64_t h, int64_t w) {
  auto r = cast<RankedTensorType>(t);
  return RankedTensorType::get({r.getDimSize(0), r.getDimSize(1), h, w},
                               r.getElementType());
}

} // namespace irmb

#endif // IRMB_PASSES_FUSIONSUPPORT_H
