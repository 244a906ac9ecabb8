//===- IRMBOps.h - irmb model-level ops -------------------*- C++ -*-===//
//
// Declares the irmb ops and LayerOpInterface. Their verifiers are in
// IRMBOps.cpp, their state_dict / multiply-add descriptions in
// LayerDescription.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_IRMBOPS_H
#define IRMB_DIALECTS_IRMB_IR_IRMBOPS_H

#include "dialects/IRMB/IR/IRMBDialect.h"
#include "dialects/IRMB/IR/LayerDescription.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/IRMB/IR/IRMBInterfaces.h.inc"

namespace irmb {
/// The trait of the primitive ops (IRMBPrimitiveOps.td): no methods, a
/// marker that irmb-decompose's conversion target tests.
template <typename ConcreteType>
class PrimitiveOpTrait
    : public ::mlir::OpTrait::TraitBase<ConcreteType, PrimitiveOpTrait> {};
} // namespace irmb

#define GET_OP_CLASSES
#include "dialects/IRMB/IR/IRMBOps.h.inc"

#endif // IRMB_DIALECTS_IRMB_IR_IRMBOPS_H
