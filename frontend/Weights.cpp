//===- Weights.cpp - model weights: checkpoints and random init -----------===//
//
// Resolution of fused forms: walking a layer's entries in order, a fusable
// unit whose fused keys are all in the checkpoint is taken fused (Ultralytics'
// model.fuse() form), otherwise its entries are expected one by one. Then the
// expected list and the checkpoint must agree key for key.
//
//===----------------------------------------------------------------------===//
#include "frontend/Weights.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "mlir/IR/Location.h"
#include <cmath>
#include <set>

using namespace mlir;
using namespace mlir::irmb;

namespace irmb::frontend {
namespace {

/// A layer's expected entries with the layer named for messages.
struct ExpectedLayer {
  std::string name; ///< e.g. "layer 4 (irmb.c2f at model.yaml:12:5)"
  std::string key;  ///< op key
  LayerDescription desc;
};

std::vector<ExpectedLayer> describeModule(ModuleOp module) {
  std::vector<ExpectedLayer> layers;
  module.walk([&](LayerOpInterface op) {
    ExpectedLayer layer;
    layer.key = op.getKey().str();
    std::string where;
    if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
      where = " at " + loc.getFilename().str() + ":" +
              std::to_string(loc.getLine()) + ":" +
              std::to_string(loc.getColumn());
    std::string index = layer.key.substr(layer.key.find('.') + 1);
    layer.name = "layer " + index.substr(0, index.find('.')) + " (" +
                 op->getName().getStringRef().str() + where + ")";
    op.describeLayer(layer.desc);
    layers.push_back(std::move(layer));
  });
  return layers;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  return shapeText(std::vector<int64_t>(shape.begin(), shape.end()));
}

/// The entries a layer expects from `checkpoint` (fused units resolved).
std::vector<StateDictEntry> resolveEntries(const LayerDescription &desc,
                                           const Checkpoint &checkpoint) {
  std::vector<StateDictEntry> expected;
  size_t i = 0;
  while (i < desc.entries.size()) {
    const FusableUnit *taken = nullptr;
    for (const FusableUnit &unit : desc.fusableUnits) {
      if (unit.begin != i)
        continue;
      bool allPresent = llvm::all_of(unit.fused, [&](const StateDictEntry &e) {
        return checkpoint.count(e.key) != 0;
      });
      if (allPresent) {
        taken = &unit;
        break;
      }
    }
    if (taken) {
      expected.insert(expected.end(), taken->fused.begin(),
                      taken->fused.end());
      i = taken->end;
    } else {
      expected.push_back(desc.entries[i++]);
    }
  }
  return expected;
}

/// Strips one leading `model.` from keys written as `model.model.<i>...`.
Checkpoint normaliseKeys(Checkpoint checkpoint) {
  bool nested = llvm::any_of(checkpoint, [](const auto &kv) {
    return llvm::StringRef(kv.first).starts_with("model.model.");
  });
  if (!nested)
    return checkpoint;
  Checkpoint out;
  for (auto &kv : checkpoint) {
    llvm::StringRef key(kv.first);
    std::string stripped =
        key.starts_with("model.") ? key.drop_front(6).str() : key.str();
    out.emplace(stripped, std::move(kv.second));
  }
  return out;
}

/// Uniform doubles in [0, 1) from a fixed 64-bit generator (splitmix64), so
/// random weights are identical on every platform and library version.
class Random {
public:
  explicit Random(uint64_t seed) : state(seed) {}
  double uniform() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }
  float uniform(double lo, double hi) {
    return static_cast<float>(lo + (hi - lo) * uniform());
  }

private:
  uint64_t state;
};

} // namespace

WeightMap loadWeights(ModuleOp module, const std::string &path) {
  Checkpoint checkpoint = normaliseKeys(readSafeTensors(path));
  WeightMap weights;
  std::set<std::string> used;
  for (const ExpectedLayer &layer : describeModule(module)) {
    for (const StateDictEntry &entry :
         resolveEntries(layer.desc, checkpoint)) {
      auto it = checkpoint.find(entry.key);
      if (entry.kind == EntryKind::Counter) {
        if (it != checkpoint.end())
          used.insert(entry.key);
        continue;
      }
      if (it == checkpoint.end())
        throw CheckpointError(path, "missing key '" + entry.key +
                                        "' (shape " + shapeText(entry.shape) +
                                        ") of " + layer.name);
      const CheckpointTensor &t = it->second;
      if (t.isInt64 ||
          t.shape != std::vector<int64_t>(entry.shape.begin(),
                                          entry.shape.end()))
        throw CheckpointError(path, "key '" + entry.key + "' is " + t.dtype +
                                        " " + shapeText(t.shape) + " but " +
                                        layer.name + " expects float " +
                                        shapeText(entry.shape));
      for (float v : t.values)
        if (!std::isfinite(v))
          throw CheckpointError(path, "key '" + entry.key +
                                          "' holds a non-finite value");
      weights[entry.key] = {t.shape, t.values};
      used.insert(entry.key);
    }
  }
  for (const auto &kv : checkpoint)
    if (!used.count(kv.first))
      throw CheckpointError(path, "unexpected key '" + kv.first + "' " +
                                      shapeText(kv.second.shape) +
                                      " (not part of this model; check the "
                                      "YAML, --scale and --nc)");
  return weights;
}

WeightMap randomWeights(ModuleOp module, uint64_t seed) {
  Random random(seed);
  WeightMap weights;
  for (const ExpectedLayer &layer : describeModule(module)) {
    for (const StateDictEntry &entry : layer.desc.entries) {
      if (entry.kind == EntryKind::Counter)
        continue;
      WeightTensor t;
      t.shape.assign(entry.shape.begin(), entry.shape.end());
      t.values.resize(entry.numElements());
      llvm::StringRef key(entry.key);
      if (key.ends_with("dfl.conv.weight")) {
        for (size_t i = 0; i < t.values.size(); ++i)
          t.values[i] = static_cast<float>(i);
      } else if (key.ends_with("running_var")) {
        for (float &v : t.values)
          v = random.uniform(0.5, 1.5);
      } else if (key.ends_with("running_mean")) {
        for (float &v : t.values)
          v = random.uniform(-0.2, 0.2);
      } else if (t.shape.size() == 1 && key.ends_with("weight")) {
        for (float &v : t.values)
          v = random.uniform(0.7, 1.3);
      } else if (t.shape.size() == 1) { // biases
        for (float &v : t.values)
          v = random.uniform(-0.2, 0.2);
      } else {
        int64_t fanIn = t.shape[1] * t.shape[2] * t.shape[3];
        double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
        for (float &v : t.values)
          v = random.uniform(-bound, bound);
      }
      weights[entry.key] = std::move(t);
    }
  }
  return weights;
}

} // namespace irmb::frontend
