//===- StoragePlan.h - where every value lives ------------------*- C++ -*-===//
//
// The storage plan of a model body: views and in-place cat inputs resolved
// to a storage root and an element offset, and first-fit arena offsets over
// the roots' lifetimes. Shared by EmitCpp and EmitCuda.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_STORAGEPLAN_H
#define IRMB_CODEGEN_COMMON_STORAGEPLAN_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>

namespace irmb::codegen {

/// First-fit allocator over value lifetimes (units: elements; every block
/// is a multiple of 16 elements).
class ArenaPlanner {
public:
  int64_t allocate(int64_t elements);
  void release(int64_t at, int64_t elements);
  int64_t peak() const { return peakElements; }

private:
  std::map<int64_t, int64_t> free; // offset -> size
  int64_t top = 0, peakElements = 0;
};

/// Where every value of a function body lives. Views and in-place cat
/// inputs alias their storage root at an element offset; each root other
/// than the input and the result gets an arena offset (elements per image),
/// allocated when its first value is defined and released after the last
/// use of any value living in it.
class StoragePlan {
public:
  /// A value's storage: `offset` elements into the per-image storage of
  /// `root`.
  struct Alias {
    mlir::Value root;
    int64_t offset;
  };

  StoragePlan(mlir::Block &body, mlir::Value input, mlir::Value result);

  Alias resolve(mlir::Value v) const;
  /// The arena offset (elements per image) of a root that lives in the
  /// arena, or nullopt (the input, the result).
  std::optional<int64_t> arenaOffset(mlir::Value root) const;
  /// Peak arena elements of one image.
  int64_t arenaElements() const { return arena.peak(); }

private:
  void collectAliases(mlir::Block &body);

  llvm::DenseMap<mlir::Value, Alias> aliasOf;
  llvm::DenseMap<mlir::Value, int64_t> offsets;
  ArenaPlanner arena;
};

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_STORAGEPLAN_H
