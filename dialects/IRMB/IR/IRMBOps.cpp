//===- IRMBOps.cpp - irmb op verifiers ------------------------------------===//
//
// Verifiers of the model-level ops, each checking the channel arithmetic of
// its module (the conditions under which the PyTorch module can be built and
// run) and that the result type equals the shape inferred by
// ShapeInference.h; the primitive ops' result-type inference
// (inferReturnTypes, checked by InferTypeOpInterface) and the invariants
// their types do not carry.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/NumberFormat.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace irmb;

#include "dialects/IRMB/IR/IRMBInterfaces.cpp.inc"
#define GET_OP_CLASSES
#include "dialects/IRMB/IR/IRMBOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The static shapes of several values.
static SmallVector<ArrayRef<int64_t>> shapesOf(ValueRange values) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : values)
    shapes.push_back(shapeOf(v));
  return shapes;
}

/// Compares the op's result shape with the inferred one.
static LogicalResult checkResultShape(Operation *op,
                                      FailureOr<Shape> inferred) {
  if (failed(inferred))
    return failure();
  ArrayRef<int64_t> actual = shapeOf(op->getResult(0));
  if (actual == ArrayRef<int64_t>(*inferred))
    return success();
  auto diag = op->emitOpError("result shape [");
  llvm::interleaveComma(actual, diag);
  diag << "] does not match the inferred shape [";
  llvm::interleaveComma(*inferred, diag);
  return diag << "]";
}

/// Checks that `channels` is divisible by `groups` for the named conv.
static LogicalResult checkDivisible(Operation *op, StringRef what,
                                    int64_t channels, int64_t groups) {
  if (groups > 0 && channels % groups == 0)
    return success();
  return op->emitOpError() << what << " (" << channels
                           << " channels) is not divisible by groups "
                           << groups;
}

//===----------------------------------------------------------------------===//
// Elementary layers
//===----------------------------------------------------------------------===//

/// Shared checks of irmb.conv and irmb.conv2d: channels divisible by the
/// groups and the convolution's output shape.
static LogicalResult verifyConvolution(Operation *op, Value input, Value output,
                                       int64_t kernel, int64_t stride,
                                       int64_t padding, int64_t dilation,
                                       int64_t groups) {
  int64_t cin = channelsOf(input), cout = channelsOf(output);
  if (failed(checkDivisible(op, "input", cin, groups)) ||
      failed(checkDivisible(op, "output", cout, groups)))
    return failure();
  return checkResultShape(
      op, inferConvShape(shapeOf(input), cout, kernel, stride, padding,
                         dilation, [&] { return op->emitOpError(); }));
}

LogicalResult ConvOp::verify() {
  return verifyConvolution(*this, getInput(), getOutput(), getKernel(),
                           getStride(), getPadding(), getDilation(),
                           getGroups());
}

LogicalResult ConcatOp::verify() {
  return checkResultShape(*this,
                          inferConcatShape(shapesOf(getInputs()), getDim(),
                                           [&] { return emitOpError(); }));
}

LogicalResult UpsampleOp::verify() {
  return checkResultShape(*this,
                          inferUpsampleShape(shapeOf(getInput()), getScale(),
                                             [&] { return emitOpError(); }));
}

//===----------------------------------------------------------------------===//
// CSP blocks
//===----------------------------------------------------------------------===//

LogicalResult C2fOp::verify() {
  int64_t c = getHidden();
  if (failed(checkDivisible(*this, "bottleneck width", c, getGroups())))
    return failure();
  if (std::optional<MMBConfigAttr> block = getBlock()) {
    Shape inner{shapeOf(getInput())[0], c, shapeOf(getInput())[2],
                shapeOf(getInput())[3]};
    FailureOr<Shape> out =
        inferMMBShape(inner, c, *block, [&] { return emitOpError(); });
    if (failed(out))
      return failure();
    if (ArrayRef<int64_t>(*out) != ArrayRef<int64_t>(inner))
      return emitOpError("the bottleneck's MMB must keep the feature map "
                         "size (stride 1, no shrinking dilation)");
  }
  return checkResultShape(
      *this, inferSamePlaneShape(shapeOf(getInput()), channelsOf(getOutput()),
                                 [&] { return emitOpError(); }));
}

LogicalResult C3k2Op::verify() {
  int64_t c = getHidden(), half = c / 2;
  if (half < 1)
    return emitOpError() << "hidden width " << c
                         << " leaves no channels for the inner blocks";
  if (failed(
          checkDivisible(*this, "inner bottleneck width", half, getGroups())) ||
      (!getC3k() &&
       failed(checkDivisible(*this, "bottleneck width", c, getGroups()))))
    return failure();
  return checkResultShape(
      *this, inferSamePlaneShape(shapeOf(getInput()), channelsOf(getOutput()),
                                 [&] { return emitOpError(); }));
}

LogicalResult C2fCIBOp::verify() {
  return checkResultShape(
      *this, inferSamePlaneShape(shapeOf(getInput()), channelsOf(getOutput()),
                                 [&] { return emitOpError(); }));
}

