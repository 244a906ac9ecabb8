//===- IRMBInterfaces.td - irmb op interfaces ------------*- tablegen -*-===//
//
// `LayerOpInterface` is implemented by every model-level op: it exposes the
// op's Ultralytics state_dict entries and the multiply-adds of its deployed
// (fused) form, so the summary, the weight loader and later passes work on
// the interface instead of on lists of ops.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_INTERFACES_TD
#define IRMB_INTERFACES_TD

include "mlir/IR/OpBase.td"

def IRMB_LayerOpInterface : OpInterface<"LayerOpInterface"> {
  let cppNamespace = "::irmb";
  let description = [{
    An op standing for one layer (one YAML module) of an Ultralytics model.
    Its parameters are named by the state_dict prefix in `key` (for example
    `model.23`); `describeLayer` lists every state_dict entry below that
    prefix, in Ultralytics' order, and the multiply-adds of the deployed model.
  }];
  let methods = [
    InterfaceMethod<
      "The state_dict prefix of this layer, e.g. `model.4`.",
      "::llvm::StringRef", "getKey">,
    InterfaceMethod<[{
        Lists the layer's state_dict entries (key, shape, parameter or
        buffer) and adds the multiply-adds of its deployed form.
      }],
      "void", "describeLayer", (ins "::irmb::LayerDescription &":$desc)>,
  ];
}

#endif // IRMB_INTERFACES_TD
