//===- KernelChoice.cpp - the irmb.kernel attribute -----------------------===//
//
// Which kernels each primitive op can run on (KernelChoice.h): the
// convolution kernels by shape, the two forms of slices, concats,
// attention and EMA by the op's attributes, one kernel for every other op.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/KernelChoice.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace irmb;

std::optional<Kernel> irmb::chosenKernel(Operation *op) {
  if (auto attr = op->getAttrOfType<KernelAttr>(kKernelAttrName))
    return attr.getValue();
  return std::nullopt;
}

void irmb::setChosenKernel(Operation *op, Kernel kernel) {
  op->setAttr(kKernelAttrName, KernelAttr::get(op->getContext(), kernel));
}

namespace {

/// Why convolution `c` cannot run on `kernel`, or "".
std::string convMismatch(Conv2dOp c, Kernel kernel) {
  int64_t cin = channelsOf(c.getInput()), cout = channelsOf(c.getOutput());
  bool oneGroup3x3 = c.getKernel() == 3 && c.getPadding() == 1 &&
                     c.getDilation() == 1 && c.getGroups() == 1;
  switch (kernel) {
  case Kernel::depthwise:
    if (c.getGroups() != cin || c.getGroups() != cout)
      return "depthwise needs groups == input channels == output channels";
    return "";
  case Kernel::gemm:
    if (c.getKernel() != 1 || c.getStride() != 1 || c.getPadding() != 0)
      return "gemm needs a 1x1 stride-1 unpadded convolution";
    return "";
  case Kernel::im2col_gemm:
    return "";
  case Kernel::winograd_f2:
  case Kernel::winograd_f4:
    if (!oneGroup3x3 || c.getStride() != 1)
      return stringifyKernel(kernel).str() +
             " needs a 3x3 stride-1 padding-1 convolution of one group";
    return "";
  case Kernel::direct_s2:
    if (!oneGroup3x3 || c.getStride() != 2)
      return "direct_s2 needs a 3x3 stride-2 padding-1 convolution of one "
             "group";
    return "";
  default:
    return "a convolution runs on depthwise, gemm, im2col_gemm, "
           "winograd_f2, winograd_f4 or direct_s2";
  }
}

/// `expected` is the one kernel of the op; "" when `kernel` is it.
std::string only(Operation *op, Kernel kernel, Kernel expected) {
  if (kernel == expected)
    return "";
  return op->getName().getStringRef().str() + " runs on " +
         stringifyKernel(expected).str();
}

} // namespace

std::string irmb::kernelMismatch(Operation *op, Kernel kernel) {
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](Conv2dOp c) { return convMismatch(c, kernel); })
      .Case([&](BatchNormOp) {
        return only(op, kernel, Kernel::channel_affine);
      })
      .Case([&](ActivationOp) { return only(op, kernel, Kernel::activation); })
      .Case([&](AddOp) { return only(op, kernel, Kernel::add); })
      .Case([&](SliceOp s) {
        return only(op, kernel, s.getView() ? Kernel::view : Kernel::slice_copy);
      })
      .Case([&](CatOp c) {
        return only(op, kernel,
                    c.getInPlace() ? Kernel::concat_in_place
                                   : Kernel::concat_copy);
      })
      .Case([&](ProjectionOp) { return only(op, kernel, Kernel::projection); })
      .Case([&](PadOp) { return only(op, kernel, Kernel::pad); })
      .Case([&](CropOp) { return only(op, kernel, Kernel::crop); })
      .Case([&](MaxPoolOp) { return only(op, kernel, Kernel::max_pool); })
      .Case([&](ResizeNearestOp) {
        return only(op, kernel, Kernel::resize_nearest);
      })
      .Case([&](AttentionOp a) {
        return only(op, kernel,
                    a.getWindow() > 0 ? Kernel::window_attention
                                      : Kernel::global_attention);
      })
      .Case([&](EMAOp e) -> std::string {
        if (kernel == Kernel::ema_streaming)
          return "";
        if (kernel != Kernel::ema)
          return "irmb.ema runs on ema or ema_streaming";
        if (e.getNorm())
          return "an input norm needs the ema_streaming kernel";
        return "";
      })
      .Case([&](SqueezeExciteOp) {
        return only(op, kernel, Kernel::squeeze_excite);
      })
      .Case([&](DetectDecodeOp) {
        return only(op, kernel, Kernel::detect_decode);
      })
      .Default([](Operation *) {
        return std::string("only primitive ops run on kernels");
      });
}
