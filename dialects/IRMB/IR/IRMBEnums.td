//===- IRMBEnums.td - irmb enumerations ------------------*- tablegen -*-===//
//
// Enumerations used by irmb attributes: activations, the Meta Mobile Block
// operator F, the form of the Detect classification branch, and the kernel
// a primitive op runs on.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_ENUMS_TD
#define IRMB_ENUMS_TD

include "mlir/IR/EnumAttr.td"

def IRMB_Activation : I32EnumAttr<"Activation", "element-wise activation", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"relu", 1>,
    I32EnumAttrCase<"relu6", 2>,
    I32EnumAttrCase<"silu", 3>]> {
  let cppNamespace = "::irmb";
  let genSpecializedAttr = 0;
}

def IRMB_OperatorF : I32EnumAttr<"OperatorF",
    "the spatial operator F of a Meta Mobile Block", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"dwconv", 1>,
    I32EnumAttrCase<"window_attention", 2>,
    I32EnumAttrCase<"ema", 3>]> {
  let cppNamespace = "::irmb";
  let genSpecializedAttr = 0;
}

def IRMB_ClsHead : I32EnumAttr<"ClsHead",
    "form of the Detect classification branch", [
    I32EnumAttrCase<"legacy", 0>,
    I32EnumAttrCase<"depthwise", 1>]> {
  let cppNamespace = "::irmb";
  let genSpecializedAttr = 0;
}

def IRMB_Kernel : I32EnumAttr<"Kernel",
    "the kernel a primitive op runs on (irmb-select-kernels)", [
    // irmb.conv2d
    I32EnumAttrCase<"depthwise", 0>,
    I32EnumAttrCase<"gemm", 1>,
    I32EnumAttrCase<"im2col_gemm", 2>,
    I32EnumAttrCase<"winograd_f2", 3>,
    I32EnumAttrCase<"winograd_f4", 4>,
    I32EnumAttrCase<"direct_s2", 5>,
    // one kernel (or two forms) per other primitive op
    I32EnumAttrCase<"channel_affine", 6>,
    I32EnumAttrCase<"activation", 7>,
    I32EnumAttrCase<"add", 8>,
    I32EnumAttrCase<"view", 9>,
    I32EnumAttrCase<"slice_copy", 10>,
    I32EnumAttrCase<"concat_in_place", 11>,
    I32EnumAttrCase<"concat_copy", 12>,
    I32EnumAttrCase<"projection", 13>,
    I32EnumAttrCase<"pad", 14>,
    I32EnumAttrCase<"crop", 15>,
    I32EnumAttrCase<"max_pool", 16>,
    I32EnumAttrCase<"resize_nearest", 17>,
    I32EnumAttrCase<"window_attention", 18>,
    I32EnumAttrCase<"global_attention", 19>,
    I32EnumAttrCase<"ema", 20>,
    I32EnumAttrCase<"ema_streaming", 21>,
    I32EnumAttrCase<"squeeze_excite", 22>,
    I32EnumAttrCase<"detect_decode", 23>]> {
  let cppNamespace = "::irmb";
  let genSpecializedAttr = 0;
}

#endif // IRMB_ENUMS_TD
