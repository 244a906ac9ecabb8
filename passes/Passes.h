//===- Passes.h - irmb pass declarations ------------------------*- C++ -*-===//
//
// Declares the irmb passes (generated from Passes.td) and their registration.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_PASSES_PASSES_H
#define IRMB_PASSES_PASSES_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include <memory>

namespace irmb {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace irmb

#endif // IRMB_PASSES_PASSES_H
