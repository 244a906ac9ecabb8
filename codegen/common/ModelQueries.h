//===- ModelQueries.h - what the emitters ask of the IR ---------*- C++ -*-===//
//
// The questions both emitters (EmitCpp, EmitCuda) ask of a primitive
// module: value shapes, the YAML layer and source line an op came from, the
// one function's body. (The kernel irmb-select-kernels chose is
// irmb::chosenKernel, KernelChoice.h.)
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_MODELQUERIES_H
#define IRMB_CODEGEN_COMMON_MODELQUERIES_H

#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/ShapeInference.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace irmb::codegen {

/// The shape of a ranked tensor value (ShapeInference.h, for the emitters).
using irmb::shapeOf;
/// Elements of one image of a value (all dimensions but the batch).
int64_t perImage(mlir::Value v);
/// The kernel-library spelling of an activation ("Act::Silu", ...).
const char *actName(irmb::Activation act);
/// The YAML layer an op came from (its NameLoc "model.<i>"), or "".
std::string layerName(mlir::Operation *op);
/// The layer index in "model.<i>", or -1.
int layerIndex(const std::string &name);
/// `text` with every character that is not alphanumeric replaced by '_'.
std::string identifier(std::string text);
/// " (file:line)" of the YAML line an op came from, or "".
std::string sourceLine(mlir::Operation *op);

/// The body of the one function of a primitive module: its block, the
/// input image batch and the detection output.
struct ModelBody {
  mlir::Block *block;
  mlir::Value input, result;
};
/// Finds the function; fails (with a diagnostic) when there is none or its
/// result is not a detection output [B, 4 + nc, A].
mlir::FailureOr<ModelBody> modelBody(mlir::ModuleOp module);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_MODELQUERIES_H
