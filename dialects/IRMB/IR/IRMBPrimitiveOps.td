//===- IRMBPrimitiveOps.td - irmb primitive-level ops ----*- tablegen -*-===//
//
// Primitive ops: what `irmb-decompose` turns the model-level ops into, and
// what fusion passes and code generation consume. Weights are named by their
// full state_dict key; every primitive has a direct kernel. Included by
// IRMBOps.td.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_PRIMITIVE_OPS_TD
#define IRMB_PRIMITIVE_OPS_TD

/// Marks the primitive ops (`op->hasTrait<irmb::PrimitiveOpTrait>()`):
/// what irmb-decompose's conversion target accepts, the ops an
/// `irmb.kernel` attribute may be on.
def IRMB_PrimitiveOpTrait : NativeOpTrait<"PrimitiveOpTrait"> {
  let cppNamespace = "::irmb";
}

/// Base of the primitive ops: pure, their result types inferred where the
/// operands and attributes determine them (SameOperandsAndResultType for the
/// element-wise ops, InferTypeOpAdaptor with inferReturnTypes in
/// IRMBOps.cpp for the rest; conv2d, pad and crop, whose result sizes are
/// not attributes, take theirs), the remaining invariants verified in C++.
class IRMB_PrimitiveOp<string mnemonic, list<Trait> traits = []>
    : Op<IRMB_Dialect, mnemonic,
         !listconcat(traits, [Pure, IRMB_PrimitiveOpTrait])> {
  let hasVerifier = 1;
  let results = (outs IRMB_FeatureMap:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

//===----------------------------------------------------------------------===//
// Convolution and normalisation
//===----------------------------------------------------------------------===//

def IRMB_Conv2dOp : IRMB_PrimitiveOp<"conv2d"> {
  let summary = "2-D convolution with optional input/output BatchNorm, "
                "activation and residual";
  let description = [{
    `act(BN(conv(BN_in(x), W) + b)) + r` with W = `weight` ([Cout, Cin/groups,
    k, k]), b = `bias` (optional), BN the eval-mode BatchNorm (eps 1e-3) whose
    parameters are `<norm>.weight|bias|running_mean|running_var` (optional),
    BN_in the same for `input_norm` (optional; only for 1×1 unpadded convs,
    where it folds exactly into W and b) and r the optional `residual`
    operand (result shape). `irmb-decompose` emits bare convolutions
    (act none, no norms, no residual); the fusion passes fill the rest in.

    ```mlir
    %1 = irmb.conv2d %0 {act = #irmb.act<silu>, dilation = 1 : i64,
           groups = 1 : i64, kernel = 3 : i64, norm = "model.0.bn",
           padding = 1 : i64, stride = 2 : i64, weight = "model.0.conv.weight"}
         : tensor<1x3x640x640xf32> -> tensor<1x16x320x320xf32>
    %3 = irmb.conv2d %2 residual(%0 : tensor<1x32x20x20xf32>) {act = #irmb.act<silu>,
           ...} : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input,
    Optional<IRMB_FeatureMap>:$residual, StrAttr:$weight,
    OptionalAttr<StrAttr>:$bias, OptionalAttr<StrAttr>:$norm,
    OptionalAttr<StrAttr>:$input_norm,
    IRMB_PositiveI64:$kernel, IRMB_PositiveI64:$stride,
    IRMB_NonNegativeI64:$padding, IRMB_PositiveI64:$dilation,
    IRMB_PositiveI64:$groups, IRMB_ActivationAttr:$act);
  let assemblyFormat = "$input (`residual` `(` $residual^ `:` type($residual) `)`)?"
    " attr-dict `:` type($input) `->` type($output)";
}

def IRMB_ProjectionOp : IRMB_PrimitiveOp<"projection", [InferTypeOpAdaptor]> {
  let summary = "sibling 1×1 convolutions of one input, merged into one";
  let description = [{
    The result is the channel concatenation of `act_i(conv1x1(BN_in(x),
    W_i) + b_i)` for the parts i, with W_i = `weights[i]`, b_i = `biases[i]`
    (an empty string: no bias), act_i = `acts[i]` and `channels[i]` output
    channels; BN_in is the optional `input_norm`. Made by
    `irmb-merge-projections` (the iRMB q/k and v projections) so the input
    is read once by one GEMM.

    ```mlir
    %qkv = irmb.projection %z {acts = [#irmb.act<none>, #irmb.act<relu>],
             biases = ["", ""], channels = array<i64: 512, 256>,
             weights = ["model.23.qk.conv.weight", "model.23.v.conv.weight"]}
           : tensor<1x256x20x20xf32> -> tensor<1x768x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrArrayAttr:$weights,
    StrArrayAttr:$biases, TypedArrayAttrBase<IRMB_ActivationAttr,
    "activation array">:$acts, DenseI64ArrayAttr:$channels,
    OptionalAttr<StrAttr>:$input_norm);
}

def IRMB_BatchNormOp : IRMB_PrimitiveOp<"batch_norm",
    [SameOperandsAndResultType]> {
  let hasVerifier = 0;
  let summary = "eval-mode BatchNorm2d (eps 1e-3) named by its prefix";
  let description = [{
    ```mlir
    %z = irmb.batch_norm %x {norm = "model.23.norm"}
         : tensor<1x256x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$norm);
}

def IRMB_ActivationOp : IRMB_PrimitiveOp<"activation",
    [SameOperandsAndResultType]> {
  let hasVerifier = 0;
  let summary = "element-wise activation";
  let description = [{
    ```mlir
    %y = irmb.activation %x {act = #irmb.act<silu>}
         : tensor<1x256x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, IRMB_ActivationAttr:$act);
}

def IRMB_AddOp : IRMB_PrimitiveOp<"add", [SameOperandsAndResultType]> {
  let hasVerifier = 0;
  let summary = "element-wise sum of two maps of one shape";
  let description = [{
    ```mlir
    %s = irmb.add %a, %b : tensor<1x32x80x80xf32>, tensor<1x32x80x80xf32>
         -> tensor<1x32x80x80xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$lhs, IRMB_FeatureMap:$rhs);
  let assemblyFormat =
    "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def IRMB_SliceOp : IRMB_PrimitiveOp<"slice", [InferTypeOpAdaptor]> {
  let summary = "channel slice, optionally repeated with a period";
  let description = [{
    Selects channels `g·period + start + i` for g < groups and i < size
    (groups = 1: one contiguous range). The grouped form picks q, k or v out
    of a head-major qkv map. `view` (set by `irmb-concat-in-place`, groups
    = 1 only): the result aliases the input's channels and copies nothing.

    ```mlir
    %q = irmb.slice %qkv {groups = 2 : i64, period = 128 : i64, size = 32 : i64,
           start = 0 : i64} : tensor<1x256x20x20xf32> -> tensor<1x64x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, IRMB_NonNegativeI64:$start,
    IRMB_PositiveI64:$size, IRMB_PositiveI64:$groups,
    IRMB_NonNegativeI64:$period, UnitAttr:$view);
}

def IRMB_CatOp : IRMB_PrimitiveOp<"cat", [InferTypeOpAdaptor]> {
  let summary = "channel concatenation";
  let description = [{
    `in_place[i]` (set by `irmb-concat-in-place`): input i is written by its
    producer straight into its channels of the result, so only the other
    inputs are copied.

    ```mlir
    %c = irmb.cat %a, %b : tensor<1x16x80x80xf32>, tensor<1x16x80x80xf32>
         -> tensor<1x32x80x80xf32>
    ```
  }];
  let arguments = (ins Variadic<IRMB_FeatureMap>:$inputs,
    OptionalAttr<DenseBoolArrayAttr>:$in_place);
  let assemblyFormat =
    "$inputs attr-dict `:` type($inputs) `->` type($output)";
}

def IRMB_PadOp : IRMB_PrimitiveOp<"pad"> {
  let summary = "zero padding at the bottom and right";
  let description = [{
    ```mlir
    %p = irmb.pad %z : tensor<1x256x20x20xf32> -> tensor<1x256x21x21xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input);
}

def IRMB_CropOp : IRMB_PrimitiveOp<"crop"> {
  let summary = "keeps the top-left window of the result's size";
  let description = [{
    ```mlir
    %c = irmb.crop %p : tensor<1x256x21x21xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input);
}

def IRMB_MaxPoolOp : IRMB_PrimitiveOp<"max_pool", [InferTypeOpAdaptor]> {
  let hasVerifier = 0;
  let summary = "2-D max pooling (padding with -inf)";
  let description = [{
    ```mlir
    %m = irmb.max_pool %y {kernel = 5 : i64, padding = 2 : i64, stride = 1 : i64}
         : tensor<1x128x20x20xf32> -> tensor<1x128x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, IRMB_PositiveI64:$kernel,
    IRMB_PositiveI64:$stride, IRMB_NonNegativeI64:$padding);
}

def IRMB_ResizeNearestOp : IRMB_PrimitiveOp<"resize_nearest",
    [InferTypeOpAdaptor]> {
  let hasVerifier = 0;
  let summary = "nearest-neighbour upsampling by an integer factor";
  let description = [{
    ```mlir
    %u = irmb.resize_nearest %x {scale = 2 : i64}
         : tensor<1x256x20x20xf32> -> tensor<1x256x40x40xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, IRMB_PositiveI64:$scale);
}

//===----------------------------------------------------------------------===//
// Token mixing
//===----------------------------------------------------------------------===//

def IRMB_AttentionOp : IRMB_PrimitiveOp<"attention", [InferTypeOpAdaptor]> {
  let summary = "multi-head softmax attention over (strided-grid) windows";
  let description = [{
    q and k are [B, heads·dk, H, W], v is [B, heads·dv, H, W], channels
    head-major. With `window` = 0 every position attends to every other;
    with `window` = s > 0 the maps are taken as zero-padded at the bottom
    and right to Hp × Wp, multiples of s, and the tokens are split into the
    iRMB strided grid: window (a, c) holds the pixels (i·Hp/s + a,
    j·Wp/s + c). Per head and window: `softmax(q kᵀ · scale) v` (padded
    tokens are zero keys and values that still count in the softmax). The
    result has v's layout and the unpadded size, i.e. the op is
    `crop(attention(pad(q), pad(k), pad(v)))`; `irmb-fuse-window-attention`
    removes explicit pad/crop ops around it.

    ```mlir
    %o = irmb.attention %q, %k, %v {heads = 32 : i64, scale = 0.35355339059327379 : f64,
           window = 7 : i64}
         : tensor<1x256x21x21xf32>, tensor<1x256x21x21xf32>, tensor<1x256x21x21xf32>
         -> tensor<1x256x21x21xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$query, IRMB_FeatureMap:$key_map,
    IRMB_FeatureMap:$value, IRMB_PositiveI64:$heads,
    IRMB_NonNegativeI64:$window, F64Attr:$scale);
  let assemblyFormat = "$query `,` $key_map `,` $value attr-dict `:` "
    "type($query) `,` type($key_map) `,` type($value) `->` type($output)";
}

def IRMB_EMAOp : IRMB_PrimitiveOp<"ema", [SameOperandsAndResultType]> {
  let summary = "EMA (efficient multi-scale attention) with shared group weights";
  let description = [{
    The EMA of Ouyang et al. with `groups` groups sharing the weights under
    `prefix` (`gn`, `conv1x1`, `conv3x3`), applied to `BN(x)` when `norm`
    names an input BatchNorm. `streaming` (set by `irmb-fuse-ema`): the
    kernel makes three passes over each group and never stores the x1 / x2
    maps.

    ```mlir
    %e = irmb.ema %z {groups = 32 : i64, prefix = "model.17.ema"}
         : tensor<1x64x80x80xf32> -> tensor<1x64x80x80xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$prefix,
    IRMB_PositiveI64:$groups, OptionalAttr<StrAttr>:$norm,
    UnitAttr:$streaming);
}

def IRMB_SqueezeExciteOp : IRMB_PrimitiveOp<"squeeze_excite",
    [SameOperandsAndResultType]> {
  let hasVerifier = 0;
  let summary = "timm SqueezeExcite: x · σ(expand(act(reduce(mean(x)))))";
  let description = [{
    ```mlir
    %s = irmb.squeeze_excite %d {act = #irmb.act<relu>, prefix = "model.3.se"}
         : tensor<1x64x80x80xf32> -> tensor<1x64x80x80xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$prefix,
    IRMB_ActivationAttr:$act);
}

//===----------------------------------------------------------------------===//
// Detection decoding
//===----------------------------------------------------------------------===//

def IRMB_DetectDecodeOp : IRMB_PrimitiveOp<"detect_decode",
    [InferTypeOpAdaptor]> {
  let summary = "DFL box decoding and sigmoid scores of a Detect head";
  let description = [{
    Inputs are the per-level head maps [B, 4·reg_max + nc, H_i, W_i] (box
    logits, then class logits). The result is [B, 4 + nc, A]: pixel cx, cy,
    w, h (DFL expectation with the `dfl` weight, anchors at cell centres,
    times `strides[i]`) then sigmoid scores.

    ```mlir
    %y = irmb.detect_decode %p3, %p4, %p5 {dfl = "model.23.dfl.conv.weight",
           nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16, 32>}
         : tensor<1x144x80x80xf32>, tensor<1x144x40x40xf32>, tensor<1x144x20x20xf32>
         -> tensor<1x84x8400xf32>
    ```
  }];
  let arguments = (ins Variadic<IRMB_FeatureMap>:$inputs, StrAttr:$dfl,
    IRMB_PositiveI64:$nc, IRMB_PositiveI64:$reg_max,
    DenseI64ArrayAttr:$strides);
  let results = (outs IRMB_Predictions:$output);
  let assemblyFormat =
    "$inputs attr-dict `:` type($inputs) `->` type($output)";
}

#endif // IRMB_PRIMITIVE_OPS_TD