//===----------------------------------------------------------------------===//
// Down-sampling and pooling
//===----------------------------------------------------------------------===//

LogicalResult SCDownOp::verify() {
  return checkResultShape(
      *this, inferConvShape(shapeOf(getInput()), channelsOf(getOutput()),
                            getKernel(), getStride(), autopad(getKernel(), 1),
                            1, [&] { return emitOpError(); }));
}

LogicalResult SPPFOp::verify() {
  if (channelsOf(getInput()) / 2 < 1)
    return emitOpError("needs at least 2 input channels");
  if (getKernel() % 2 == 0)
    return emitOpError() << "max-pool kernel " << getKernel()
                         << " must be odd to keep the map size";
  return checkResultShape(
      *this, inferSamePlaneShape(shapeOf(getInput()), channelsOf(getOutput()),
                                 [&] { return emitOpError(); }));
}

//===----------------------------------------------------------------------===//
// Global attention blocks
//===----------------------------------------------------------------------===//

/// Shared checks of PSA and C2PSA: equal widths, and an Attention(hidden,
/// num_heads, 0.5) whose head and key widths are whole and non-zero.
static LogicalResult verifyPartialAttention(Operation *op, Value input,
                                            Value output, int64_t hidden,
                                            int64_t heads) {
  if (channelsOf(input) != channelsOf(output))
    return op->emitOpError()
           << "needs equal input and output widths, got " << channelsOf(input)
           << " and " << channelsOf(output);
  if (2 * hidden > channelsOf(input))
    return op->emitOpError()
           << "hidden width " << hidden << " exceeds half the input width";
  if (hidden % heads != 0)
    return op->emitOpError() << "attention width " << hidden
                             << " is not divisible by " << heads << " heads";
  if ((hidden / heads) / 2 < 1)
    return op->emitOpError() << "attention key width is zero (head width "
                             << hidden / heads << ")";
  return checkResultShape(
      op, inferSamePlaneShape(shapeOf(input), channelsOf(output),
                              [&] { return op->emitOpError(); }));
}

LogicalResult PSAOp::verify() {
  return verifyPartialAttention(*this, getInput(), getOutput(), getHidden(),
                                getNumHeads());
}

LogicalResult C2PSAOp::verify() {
  return verifyPartialAttention(*this, getInput(), getOutput(), getHidden(),
                                getNumHeads());
}

//===----------------------------------------------------------------------===//
// The Meta Mobile Block
//===----------------------------------------------------------------------===//

LogicalResult MMBOp::verify() {
  return checkResultShape(
      *this, inferMMBShape(shapeOf(getInput()), channelsOf(getOutput()),
                           getConfig(), [&] { return emitOpError(); }));
}

//===----------------------------------------------------------------------===//
// Detection heads
//===----------------------------------------------------------------------===//

/// One stride >= 1 per level (Detect, v10Detect, detect_decode).
static LogicalResult verifyDetectStrides(Operation *op, ValueRange inputs,
                                         ArrayRef<int64_t> strides) {
  if (strides.size() != inputs.size())
    return op->emitOpError() << "has " << inputs.size() << " levels but "
                             << strides.size() << " strides";
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }))
    return op->emitOpError("strides must be >= 1");
  return success();
}

/// Shared checks of Detect and v10Detect: the strides and the result shape.
static LogicalResult verifyDetectHead(Operation *op, ValueRange inputs,
                                      int64_t nc, ArrayRef<int64_t> strides) {
  if (failed(verifyDetectStrides(op, inputs, strides)))
    return failure();
  return checkResultShape(op, inferDetectShape(shapesOf(inputs), nc, [&] {
                            return op->emitOpError();
                          }));
}

LogicalResult DetectOp::verify() {
  return verifyDetectHead(*this, getInputs(), getNc(), getStrides());
}

LogicalResult V10DetectOp::verify() {
  return verifyDetectHead(*this, getInputs(), getNc(), getStrides());
}

//===----------------------------------------------------------------------===//
// Primitive ops
//===----------------------------------------------------------------------===//

/// A feature map of `shape` with the element type of `like`.
static RankedTensorType tensorLike(Value like, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(
      shape, cast<RankedTensorType>(like.getType()).getElementType());
}

/// An error at `location` for op `name` while inferring its result type,
/// or an inactive diagnostic when there is no location (a query).
static InFlightDiagnostic inferenceError(std::optional<Location> location,
                                         StringRef name) {
  if (!location)
    return InFlightDiagnostic();
  InFlightDiagnostic diag = mlir::emitError(*location);
  diag << "'" << name << "' op ";
  return diag;
}

LogicalResult Conv2dOp::verify() {
  if (getResidual() && shapeOf(getResidual()) != shapeOf(getOutput()))
    return emitOpError("the residual must have the result's shape");
  if (getInputNorm() && (getKernel() != 1 || getPadding() != 0))
    return emitOpError("an input_norm needs a 1x1 unpadded convolution (it "
                       "must fold exactly into the weights)");
  return verifyConvolution(*this, getInput(), getOutput(), getKernel(),
                           getStride(), getPadding(), getDilation(),
                           getGroups());
}

