//===- IRMBNamespace.h - the project's namespace root ------------*- C++ -*-===//
//
// `irmb` is the one namespace root: the dialect (ops, attributes, enums,
// interfaces, shape inference) and the passes live in `irmb` itself, every
// other component in `irmb::<component>` (docs/codebase.md). MLIR's names
// are visible throughout it, as they are inside MLIR's own dialects; every
// header that declares something in `irmb` with MLIR types includes this.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_IRMBNAMESPACE_H
#define IRMB_DIALECTS_IRMB_IR_IRMBNAMESPACE_H

#include "mlir/Support/LLVM.h"

namespace irmb {
using namespace mlir;
} // namespace irmb

#endif // IRMB_DIALECTS_IRMB_IR_IRMBNAMESPACE_H
