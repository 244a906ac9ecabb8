//===- LayerDescription.h - state_dict entries and work of a layer -*- C++
//-*-===//
//
// Plain data that LayerOpInterface::describeLayer fills in: every state_dict
// entry of a layer (key, shape, parameter or buffer), in the order Ultralytics
// registers them, and the multiply-adds of the layer's deployed form (BN
// folded, RepVGGDW merged, only the one2one head of v10Detect). The summary
// counts parameters with it, the weight loader checks checkpoints against it.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_LAYERDESCRIPTION_H
#define IRMB_DIALECTS_IRMB_IR_LAYERDESCRIPTION_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <string>
#include <vector>

namespace irmb {

/// What a state_dict entry is.
enum class EntryKind {
  Parameter, ///< learnable (weights, biases, BN affine, DFL weight)
  Buffer,    ///< BN running statistics (float)
  Counter,   ///< BN num_batches_tracked (int64 scalar, ignored on load)
};

/// One state_dict entry, with its full key (e.g. `model.4.cv1.conv.weight`).
struct StateDictEntry {
  std::string key;
  llvm::SmallVector<int64_t, 4> shape;
  EntryKind kind;
  /// Number of elements (1 for a scalar).
  int64_t numElements() const;
};

/// A run of entries that a fused checkpoint replaces by other entries:
/// an Ultralytics Conv (`conv.weight` + `bn.*` -> `conv.weight` +
/// `conv.bias`) or a RepVGGDW (both branches -> one 7×7 `conv` with bias).
struct FusableUnit {
  size_t begin = 0, end = 0; ///< [begin, end) in LayerDescription::entries
  std::vector<StateDictEntry> fused;
};

/// The state_dict entries and deployed multiply-adds of one layer.
struct LayerDescription {
  std::vector<StateDictEntry> entries;
  /// Units a fused checkpoint may replace, ordered by `begin`; a unit may
  /// contain smaller units (RepVGGDW contains its two Convs).
  std::vector<FusableUnit> fusableUnits;
  /// Multiply-adds of the deployed model for one image (batch 1).
  double deployedMacs = 0; ///< a double: absurd shapes must not overflow it
  /// Sum of the elements of the Parameter entries (Ultralytics' count).
  int64_t parameterCount() const;
};

} // namespace irmb

#endif // IRMB_DIALECTS_IRMB_IR_LAYERDESCRIPTION_H
