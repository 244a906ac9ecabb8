//===- IRMBDialect.cpp - irmb dialect, enums and attributes ---------------===//
//
// Registers the irmb ops and attributes, and implements `#irmb.mmb`: its
// parameter parsers and the verifier of the invariants a Meta Mobile Block
// configuration has on its own (those that need channel counts are checked
// by the ops that use it, in IRMBOps.cpp).
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/KernelChoice.h"
#include "dialects/IRMB/IR/NumberFormat.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cfenv>
#include <cmath>

using namespace mlir;
using namespace irmb;

#include "dialects/IRMB/IR/IRMBDialect.cpp.inc"
#include "dialects/IRMB/IR/IRMBEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/IRMB/IR/IRMBAttrs.cpp.inc"

void IRMBDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/IRMB/IR/IRMBOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/IRMB/IR/IRMBAttrs.cpp.inc"
      >();
}

/// The discardable attributes: `irmb.source` and `irmb.scale` (strings on
/// the module: the model file and its scale letter) and `irmb.kernel` (a
/// #irmb.kernel the op can run on, KernelChoice.h).
LogicalResult IRMBDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  if (attr.getName() == "irmb.source" || attr.getName() == "irmb.scale") {
    if (!isa<ModuleOp>(op) || !isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'" << attr.getName().getValue()
                             << "' must be a string on the module";
    return success();
  }
  if (attr.getName() != kKernelAttrName)
    return op->emitError() << "unknown irmb attribute '"
                           << attr.getName().getValue()
                           << "'";
  auto kernel = dyn_cast<KernelAttr>(attr.getValue());
  if (!kernel)
    return op->emitError() << "'" << kKernelAttrName
                           << "' must be a #irmb.kernel, not "
                           << attr.getValue();
  std::string mismatch = kernelMismatch(op, kernel.getValue());
  if (!mismatch.empty())
    return op->emitError() << "cannot run on #irmb.kernel<"
                           << stringifyKernel(kernel.getValue())
                           << ">: " << mismatch;
  return success();
}

//===----------------------------------------------------------------------===//
// Parameter parsers
//===----------------------------------------------------------------------===//

FailureOr<llvm::APFloat> irmb::parseDoubleParameter(AsmParser &parser) {
  double value = 0;
  if (parser.parseFloat(value))
    return failure();
  return llvm::APFloat(value);
}

void irmb::printDoubleParameter(AsmPrinter &printer,
                                      const llvm::APFloat &value) {
  printer << formatShortestDouble(value.convertToDouble());
}

FailureOr<bool> irmb::parseBoolParameter(AsmParser &parser) {
  if (succeeded(parser.parseOptionalKeyword("true")))
    return true;
  if (succeeded(parser.parseOptionalKeyword("false")))
    return false;
  return parser.emitError(parser.getCurrentLocation(),
                          "expected 'true' or 'false'");
}

//===----------------------------------------------------------------------===//
// MMBConfigAttr
//===----------------------------------------------------------------------===//

int64_t MMBConfigAttr::getMidChannels(int64_t dimIn) const {
  // Python int(dim_in * exp_ratio): double product truncated toward zero.
  return static_cast<int64_t>(static_cast<double>(dimIn) * getExpansion());
}

int64_t MMBConfigAttr::getSEChannels(int64_t dimMid) const {
  if (getSqueezeRatio() <= 0.0)
    return 0;
  // timm SqueezeExcite: Python round() (half to even) of in_chs * rd_ratio.
  std::fesetround(FE_TONEAREST);
  return static_cast<int64_t>(
      std::nearbyint(static_cast<double>(dimMid) * getSqueezeRatio()));
}

LogicalResult
MMBConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      llvm::APFloat expRatioAttr, OperatorF op, int64_t window,
                      int64_t dimHead, bool attnPre, int64_t groups,
                      llvm::APFloat seRatioAttr, int64_t dwKs, int64_t stride,
                      int64_t dilation, Activation act, bool normIn,
                      bool hasSkip, bool vProj, bool qkvBias, bool vGroup) {
  double expRatio = expRatioAttr.convertToDouble();
  double seRatio = seRatioAttr.convertToDouble();
  if (!(expRatio > 0.0) || !std::isfinite(expRatio))
    return emitError() << "expansion ratio must be > 0, got "
                       << formatShortestDouble(expRatio);
  if (!(seRatio >= 0.0) || !std::isfinite(seRatio))
    return emitError() << "se_ratio must be >= 0, got "
                       << formatShortestDouble(seRatio);
  // A window pads the map to a multiple of itself (and attends within it),
  // so a huge one is a huge padded map: EMO uses 7.
  constexpr int64_t kMaxWindow = 1024;
  if (window < 0 || window > kMaxWindow)
    return emitError() << "window must be in [0, " << kMaxWindow
                       << "] (0 = global), got " << window;
  if (stride < 1 || dilation < 1)
    return emitError() << "stride and dilation must be >= 1";
  bool attention = op == OperatorF::window_attention;
  if (attention && dimHead < 1)
    return emitError() << "window_attention needs dim_head >= 1, got "
                       << dimHead;
  if (!attention && (dimHead != 0 || window != 0 || attnPre || vGroup))
    return emitError() << "dim_head, window, attn_pre and v_group apply only "
                          "to window_attention; they must be 0 / false for "
                       << stringifyOperatorF(op);
  if (op == OperatorF::ema && groups < 1)
    return emitError() << "ema needs groups >= 1, got " << groups;
  if (op != OperatorF::ema && groups != 0)
    return emitError() << "groups applies only to ema; it must be 0 for "
                       << stringifyOperatorF(op);
  if (op == OperatorF::none && (dwKs != 0 || stride != 1 || dilation != 1))
    return emitError() << "F = none has no depthwise conv: dw_ks must be 0 "
                          "and stride, dilation 1";
  if (op != OperatorF::none && dwKs < 1)
    return emitError() << "dw_ks must be >= 1, got " << dwKs;
  if (attention && !vProj)
    return emitError() << "window_attention always projects v: v_proj must "
                          "be true";
  if (op == OperatorF::ema && (vProj || qkvBias))
    return emitError() << "ema has no q/k/v projections: v_proj and qkv_bias "
                          "must be false";
  (void)act;
  (void)normIn;
  (void)hasSkip;
  (void)qkvBias;
  return success();
}
