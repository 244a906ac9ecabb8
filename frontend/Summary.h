//===- Summary.h - model summary and state_dict listing ---------*- C++ -*-===//
//
// Text reports on an imported model: the Ultralytics-style layer table with
// parameter counts and deployed GFLOPs (`irmb-compile --summary`), and the
// expected state_dict (`--emit=state-dict`, the format of
// ../shared/reference/state_dict).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_FRONTEND_SUMMARY_H
#define IRMB_FRONTEND_SUMMARY_H

#include "frontend/ImportModel.h"
#include "llvm/Support/raw_ostream.h"

namespace irmb::frontend {

/// Totals of a model.
struct ModelTotals {
  int64_t layers = 0;
  int64_t parameters = 0;
  double deployedMacs = 0; ///< per image
};

/// Prints one row per YAML layer and the closing
/// `summary: <L> layers, <P> parameters, <G> GFLOPs` line.
ModelTotals printSummary(llvm::raw_ostream &os, const ResolvedModel &model,
                         const LayerOps &layerOps);

/// Prints every expected state_dict entry as `key dtype [shape]`.
void printStateDict(llvm::raw_ostream &os, mlir::ModuleOp module);

} // namespace irmb::frontend

#endif // IRMB_FRONTEND_SUMMARY_H
