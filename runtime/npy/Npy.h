//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads and writes NumPy .npy arrays (format 1.0-3.0, little-endian, C order)
// of float32, float64 and int64. Used by irmb-reference, irmb-run and the
// tests to exchange inputs and outputs with Python. No MLIR, no LibTorch: this
// belongs to the runtime.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_RUNTIME_NPY_NPY_H
#define IRMB_RUNTIME_NPY_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace irmb::npy {

/// Element type of an array.
enum class DType { Float32, Float64, Int64 };

/// An array read from or written to a .npy file, as float32 values (float64
/// is narrowed on read; int64 values are kept in `ints` as well).
struct Array {
  std::vector<int64_t> shape;
  DType dtype = DType::Float32;
  std::vector<float> values;
  std::vector<int64_t> ints; ///< only for Int64 arrays
  /// Number of elements (product of the shape; -1 when it overflows).
  int64_t numElements() const;
};

/// Reads `path`; on failure returns false and sets `error` (one line).
bool readNpy(const std::string &path, Array &out, std::string &error);

/// Parses the bytes of a .npy file (`path` names it in errors).
bool parseNpy(const std::string &bytes, const std::string &path, Array &out,
              std::string &error);

/// Writes float32 `values` of `shape` to `path` atomically (a temporary file
/// renamed into place). On failure returns false and sets `error`.
bool writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const float *values, std::string &error);

} // namespace irmb::npy

#endif // IRMB_RUNTIME_NPY_NPY_H
