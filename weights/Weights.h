//===- Weights.h - model weights: checkpoints and random init ---*- C++ -*-===//
//
// The weights of an imported model, by Ultralytics state_dict key, checked
// against what every layer expects (LayerOpInterface::describeLayer): each
// key present with its shape, nothing unexpected, and each Conv / RepVGGDW
// either unfused (conv + bn) or fused (conv with bias). Without a checkpoint,
// deterministic random weights with plausible BatchNorm statistics.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_WEIGHTS_WEIGHTS_H
#define IRMB_WEIGHTS_WEIGHTS_H

#include "weights/SafeTensors.h"
#include "mlir/IR/BuiltinOps.h"
#include <map>

namespace irmb::weights {

/// The epsilon of every BatchNorm2d in an Ultralytics model (its Conv sets
/// eps=0.001): the one constant the reference executor, the weight folding
/// of the emitters and the identity BatchNorms of fused checkpoints share.
constexpr double kBatchNormEps = 1e-3;

/// One float32 tensor of the model.
struct WeightTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// The model's weights by full state_dict key (`model.4.cv1.conv.weight`).
using WeightMap = std::map<std::string, WeightTensor>;

/// Loads the checkpoint at `path` (safetensors or a `.pt` file) for `module` and checks every
/// key. Fused units (conv with bias) come back in the unfused structure with
/// identity BatchNorms, computing exactly the same. Throws CheckpointError
/// naming the key, the expected shape and the YAML layer.
WeightMap loadWeights(mlir::ModuleOp module, const std::string &path);

/// Checks the tensors of an already read checkpoint (`path` names it in
/// errors) as loadWeights does.
WeightMap checkWeights(mlir::ModuleOp module, Checkpoint checkpoint,
                       const std::string &path);

/// Deterministic random weights for `module` (unfused form) from `seed`:
/// conv weights uniform in ±1/sqrt(fan_in), BN statistics near identity, the
/// DFL weight 0..15 as in every Ultralytics model.
WeightMap randomWeights(mlir::ModuleOp module, uint64_t seed);

} // namespace irmb::weights

#endif // IRMB_WEIGHTS_WEIGHTS_H
