//===- IRMBOps.td - irmb model-level ops -----------------*- tablegen -*-===//
//
// Model-level ops: one op per Ultralytics YAML module. Each takes NCHW feature
// maps with static shapes, carries the module's resolved constructor
// arguments as attributes and its state_dict prefix as `key`. Invariants that
// ODS cannot state (channel arithmetic, output shapes) are checked by C++
// verifiers that share ShapeInference.h with the frontend and the passes.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_OPS_TD
#define IRMB_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "dialects/IRMB/IR/IRMBDialect.td"
include "dialects/IRMB/IR/IRMBAttrs.td"
include "dialects/IRMB/IR/IRMBInterfaces.td"

//===----------------------------------------------------------------------===//
// Shared constraints and the base class
//===----------------------------------------------------------------------===//

def IRMB_FeatureMap : 4DTensorOf<[AnyFloat]>;
def IRMB_Predictions : 3DTensorOf<[AnyFloat]>;
def IRMB_PositiveI64 : ConfinedAttr<I64Attr, [IntPositive]>;
def IRMB_NonNegativeI64 : ConfinedAttr<I64Attr, [IntNonNegative]>;

/// Base of every model-level op: pure, verified in C++, one result, and a
/// LayerOpInterface implementation (describeLayer in LayerDescription.cpp).
class IRMB_LayerOp<string mnemonic, list<Trait> traits = []>
    : Op<IRMB_Dialect, mnemonic, !listconcat(traits, [Pure,
          DeclareOpInterfaceMethods<IRMB_LayerOpInterface, ["describeLayer"]>])> {
  let hasVerifier = 1;
  let results = (outs IRMB_FeatureMap:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

//===----------------------------------------------------------------------===//
// Elementary layers: Conv, Concat, Upsample
//===----------------------------------------------------------------------===//

def IRMB_ConvOp : IRMB_LayerOp<"conv"> {
  let summary = "Ultralytics Conv / DWConv: conv2d + BatchNorm + activation";
  let description = [{
    `act(BN(conv2d(x, k, stride, padding, groups, dilation)))` with the conv
    weight at `<key>.conv.weight` and the norm at `<key>.bn.*` (a fused
    checkpoint has `<key>.conv.bias` instead of the norm). `padding` is the
    resolved autopad value.

    ```mlir
    %1 = irmb.conv %0 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64,
           kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 2 : i64}
         : tensor<1x3x640x640xf32> -> tensor<1x16x320x320xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$kernel, IRMB_PositiveI64:$stride,
    IRMB_NonNegativeI64:$padding, IRMB_PositiveI64:$groups,
    IRMB_PositiveI64:$dilation, IRMB_ActivationAttr:$act);
}

def IRMB_ConcatOp : IRMB_LayerOp<"concat"> {
  let summary = "Concat: concatenation in the order of the YAML `from` list";
  let description = [{
    Concatenates its operands along `dim` (1 = channels, the only use in
    Ultralytics models). All other dimensions must agree.

    ```mlir
    %12 = irmb.concat %11, %6 {dim = 1 : i64, key = "model.12"}
          : tensor<1x256x40x40xf32>, tensor<1x128x40x40xf32> -> tensor<1x384x40x40xf32>
    ```
  }];
  let arguments = (ins Variadic<IRMB_FeatureMap>:$inputs, StrAttr:$key,
    ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<3>]>:$dim);
  let assemblyFormat =
    "$inputs attr-dict `:` type($inputs) `->` type($output)";
}

def IRMB_UpsampleOp : IRMB_LayerOp<"upsample"> {
  let summary = "nn.Upsample(None, scale, 'nearest')";
  let description = [{
    Nearest-neighbour upsampling by an integer factor:
    `out[y, x] = in[y / scale, x / scale]`.

    ```mlir
    %11 = irmb.upsample %10 {key = "model.11", scale = 2 : i64}
          : tensor<1x256x20x20xf32> -> tensor<1x256x40x40xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$scale);
}

//===----------------------------------------------------------------------===//
// CSP blocks: C2f (+ C2f_iRMB), C3k2, C2fCIB
//===----------------------------------------------------------------------===//

def IRMB_C2fOp : IRMB_LayerOp<"c2f"> {
  let summary = "C2f, and C2f_iRMB when `block` carries an MMB";
  let description = [{
    `cv1` (1×1) to 2·hidden channels, split in two halves, `n` bottlenecks
    chained on the second half, `cv2` (1×1) over the concatenation of all
    (2 + n) pieces. Each bottleneck is `Conv 3×3 → Conv 3×3 (groups)` with a
    residual when `shortcut`. When `block` is present the bottleneck also runs
    a Meta Mobile Block of that configuration after its second conv (the seed's
    C2f_iRMB, state_dict `m.<j>.iRMB.*`).

    ```mlir
    %4 = irmb.c2f %3 {groups = 1 : i64, hidden = 32 : i64, key = "model.4",
           n = 2 : i64, shortcut = true}
         : tensor<1x64x80x80xf32> -> tensor<1x64x80x80xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$n, BoolAttr:$shortcut, IRMB_PositiveI64:$hidden,
    IRMB_PositiveI64:$groups, OptionalAttr<IRMB_MMBConfigAttr>:$block);
}

def IRMB_C3k2Op : IRMB_LayerOp<"c3k2"> {
  let summary = "C3k2 (YOLO11): C2f whose inner blocks are Bottlenecks or C3k";
  let description = [{
    The C2f data flow with `n` inner blocks of width `hidden`: when `c3k` each
    is a C3k (two 1×1 branches of width hidden/2, two 3×3 bottlenecks, a 1×1
    merge), otherwise a Bottleneck with expansion 0.5.

    ```mlir
    %2 = irmb.c3k2 %1 {c3k = false, groups = 1 : i64, hidden = 16 : i64,
           key = "model.2", n = 1 : i64, shortcut = true}
         : tensor<1x32x160x160xf32> -> tensor<1x64x160x160xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$n, BoolAttr:$c3k, BoolAttr:$shortcut,
    IRMB_PositiveI64:$hidden, IRMB_PositiveI64:$groups);
}

def IRMB_C2fCIBOp : IRMB_LayerOp<"c2f_cib"> {
  let summary = "C2fCIB (YOLOv10): C2f with compact inverted blocks";
  let description = [{
    The C2f data flow with `n` CIBs of width `hidden`: DW 3×3, 1×1 to
    2·hidden, DW 3×3 (or RepVGGDW 7×7 + 3×3 when `lk`), 1×1, DW 3×3, with a
    residual when `shortcut`.

    ```mlir
    %22 = irmb.c2f_cib %21 {hidden = 128 : i64, key = "model.22", lk = true,
            n = 1 : i64, shortcut = true}
          : tensor<1x384x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$n, BoolAttr:$shortcut, BoolAttr:$lk,
    IRMB_PositiveI64:$hidden);
}

//===----------------------------------------------------------------------===//
// Down-sampling and pooling: SCDown, SPPF
//===----------------------------------------------------------------------===//

def IRMB_SCDownOp : IRMB_LayerOp<"scdown"> {
  let summary = "SCDown (YOLOv10): 1×1 Conv then depth-wise k×k Conv, stride s";
  let description = [{
    ```mlir
    %5 = irmb.scdown %4 {kernel = 3 : i64, key = "model.5", stride = 2 : i64}
         : tensor<1x64x80x80xf32> -> tensor<1x128x40x40xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$kernel, IRMB_PositiveI64:$stride);
}

def IRMB_SPPFOp : IRMB_LayerOp<"sppf"> {
  let summary = "SPPF: 1×1 Conv, three chained k×k max-pools, 1×1 Conv";
  let description = [{
    ```mlir
    %9 = irmb.sppf %8 {kernel = 5 : i64, key = "model.9"}
         : tensor<1x256x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$kernel);
}

//===----------------------------------------------------------------------===//
// Global attention blocks: PSA, C2PSA
//===----------------------------------------------------------------------===//

def IRMB_PSAOp : IRMB_LayerOp<"psa"> {
  let summary = "PSA (YOLOv10): partial self-attention over half the channels";
  let description = [{
    `cv1` splits into (a, b) of `hidden` channels each; b gets multi-head
    attention (`num_heads` heads, key dim = head dim / 2, positional DW 3×3 on
    v) and an FFN, each with a residual; `cv2` merges. Input and output widths
    are equal.

    ```mlir
    %10 = irmb.psa %9 {hidden = 128 : i64, key = "model.10", num_heads = 2 : i64}
          : tensor<1x256x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$hidden, IRMB_PositiveI64:$num_heads);
}

def IRMB_C2PSAOp : IRMB_LayerOp<"c2psa"> {
  let summary = "C2PSA (YOLO11): PSA with `n` chained PSABlocks";
  let description = [{
    ```mlir
    %10 = irmb.c2psa %9 {hidden = 128 : i64, key = "model.10", n = 1 : i64,
            num_heads = 2 : i64}
          : tensor<1x256x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_PositiveI64:$n, IRMB_PositiveI64:$hidden,
    IRMB_PositiveI64:$num_heads);
}

//===----------------------------------------------------------------------===//
// The Meta Mobile Block
//===----------------------------------------------------------------------===//

def IRMB_MMBOp : IRMB_LayerOp<"mmb"> {
  let summary = "Meta Mobile Block (iRMB, IRB, iEMA) of expansion λ and operator F";
  let description = [{
    One op for the whole EMO family; `config` holds λ, F and the options
    (see `#irmb.mmb`). With F = window_attention it is the seed's iRMB, with
    F = ema the iEMA, with F = dwconv the inverted residual block. The output
    width is the result's channel count (dim_out); the spatial size follows
    the depthwise conv's stride.

    ```mlir
    %23 = irmb.mmb %22 {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention,
            window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0,
            dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true,
            has_skip = true, v_proj = true, qkv_bias = false, v_group = false>,
            key = "model.23"}
          : tensor<1x256x20x20xf32> -> tensor<1x256x20x20xf32>
    ```
  }];
  let arguments = (ins IRMB_FeatureMap:$input, StrAttr:$key,
    IRMB_MMBConfigAttr:$config);
}

//===----------------------------------------------------------------------===//
// Detection heads: Detect, v10Detect
//===----------------------------------------------------------------------===//

def IRMB_DetectOp : IRMB_LayerOp<"detect"> {
  let summary = "Detect head: per-level box/class branches, DFL, decoded boxes";
  let description = [{
    For each level i: box branch (two 3×3 Convs, 1×1 conv to 4·reg_max) and
    class branch (`legacy`: two 3×3 Convs; `depthwise`: DW 3×3 + 1×1 twice;
    then a 1×1 conv to nc). The result is `[B, 4 + nc, A]`: pixel cx, cy, w, h
    (DFL expectation, anchors at cell centres, times `strides[i]`) then sigmoid
    class scores, anchors ordered level by level, row-major.

    ```mlir
    %22 = irmb.detect %15, %18, %21 {cls_head = #irmb.cls_head<legacy>,
            key = "model.22", nc = 80 : i64, reg_max = 16 : i64,
            strides = array<i64: 8, 16, 32>}
          : tensor<1x64x80x80xf32>, tensor<1x128x40x40xf32>, tensor<1x256x20x20xf32>
          -> tensor<1x84x8400xf32>
    ```
  }];
  let arguments = (ins Variadic<IRMB_FeatureMap>:$inputs, StrAttr:$key,
    IRMB_PositiveI64:$nc, IRMB_PositiveI64:$reg_max,
    DenseI64ArrayAttr:$strides, IRMB_ClsHeadAttr:$cls_head);
  let results = (outs IRMB_Predictions:$output);
  let assemblyFormat =
    "$inputs attr-dict `:` type($inputs) `->` type($output)";
}

def IRMB_V10DetectOp : IRMB_LayerOp<"v10_detect"> {
  let summary = "v10Detect head (YOLOv10): the one2one branch, decoded";
  let description = [{
    A Detect with the depth-wise class branch plus a one2one copy of both
    branches (`one2one_cv2`, `one2one_cv3`). Inference uses only the one2one
    branch; the result is its decoded `[B, 4 + nc, A]` prediction (the
    two-stage top-k runs after the network).

    ```mlir
    %23 = irmb.v10_detect %16, %19, %22 {key = "model.23", nc = 80 : i64,
            reg_max = 16 : i64, strides = array<i64: 8, 16, 32>}
          : tensor<1x64x80x80xf32>, tensor<1x128x40x40xf32>, tensor<1x256x20x20xf32>
          -> tensor<1x84x8400xf32>
    ```
  }];
  let arguments = (ins Variadic<IRMB_FeatureMap>:$inputs, StrAttr:$key,
    IRMB_PositiveI64:$nc, IRMB_PositiveI64:$reg_max,
    DenseI64ArrayAttr:$strides);
  let results = (outs IRMB_Predictions:$output);
  let assemblyFormat =
    "$inputs attr-dict `:` type($inputs) `->` type($output)";
}

include "dialects/IRMB/IR/IRMBPrimitiveOps.td"

#endif // IRMB_OPS_TD
