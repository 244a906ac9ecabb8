//===- ShapeInference.h - shared output-shape arithmetic --------*- C++ -*-===//
//
// Output shapes of the irmb model-level ops, as free functions on plain
// shapes. The op verifiers, the YAML frontend (which builds result types with
// them) and the passes all call these, so the arithmetic exists once. Each
// function reports problems through `emitError` and returns failure.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_SHAPEINFERENCE_H
#define IRMB_DIALECTS_IRMB_IR_SHAPEINFERENCE_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

namespace irmb {

class MMBConfigAttr;

/// A static NCHW (or [B, C, A]) shape.
using Shape = llvm::SmallVector<int64_t, 4>;

/// The static shape of a ranked tensor value (every irmb value is one).
ArrayRef<int64_t> shapeOf(Value value);
/// The channel count (dimension 1) of a feature-map value.
int64_t channelsOf(Value value);
/// Produces a diagnostic to which the caller streams its message.
using EmitErrorFn = llvm::function_ref<InFlightDiagnostic()>;

/// Ultralytics `autopad(k, None, d)`: padding that keeps the size at stride 1.
int64_t autopad(int64_t kernel, int64_t dilation);
/// EMO `ConvNormAct` padding: ⌈(k − stride)/2⌉ (dilation is not considered).
int64_t mmbPadding(int64_t kernel, int64_t stride);
/// PyTorch conv/pool output extent ⌊(in + 2p − d(k−1) − 1)/s⌋ + 1.
int64_t convOutputExtent(int64_t in, int64_t kernel, int64_t stride,
                         int64_t padding, int64_t dilation);

/// Conv-like layer: [N, outChannels, H', W'] with H', W' from
/// convOutputExtent; fails if a spatial extent would be < 1.
FailureOr<Shape> inferConvShape(ArrayRef<int64_t> input, int64_t outChannels,
                                int64_t kernel, int64_t stride, int64_t padding,
                                int64_t dilation, EmitErrorFn emitError);
/// Layer that keeps the spatial size and produces `outChannels` channels.
FailureOr<Shape> inferSamePlaneShape(ArrayRef<int64_t> input,
                                     int64_t outChannels,
                                     EmitErrorFn emitError);
/// Concatenation along `dim`; every other extent must agree.
FailureOr<Shape> inferConcatShape(ArrayRef<ArrayRef<int64_t>> inputs,
                                  int64_t dim, EmitErrorFn emitError);
/// Nearest upsampling by an integer factor.
FailureOr<Shape> inferUpsampleShape(ArrayRef<int64_t> input, int64_t scale,
                                    EmitErrorFn emitError);
/// Detect / v10Detect: [N, 4 + nc, Σ H_i·W_i]; batch sizes must agree.
FailureOr<Shape> inferDetectShape(ArrayRef<ArrayRef<int64_t>> inputs,
                                  int64_t nc, EmitErrorFn emitError);

/// Meta Mobile Block of configuration `config` from `input` to
/// `outChannels`: checks every channel invariant (dim_head, EMA groups,
/// expansion, SE width, inner residual) and returns the output shape, whose
/// spatial size follows the depthwise conv. Implemented in IRMBOps.cpp.
FailureOr<Shape> inferMMBShape(ArrayRef<int64_t> input, int64_t outChannels,
                               MMBConfigAttr config, EmitErrorFn emitError);

} // namespace irmb

#endif // IRMB_DIALECTS_IRMB_IR_SHAPEINFERENCE_H
