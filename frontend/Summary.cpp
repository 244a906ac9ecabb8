//===- Summary.cpp - model summary and state_dict listing -----------------===//
//
// Both reports walk the ops through LayerOpInterface::describeLayer, so the
// counts printed here are the ones the weight loader checks against.
//
//===----------------------------------------------------------------------===//
#include "frontend/Summary.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace irmb;
using namespace ::irmb::frontend;

namespace irmb::frontend {
ModelTotals printSummary(llvm::raw_ostream &os, const ResolvedModel &model,
                         const LayerOps &layerOps) {
  ModelTotals totals;
  os << llvm::format("%3s %20s %3s %10s  %-12s %s\n", "", "from", "n", "params",
                     "module", "arguments");
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const ResolvedLayer &layer = model.layers[i];
    LayerDescription desc;
    for (Operation *op : layerOps[i])
      cast<LayerOpInterface>(op).describeLayer(desc);
    std::string args = PyValue::list(layer.args).repr();
    os << llvm::format("%3lld %20s %3lld %10lld  %-12s %s\n",
                       (long long)layer.index, layer.fromText.c_str(),
                       (long long)layer.repeats,
                       (long long)desc.parameterCount(),
                       layer.moduleName.c_str(), args.c_str());
    totals.parameters += desc.parameterCount();
    totals.deployedMacs += desc.deployedMacs;
  }
  totals.layers = static_cast<int64_t>(model.layers.size());
  os << llvm::format("summary: %lld layers, %lld parameters, %.2f GFLOPs\n",
                     (long long)totals.layers, (long long)totals.parameters,
                     2.0 * totals.deployedMacs / 1e9);
  return totals;
}

void printStateDict(llvm::raw_ostream &os, ModuleOp module) {
  module.walk([&](LayerOpInterface layer) {
    LayerDescription desc;
    layer.describeLayer(desc);
    for (const StateDictEntry &entry : desc.entries) {
      os << entry.key << ' '
         << (entry.kind == EntryKind::Counter ? "int64" : "float32") << " [";
      llvm::interleaveComma(entry.shape, os);
      os << "]\n";
    }
  });
}
} // namespace irmb::frontend
