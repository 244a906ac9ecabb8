//===- IRMBDialect.h - the irmb dialect, enums and attributes -*- C++ -*-===//
//
// Declares the irmb dialect class, its enumerations (activation, operator F,
// Detect class-branch form) and attributes (`#irmb.mmb`). Include IRMBOps.h
// for the ops.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_IRMBDIALECT_H
#define IRMB_DIALECTS_IRMB_IR_IRMBDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "dialects/IRMB/IR/IRMBNamespace.h"

#include "dialects/IRMB/IR/IRMBDialect.h.inc"
#include "dialects/IRMB/IR/IRMBEnums.h.inc"

namespace irmb {
/// Parses a floating-point attribute parameter (e.g. `1.0`, `0.25`).
FailureOr<llvm::APFloat> parseDoubleParameter(AsmParser &parser);
/// Prints a real parameter in the shortest form that reads back exactly,
/// always with a '.' or an exponent (`1.0`, `0.25`, `1e-05`).
void printDoubleParameter(AsmPrinter &printer, const llvm::APFloat &value);
/// Parses a boolean attribute parameter written `true` or `false`.
FailureOr<bool> parseBoolParameter(AsmParser &parser);
} // namespace irmb

#define GET_ATTRDEF_CLASSES
#include "dialects/IRMB/IR/IRMBAttrs.h.inc"

#endif // IRMB_DIALECTS_IRMB_IR_IRMBDIALECT_H
