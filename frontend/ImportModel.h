//===- ImportModel.h - build irmb IR from a resolved model ------*- C++ -*-===//
//
// Builds a `builtin.module` holding `func.func @forward` whose body has one
// irmb op per YAML layer (n ops for a layer repeated in an nn.Sequential),
// each located at its YAML row. Result types come from ShapeInference.h and
// every op is verified as soon as it is built, so an invalid layer is
// reported at its own line.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_FRONTEND_IMPORTMODEL_H
#define IRMB_FRONTEND_IMPORTMODEL_H

#include "frontend/ParseModel.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include <vector>

namespace irmb::frontend {

/// Input geometry of the compiled network.
struct ImportOptions {
  int64_t batch = 1;
  int64_t height = 640;
  int64_t width = 640;
};

/// The ops built for each YAML layer, indexed by layer.
using LayerOps = std::vector<std::vector<mlir::Operation *>>;

/// Builds the irmb module. On failure a diagnostic was emitted (located in the
/// YAML) and the result is null; invalid arguments throw FrontendError.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &context,
                                              const ResolvedModel &model,
                                              const ImportOptions &options,
                                              LayerOps *layerOps = nullptr);

} // namespace irmb::frontend

#endif // IRMB_FRONTEND_IMPORTMODEL_H
