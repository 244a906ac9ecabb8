//===- KernelChoice.h - the irmb.kernel attribute ----------------*- C++ -*-===//
//
// The kernel a primitive op runs on is the discardable attribute
// `irmb.kernel = #irmb.kernel<...>` (IRMBAttrs.td), written by
// irmb-select-kernels and read by both code generators. This header names
// it, reads and writes it, and says which kernels an op can run on; the
// dialect's attribute verifier (IRMBDialect.cpp) rejects the rest.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_KERNELCHOICE_H
#define IRMB_DIALECTS_IRMB_IR_KERNELCHOICE_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace irmb {

/// The name of the attribute: "irmb.kernel".
constexpr llvm::StringLiteral kKernelAttrName = "irmb.kernel";

/// The kernel chosen for `op`, or none before irmb-select-kernels.
std::optional<Kernel> chosenKernel(Operation *op);
/// Records `kernel` as the choice for `op`.
void setChosenKernel(Operation *op, Kernel kernel);

/// Why primitive op `op` cannot run on `kernel` (e.g. "winograd_f4 needs a
/// 3x3 stride-1 padding-1 convolution of one group"), or "" when it can.
std::string kernelMismatch(Operation *op, Kernel kernel);

} // namespace irmb

#endif // IRMB_DIALECTS_IRMB_IR_KERNELCHOICE_H
