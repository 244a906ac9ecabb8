//===- ShapeInference.cpp - shared output-shape arithmetic ----------------===//
//
// Implements ShapeInference.h: the size formulas of PyTorch convolution,
// pooling, concatenation and upsampling as Ultralytics modules use them.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/ShapeInference.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/NumberFormat.h"

using namespace mlir;
using namespace irmb;

int64_t irmb::autopad(int64_t kernel, int64_t dilation) {
  int64_t effective = dilation > 1 ? dilation * (kernel - 1) + 1 : kernel;
  return effective / 2;
}

int64_t irmb::mmbPadding(int64_t kernel, int64_t stride) {
  int64_t diff = kernel - stride;
  // Python math.ceil(diff / 2) for either sign.
  return diff >= 0 ? (diff + 1) / 2 : -((-diff) / 2);
}

int64_t irmb::convOutputExtent(int64_t in, int64_t kernel, int64_t stride,
                                     int64_t padding, int64_t dilation) {
  int64_t span = in + 2 * padding - dilation * (kernel - 1) - 1;
  if (span < 0)
    return 0;
  return span / stride + 1;
}

/// Checks that `shape` is a rank-4 shape with positive extents.
static LogicalResult checkFeatureMap(ArrayRef<int64_t> shape,
                                     EmitErrorFn emitError) {
  if (shape.size() != 4)
    return emitError() << "expected a rank-4 NCHW feature map, got rank "
                       << shape.size();
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "feature map extents must be static and positive";
  return success();
}

FailureOr<Shape> irmb::inferConvShape(ArrayRef<int64_t> input,
                                            int64_t outChannels, int64_t kernel,
                                            int64_t stride, int64_t padding,
                                            int64_t dilation,
                                            EmitErrorFn emitError) {
  if (failed(checkFeatureMap(input, emitError)))
    return failure();
  int64_t h = convOutputExtent(input[2], kernel, stride, padding, dilation);
  int64_t w = convOutputExtent(input[3], kernel, stride, padding, dilation);
  if (h < 1 || w < 1)
    return emitError() << "a " << kernel << "x" << kernel << " window (stride "
                       << stride << ", padding " << padding << ", dilation "
                       << dilation << ") does not fit the " << input[2] << "x"
                       << input[3] << " input";
  return Shape{input[0], outChannels, h, w};
}

FailureOr<Shape> irmb::inferSamePlaneShape(ArrayRef<int64_t> input,
                                                 int64_t outChannels,
                                                 EmitErrorFn emitError) {
  if (failed(checkFeatureMap(input, emitError)))
    return failure();
  return Shape{input[0], outChannels, input[2], input[3]};
}

FailureOr<Shape>
irmb::inferConcatShape(ArrayRef<ArrayRef<int64_t>> inputs, int64_t dim,
                             EmitErrorFn emitError) {
  if (inputs.empty())
    return emitError() << "needs at least one input";
  for (ArrayRef<int64_t> in : inputs)
    if (failed(checkFeatureMap(in, emitError)))
      return failure();
  Shape result(inputs.front().begin(), inputs.front().end());
  result[dim] = 0;
  for (auto [i, in] : llvm::enumerate(inputs)) {
    for (int64_t d = 0; d < 4; ++d) {
      if (d == dim || in[d] == result[d])
        continue;
      static const char *names[] = {"batch", "channel", "height", "width"};
      return emitError() << "input " << i << " has " << names[d] << " " << in[d]
                         << " but input 0 has " << result[d]
                         << " (inputs must agree outside dimension " << dim
                         << ")";
    }
    result[dim] += in[dim];
  }
  return result;
}

FailureOr<Shape> irmb::inferUpsampleShape(ArrayRef<int64_t> input,
                                                int64_t scale,
                                                EmitErrorFn emitError) {
  if (failed(checkFeatureMap(input, emitError)))
    return failure();
  return Shape{input[0], input[1], input[2] * scale, input[3] * scale};
}

FailureOr<Shape>
irmb::inferDetectShape(ArrayRef<ArrayRef<int64_t>> inputs, int64_t nc,
                             EmitErrorFn emitError) {
  if (inputs.empty())
    return emitError() << "needs at least one feature level";
  int64_t anchors = 0;
  for (auto [i, in] : llvm::enumerate(inputs)) {
    if (failed(checkFeatureMap(in, emitError)))
      return failure();
    if (in[0] != inputs.front()[0])
      return emitError() << "level " << i << " has batch " << in[0]
                         << " but level 0 has " << inputs.front()[0];
    anchors += in[2] * in[3];
  }
  return Shape{inputs.front()[0], 4 + nc, anchors};
}

ArrayRef<int64_t> irmb::shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

int64_t irmb::channelsOf(Value value) { return shapeOf(value)[1]; }

FailureOr<Shape> irmb::inferMMBShape(ArrayRef<int64_t> input,
                                           int64_t outChannels,
                                           MMBConfigAttr config,
                                           EmitErrorFn emitError) {
  FailureOr<Shape> same = inferSamePlaneShape(input, outChannels, emitError);
  if (failed(same))
    return failure();
  int64_t dimIn = input[1], dimMid = config.getMidChannels(dimIn);
  if (dimMid < 1)
    return emitError() << "expansion ratio "
                       << formatShortestDouble(config.getExpansion())
                       << " gives no channels for width " << dimIn;
  switch (config.getOp()) {
  case OperatorF::window_attention: {
    int64_t dh = config.getDimHead();
    if (dimIn % dh != 0)
      return emitError() << "width " << dimIn
                         << " is not divisible by dim_head " << dh;
    int64_t heads = dimIn / dh;
    if (dimMid % heads != 0)
      return emitError() << "expanded width " << dimMid
                         << " is not divisible by the " << heads << " heads";
    break;
  }
  case OperatorF::ema:
    if (dimMid != dimIn)
      return emitError() << "ema needs expansion ratio 1 (the EMA output "
                            "feeds the depthwise conv), got width "
                         << dimMid << " for " << dimIn;
    if (dimIn % config.getGroups() != 0)
      return emitError() << "width " << dimIn << " is not divisible by the "
                         << config.getGroups() << " EMA groups";
    break;
  case OperatorF::dwconv:
  case OperatorF::none:
    if (!config.getVProj() && dimMid != dimIn)
      return emitError() << "without v_proj the expansion ratio must be 1";
    break;
  }
  if (config.getSqueezeRatio() > 0.0 && config.getSEChannels(dimMid) < 1)
    return emitError() << "se_ratio "
                       << formatShortestDouble(config.getSqueezeRatio())
                       << " gives a squeeze-excite width of 0";
  if (config.getOp() == OperatorF::none)
    return same;
  int64_t pad = mmbPadding(config.getDwKs(), config.getStride());
  FailureOr<Shape> out =
      inferConvShape(input, outChannels, config.getDwKs(), config.getStride(),
                     pad, config.getDilation(), emitError);
  if (failed(out))
    return failure();
  bool skip =
      config.getHasSkip() && dimIn == outChannels && config.getStride() == 1;
  if (skip && ((*out)[2] != input[2] || (*out)[3] != input[3]))
    return emitError() << "the residual needs the depthwise conv to keep the "
                          "map size, but dilation "
                       << config.getDilation() << " shrinks it";
  return out;
}
