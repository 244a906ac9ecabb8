//===- IRMBDialect.td - the irmb dialect definition ------*- tablegen -*-===//
//
// The `irmb` dialect models Ultralytics YOLO networks at three levels (model,
// primitive, fused). This file holds only the dialect record; ops, enums,
// attributes and interfaces live in their own .td files.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECT_TD
#define IRMB_DIALECT_TD

include "mlir/IR/OpBase.td"

def IRMB_Dialect : Dialect {
  let name = "irmb";
  let cppNamespace = "::irmb";
  let summary = "Ultralytics YOLO models and the Meta Mobile Block family";
  let description = [{
    Model-level ops stand one-to-one for the modules of an Ultralytics model
    YAML (Conv, C2f, C3k2, SCDown, SPPF, PSA, C2PSA, C2fCIB, Detect,
    v10Detect, ...). The Meta Mobile Block (iRMB, the inner block of C2f_iRMB,
    iEMA) is one op, `irmb.mmb`, parameterised by its expansion ratio and its
    spatial operator F. Every op names its parameters by the Ultralytics
    state_dict prefix in its `key` attribute. Discardable attributes:
    `irmb.source` and `irmb.scale` on the module (the model file and its
    scale letter) and `irmb.kernel` (`#irmb.kernel<...>`), the kernel
    irmb-select-kernels chose for a primitive op; the dialect verifies that
    it fits the op.
  }];
  let hasOperationAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // IRMB_DIALECT_TD
