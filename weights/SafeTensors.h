//===- SafeTensors.h - read .safetensors checkpoints ------------*- C++ -*-===//
//
// Parses a safetensors file (8-byte little-endian header length, a JSON
// header, a data block) as untrusted input: header bounds, JSON validity,
// dtypes, shapes, offsets inside the data block, sizes consistent with the
// shapes and no overlapping tensors. F32 / F16 / BF16 tensors are widened to
// float32; I64 tensors (BatchNorm num_batches_tracked) are kept as int64.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_WEIGHTS_SAFETENSORS_H
#define IRMB_WEIGHTS_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace irmb::weights {

/// A tensor from a checkpoint, widened to float32 (`isInt64` for I64 ones).
struct CheckpointTensor {
  std::vector<int64_t> shape;
  std::string dtype; ///< as stored: F32, F16, BF16, I64
  bool isInt64 = false;
  std::vector<float> values; ///< empty for I64 tensors
  int64_t numElements() const;
};

/// All tensors of a checkpoint, by key.
using Checkpoint = std::map<std::string, CheckpointTensor>;

/// A malformed or inconsistent checkpoint: `<path>: <message>`.
class CheckpointError : public std::runtime_error {
public:
  CheckpointError(const std::string &path, const std::string &message)
      : std::runtime_error(path + ": " + message) {}
};

/// Reads `path`. Throws CheckpointError.
Checkpoint readSafeTensors(const std::string &path);

/// Parses the bytes of a safetensors file (`path` names it in errors).
Checkpoint parseSafeTensors(const std::string &bytes, const std::string &path);

/// Converts an IEEE half to float.
float halfToFloat(uint16_t bits);
/// Converts a bfloat16 to float.
float bfloat16ToFloat(uint16_t bits);

} // namespace irmb::weights

#endif // IRMB_WEIGHTS_SAFETENSORS_H
