//===- FuzzYaml.cpp - fuzz the YAML frontend down to verified IR ----------===//
//
// Any text as a model YAML: yaml-cpp reading, parse_model, IR building at a
// small geometry (batch 1, 64 x 64) and the verifier. A bad model is one
// FrontendError or a failed import with a diagnostic.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "frontend/ImportModel.h"
#include "fuzz/FuzzTarget.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

namespace {

/// One context for all inputs (making one per input costs milliseconds);
/// diagnostics are swallowed.
mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext;
    c->loadDialect<mlir::irmb::IRMBDialect, mlir::func::FuncDialect>();
    c->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
    return c;
  }();
  return *ctx;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    irmb::frontend::ModelFile file = irmb::frontend::readModelText(
        irmb::fuzz::bytesOf(data, size), "fuzz.yaml");
    irmb::frontend::ResolvedModel model =
        irmb::frontend::parseModel(file, {});
    irmb::frontend::ImportOptions geometry;
    geometry.height = geometry.width = 64;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        irmb::frontend::importModel(context(), model, geometry);
    if (module)
      (void)mlir::verify(*module);
  } catch (const irmb::frontend::FrontendError &) {
  }
  return 0;
}
