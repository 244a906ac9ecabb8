//===- IRMBEnums.td - irmb enumerations ------------------*- tablegen -*-===//
//
// Enumerations used by irmb attributes: activations, the Meta Mobile Block
// operator F, and the form of the Detect classification branch.
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
  let cppNamespace = "::mlir::irmb";
  let genSpecializedAttr = 0;
}

def IRMB_OperatorF : I32EnumAttr<"OperatorF",
    "the spatial operator F of a Meta Mobile Block", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"dwconv", 1>,
    I32EnumAttrCase<"window_attention", 2>,
    I32EnumAttrCase<"ema", 3>]> {
  let cppNamespace = "::mlir::irmb";
  let genSpecializedAttr = 0;
}

def IRMB_ClsHead : I32EnumAttr<"ClsHead",
    "form of the Detect classification branch", [
    I32EnumAttrCase<"legacy", 0>,
    I32EnumAttrCase<"depthwise", 1>]> {
  let cppNamespace = "::mlir::irmb";
  let genSpecializedAttr = 0;
}

#endif // IRMB_ENUMS_TD
