//===- IRMBAttrs.td - irmb attributes --------------------*- tablegen -*-===//
//
// Attributes of the irmb dialect: the enum attributes (`#irmb.act`,
// `#irmb.cls_head`, `#irmb.kernel`) and `#irmb.mmb`, the
// full configuration of a Meta Mobile Block (expansion ratio λ, operator F and
// the rest of the EMO iRMB constructor), shared by `irmb.mmb` and by C2f
// blocks whose bottleneck carries an MMB (C2f_iRMB).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_ATTRS_TD
#define IRMB_ATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "dialects/IRMB/IR/IRMBDialect.td"
include "dialects/IRMB/IR/IRMBEnums.td"

def IRMB_ActivationAttr : EnumAttr<IRMB_Dialect, IRMB_Activation, "act"> {
  let assemblyFormat = "`<` $value `>`";
}
def IRMB_ClsHeadAttr : EnumAttr<IRMB_Dialect, IRMB_ClsHead, "cls_head"> {
  let assemblyFormat = "`<` $value `>`";
}
def IRMB_KernelAttr : EnumAttr<IRMB_Dialect, IRMB_Kernel, "kernel"> {
  let summary = "the kernel a primitive op runs on";
  let description = [{
    Written by irmb-select-kernels as the discardable attribute
    `irmb.kernel` of every primitive op and read by both code generators:
    `irmb.kernel = #irmb.kernel<winograd_f4>`. The dialect verifies that
    the op can run on it (KernelChoice.h: a Winograd kernel only on a 3×3
    stride-1 convolution, `view` only on a slice view, ...).
  }];
  let assemblyFormat = "`<` $value `>`";
}

/// A real-valued parameter (an IEEE double) printed in its shortest exact
/// form, e.g. `1.0` or `0.25`.
class IRMB_DoubleParameter<string desc> : APFloatParameter<desc> {
  let parser = "::irmb::parseDoubleParameter($_parser)";
  let printer = "::irmb::printDoubleParameter($_printer, $_self)";
}

/// A `bool` parameter printed as `true` / `false`.
class IRMB_BoolParameter<string desc> : AttrParameter<"bool", desc> {
  let parser = "::irmb::parseBoolParameter($_parser)";
  let printer = "$_printer << ($_self ? \"true\" : \"false\")";
}

def IRMB_MMBConfigAttr : AttrDef<IRMB_Dialect, "MMBConfig"> {
  let mnemonic = "mmb";
  let summary = "configuration of a Meta Mobile Block (λ, F and options)";
  let description = [{
    The Meta Mobile Block of the EMO paper: `x -> [norm] -> F -> expand (λ) ->
    depthwise conv + BN + SiLU (+ inner residual) [+ SE] -> project [+ skip]`.
    The parameters mirror the EMO `iRMB` constructor after Ultralytics'
    parse_model resolved them:

    | parameter  | meaning |
    |------------|---------|
    | exp_ratio  | λ, dim_mid = int(dim_in · λ) (> 0) |
    | op         | F: `window_attention` (iRMB), `dwconv` (IRB, attn_s = False), `ema` (iEMA), `none` (FFN, no depthwise conv) |
    | window     | attention window side; 0 = the whole map is one window (window_attention, else 0) |
    | dim_head   | channels per attention head (window_attention, else 0) |
    | attn_pre   | apply the attention before the value projection (window_attention) |
    | groups     | EMA groups, the EMA "factor" (ema, else 0) |
    | se_ratio   | squeeze-excite reduction ratio, 0 = no SE |
    | dw_ks, stride, dilation | the depthwise conv |
    | act        | activation of the value projection |
    | norm_in    | BatchNorm on the input |
    | has_skip   | requested outer residual (effective only when dim_in == dim_out and stride == 1) |
    | v_proj, qkv_bias, v_group | value projection present (always with attention) / biased / grouped by head (window_attention) |

    Example (the seed iRMB with defaults):

    ```mlir
    #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8,
              attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1,
              dilation = 1, act = relu, norm_in = true, has_skip = true,
              v_proj = true, qkv_bias = false, v_group = false>
    ```
  }];
  let parameters = (ins
    IRMB_DoubleParameter<"expansion ratio λ">:$exp_ratio,
    EnumParameter<IRMB_OperatorF>:$op,
    "int64_t":$window,
    "int64_t":$dim_head,
    IRMB_BoolParameter<"attention before the value projection">:$attn_pre,
    "int64_t":$groups,
    IRMB_DoubleParameter<"squeeze-excite ratio">:$se_ratio,
    "int64_t":$dw_ks,
    "int64_t":$stride,
    "int64_t":$dilation,
    EnumParameter<IRMB_Activation>:$act,
    IRMB_BoolParameter<"input BatchNorm">:$norm_in,
    IRMB_BoolParameter<"outer residual requested">:$has_skip,
    IRMB_BoolParameter<"value projection">:$v_proj,
    IRMB_BoolParameter<"bias on q/k/v projections">:$qkv_bias,
    IRMB_BoolParameter<"value projection grouped by head">:$v_group
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// λ as a double.
    double getExpansion() const { return getExpRatio().convertToDouble(); }
    /// The squeeze-excite ratio as a double.
    double getSqueezeRatio() const { return getSeRatio().convertToDouble(); }
    /// dim_mid = int(dim_in · λ), as Python computes it.
    int64_t getMidChannels(int64_t dimIn) const;
    /// Channels of the squeeze-excite bottleneck (0 when there is no SE).
    int64_t getSEChannels(int64_t dimMid) const;
    /// True when F mixes tokens with attention (window_attention).
    bool hasAttention() const { return getOp() == OperatorF::window_attention; }
  }];
}

#endif // IRMB_ATTRS_TD
