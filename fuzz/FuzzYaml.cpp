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

#include <memory>

namespace {

/// Inputs that share one context (making one per input costs
/// milliseconds). A context keeps every type and attribute it ever
/// uniqued, so one for all inputs grows by about 1 KB per input and, after
/// a million, passes the fuzzer's 2 GB limit: it is replaced this often.
constexpr int kInputsPerContext = 4096;

/// The context for this input; diagnostics are swallowed.
mlir::MLIRContext &context() {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static int used = 0;
  if (!ctx || ++used == kInputsPerContext) {
    used = 0;
    ctx = std::make_unique<mlir::MLIRContext>();
    ctx->loadDialect<irmb::IRMBDialect, mlir::func::FuncDialect>();
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
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