LogicalResult ProjectionOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> in = shapeOf(adaptor.getInput());
  int64_t total = 0;
  for (int64_t c : adaptor.getChannels())
    total += c;
  types.push_back(tensorLike(adaptor.getInput(), {in[0], total, in[2], in[3]}));
  return success();
}

LogicalResult ProjectionOp::verify() {
  size_t parts = getWeights().size();
  if (parts == 0 || getBiases().size() != parts || getActs().size() != parts ||
      getChannels().size() != parts)
    return emitOpError("needs as many biases, acts and channels as weights");
  for (int64_t c : getChannels())
    if (c <= 0)
      return emitOpError("channel counts must be positive");
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> in = shapeOf(adaptor.getInput());
  int64_t channels = static_cast<int64_t>(adaptor.getGroups()) *
                     static_cast<int64_t>(adaptor.getSize());
  types.push_back(
      tensorLike(adaptor.getInput(), {in[0], channels, in[2], in[3]}));
  return success();
}

LogicalResult SliceOp::verify() {
  int64_t c = channelsOf(getInput()), groups = getGroups();
  int64_t last = (groups - 1) * getPeriod() + getStart() + getSize();
  if (groups > 1 && getPeriod() < getStart() + getSize())
    return emitOpError() << "period " << getPeriod()
                         << " is shorter than start + size";
  if (last > c)
    return emitOpError() << "selects channels up to " << last
                         << " of an input with " << c;
  if (getView() && groups != 1)
    return emitOpError("only a contiguous slice (groups = 1) can be a view");
  return success();
}

LogicalResult CatOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  FailureOr<Shape> shape =
      inferConcatShape(shapesOf(adaptor.getInputs()), 1,
                       [&] { return inferenceError(location, "irmb.cat"); });
  if (failed(shape))
    return failure();
  types.push_back(tensorLike(adaptor.getInputs().front(), *shape));
  return success();
}

LogicalResult CatOp::verify() {
  if (getInPlace() && getInPlace()->size() != getInputs().size())
    return emitOpError("in_place needs one flag per input");
  return success();
}

LogicalResult PadOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getOutput());
  if (in[0] != out[0] || in[1] != out[1] || out[2] < in[2] || out[3] < in[3])
    return emitOpError("may only grow the height and width");
  return success();
}

LogicalResult CropOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getOutput());
  if (in[0] != out[0] || in[1] != out[1] || out[2] > in[2] || out[3] > in[3])
    return emitOpError("may only shrink the height and width");
  return success();
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Value x = adaptor.getInput();
  FailureOr<Shape> shape = inferConvShape(
      shapeOf(x), channelsOf(x), adaptor.getKernel(), adaptor.getStride(),
      adaptor.getPadding(), 1,
      [&] { return inferenceError(location, "irmb.max_pool"); });
  if (failed(shape))
    return failure();
  types.push_back(tensorLike(x, *shape));
  return success();
}

LogicalResult ResizeNearestOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Value x = adaptor.getInput();
  FailureOr<Shape> shape = inferUpsampleShape(
      shapeOf(x), adaptor.getScale(),
      [&] { return inferenceError(location, "irmb.resize_nearest"); });
  if (failed(shape))
    return failure();
  types.push_back(tensorLike(x, *shape));
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getValue().getType());
  return success();
}

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKeyMap()),
                    v = shapeOf(getValue());
  if (q != k)
    return emitOpError("query and key must have the same shape");
  if (q[0] != v[0] || q[2] != v[2] || q[3] != v[3])
    return emitOpError("value must have the query's batch and map size");
  int64_t heads = getHeads();
  if (failed(checkDivisible(*this, "query", q[1], heads)) ||
      failed(checkDivisible(*this, "value", v[1], heads)))
    return failure();
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError("scale must be positive");
  return success();
}

LogicalResult EMAOp::verify() {
  return checkDivisible(*this, "input", channelsOf(getInput()), getGroups());
}

LogicalResult DetectDecodeOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<Shape> shape = inferDetectShape(
      shapesOf(adaptor.getInputs()), adaptor.getNc(),
      [&] { return inferenceError(location, "irmb.detect_decode"); });
  if (failed(shape))
    return failure();
  types.push_back(tensorLike(adaptor.getInputs().front(), *shape));
  return success();
}

LogicalResult DetectDecodeOp::verify() {
  int64_t expected = 4 * getRegMax() + getNc();
  for (auto [i, v] : llvm::enumerate(getInputs()))
    if (channelsOf(v) != expected)
      return emitOpError() << "level " << i << " has " << channelsOf(v)
                           << " channels, expected 4·reg_max + nc = "
                           << expected;
  return verifyDetectStrides(*this, getInputs(), getStrides());
}
