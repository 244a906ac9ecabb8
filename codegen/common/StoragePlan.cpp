//===- StoragePlan.cpp - where every value lives --------------------------===//
//
// Aliases and first-fit arena offsets (StoragePlan.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/common/StoragePlan.h"

#include "codegen/common/ModelQueries.h"

using namespace mlir;
using namespace irmb;

namespace irmb::codegen {

namespace {
constexpr int64_t kAlignElements = 16;
/// `elements` rounded up to a multiple of kAlignElements.
int64_t aligned(int64_t elements) {
  return (elements + kAlignElements - 1) / kAlignElements * kAlignElements;
}
} // namespace

int64_t ArenaPlanner::allocate(int64_t elements) {
  elements = aligned(elements);
  for (auto it = free.begin(); it != free.end(); ++it) {
    if (it->second < elements)
      continue;
    int64_t at = it->first;
    int64_t rest = it->second - elements;
    free.erase(it);
    if (rest > 0)
      free[at + elements] = rest;
    return at;
  }
  int64_t at = top;
  top += elements;
  peakElements = std::max(peakElements, top);
  return at;
}

void ArenaPlanner::release(int64_t at, int64_t elements) {
  elements = aligned(elements);
  free[at] = elements;
  // Merge with the following and preceding blocks.
  auto it = free.find(at);
  auto next = std::next(it);
  if (next != free.end() && at + elements == next->first) {
    it->second += next->second;
    free.erase(next);
  }
  if (it != free.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      free.erase(it);
    }
  }
}

//===----------------------------------------------------------------------===//
// StoragePlan
//===----------------------------------------------------------------------===//

void StoragePlan::collectAliases(Block &body) {
  for (Operation &op : body) {
    if (auto slice = dyn_cast<SliceOp>(op); slice && slice.getView()) {
      auto in = shapeOf(slice.getInput());
      aliasOf[slice.getOutput()] = {slice.getInput(),
                                    static_cast<int64_t>(slice.getStart()) *
                                        in[2] * in[3]};
    }
    if (auto cat = dyn_cast<CatOp>(op); cat && cat.getInPlace()) {
      int64_t at = 0;
      for (auto [i, v] : llvm::enumerate(cat.getInputs())) {
        if ((*cat.getInPlace())[i]) {
          // The input's storage root moves into the cat (a view input
          // places its whole source; irmb-concat-in-place checked that the
          // cat's views cover it in order).
          Alias where = resolve(v);
          if (where.root != cat.getOutput())
            aliasOf[where.root] = {cat.getOutput(), at - where.offset};
        }
        at += perImage(v);
      }
    }
  }
}

StoragePlan::Alias StoragePlan::resolve(Value v) const {
  int64_t offset = 0;
  for (auto it = aliasOf.find(v); it != aliasOf.end(); it = aliasOf.find(v)) {
    offset += it->second.offset;
    v = it->second.root;
  }
  return {v, offset};
}

std::optional<int64_t> StoragePlan::arenaOffset(Value root) const {
  auto it = offsets.find(root);
  if (it == offsets.end())
    return std::nullopt;
  return it->second;
}

StoragePlan::StoragePlan(Block &body, Value input, Value result) {
  collectAliases(body);
  llvm::DenseMap<Value, int64_t> firstDef, lastUse;
  int64_t index = 0;
  for (Operation &op : body) {
    for (Value v : op.getResults()) {
      Value root = resolve(v).root;
      if (!firstDef.count(root))
        firstDef[root] = index;
    }
    for (Value v : op.getOperands())
      lastUse[resolve(v).root] = index;
    ++index;
  }
  // Roots in order of definition (a root may be defined before the value it
  // is named after, e.g. a cat written in place).
  std::map<int64_t, SmallVector<Value>> defined, dying;
  for (auto [root, at] : firstDef)
    defined[at].push_back(root);
  for (auto [root, at] : lastUse)
    dying[at].push_back(root);
  for (int64_t i = 0; i < index; ++i) {
    for (Value root : defined[i])
      if (root != result && root != input)
        offsets[root] = arena.allocate(perImage(root));
    for (Value root : dying[i])
      if (root != input && root != result && offsets.count(root))
        arena.release(offsets[root], perImage(root));
  }
}

} // namespace irmb::codegen
