//===- irmb-opt.cpp - the irmb optimizer driver ---------------------------===//
//
// MlirOptMain with the dialects irmb IR uses (irmb, func), the irmb passes
// and the whole pipeline (--irmb-pipeline=...):
// parses, verifies, runs passes on and prints irmb modules. Researchers drive
// the compiler pass by pass with it; lit tests use it for round-trips and
// diagnostics.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "passes/Passes.h"
#include "passes/Pipeline.h"

int main(int argc, char **argv) {
  irmb::registerIRMBPasses();
  irmb::registerIRMBPipeline();
  mlir::DialectRegistry registry;
  registry.insert<irmb::IRMBDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "irmb optimizer driver\n", registry));
}
