//===- Weights.cpp - model weights: checkpoints and random init -----------===//
//
// Resolution of fused forms: walking a layer's entries in order, a fusable
// unit whose fused keys are all in the checkpoint is taken fused (Ultralytics'
// model.fuse() form), otherwise its entries are expected one by one. The
// checkpoint must agree with the expected entries key for key. Fused units
// are then expanded into the unfused structure with identity BatchNorms
// (exactly, see expandFusedUnit), so everything downstream sees one form.
//
//===----------------------------------------------------------------------===//
#include "weights/Weights.h"

#include "weights/TorchCheckpoint.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "mlir/IR/Location.h"
#include <cmath>
#include <set>

using namespace mlir;
using namespace irmb;

namespace irmb::weights {
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

/// BatchNorm running variance that makes a BN an exact identity:
/// (1 - eps) + eps rounds to 1 in float32, so 1/sqrt(var + eps) == 1.
constexpr float kIdentityVariance = 1.0f - static_cast<float>(kBatchNormEps);

/// Fills the unfused entries of a fused unit from its fused tensors so the
/// result computes exactly what the fused checkpoint computes: the fused
/// weight in the first conv, its bias in the first BN (scale 1, mean 0,
/// identity variance), every further conv zero and every further BN the
/// identity. RepVGGDW's 3x3 branch thus adds exact zeros.
void expandFusedUnit(const LayerDescription &desc, const FusableUnit &unit,
                     const Checkpoint &checkpoint, WeightMap &weights,
                     std::set<std::string> &used) {
  const CheckpointTensor &w = checkpoint.at(unit.fused[0].key);
  const CheckpointTensor &b = checkpoint.at(unit.fused[1].key);
  used.insert(unit.fused[0].key);
  used.insert(unit.fused[1].key);
  bool firstConv = true, firstNorm = true;
  for (size_t i = unit.begin; i < unit.end; ++i) {
    const StateDictEntry &e = desc.entries[i];
    if (e.kind == EntryKind::Counter)
      continue;
    WeightTensor t{{e.shape.begin(), e.shape.end()},
                   std::vector<float>(e.numElements(), 0.0f)};
    llvm::StringRef key(e.key);
    if (e.shape.size() == 4) {
      if (firstConv)
        t.values = w.values;
      firstConv = false;
    } else if (key.ends_with(".weight")) {
      std::fill(t.values.begin(), t.values.end(), 1.0f);
    } else if (key.ends_with(".running_var")) {
      std::fill(t.values.begin(), t.values.end(), kIdentityVariance);
    } else if (key.ends_with(".bias")) {
      if (firstNorm)
        t.values = b.values;
      firstNorm = false;
    }
    weights[e.key] = std::move(t);
  }
}

/// True when every fused key of `unit` is in the checkpoint.
bool isFusedIn(const FusableUnit &unit, const Checkpoint &checkpoint) {
  return llvm::all_of(unit.fused, [&](const StateDictEntry &e) {
    return checkpoint.count(e.key) != 0;
  });
}

/// Checks one expected entry against the checkpoint and stores it.
void takeEntry(const std::string &path, const ExpectedLayer &layer,
               const StateDictEntry &entry, const Checkpoint &checkpoint,
               WeightMap &weights, std::set<std::string> &used) {
  auto it = checkpoint.find(entry.key);
  if (entry.kind == EntryKind::Counter) {
    if (it != checkpoint.end())
      used.insert(entry.key);
    return;
  }
  if (it == checkpoint.end())
    throw CheckpointError(path, "missing key '" + entry.key + "' (shape " +
                                    shapeText(entry.shape) + ") of " +
                                    layer.name);
  const CheckpointTensor &t = it->second;
  if (t.isInt64 ||
      t.shape != std::vector<int64_t>(entry.shape.begin(), entry.shape.end()))
    throw CheckpointError(path, "key '" + entry.key + "' is " + t.dtype + " " +
                                    shapeText(t.shape) + " but " + layer.name +
                                    " expects float " + shapeText(entry.shape));
  for (float v : t.values)
    if (!std::isfinite(v))
      throw CheckpointError(path,
                            "key '" + entry.key + "' holds a non-finite value");
  weights[entry.key] = {t.shape, t.values};
  used.insert(entry.key);
}

/// Loads one layer: entries in order, each fusable unit either unfused
/// (checked entry by entry) or fused (checked, then expanded exactly).
void loadLayer(const std::string &path, const ExpectedLayer &layer,
               const Checkpoint &checkpoint, WeightMap &weights,
               std::set<std::string> &used) {
  const LayerDescription &desc = layer.desc;
  size_t i = 0;
  while (i < desc.entries.size()) {
    const FusableUnit *fused = nullptr;
    for (const FusableUnit &unit : desc.fusableUnits)
      if (unit.begin == i && isFusedIn(unit, checkpoint)) {
        fused = &unit;
        break;
      }
    if (!fused) {
      takeEntry(path, layer, desc.entries[i++], checkpoint, weights, used);
      continue;
    }
    for (const StateDictEntry &e : fused->fused)
      takeEntry(path, layer, e, checkpoint, weights, used);
    weights.erase(fused->fused[0].key);
    weights.erase(fused->fused[1].key);
    expandFusedUnit(desc, *fused, checkpoint, weights, used);
    i = fused->end;
  }
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
  return checkWeights(module, readCheckpointTensors(path), path);
}

WeightMap checkWeights(ModuleOp module, Checkpoint raw,
                       const std::string &path) {
  Checkpoint checkpoint = normaliseKeys(std::move(raw));
  WeightMap weights;
  std::set<std::string> used;
  for (const ExpectedLayer &layer : describeModule(module))
    loadLayer(path, layer, checkpoint, weights, used);
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

} // namespace irmb::weights
