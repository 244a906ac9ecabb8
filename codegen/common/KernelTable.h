//===- KernelTable.h - the kernels of a model and its descriptor --*- C++ -*-===//
//
// The kernels of a model in emission order, named after their YAML layer,
// with their FLOPs, and the irmb_model_desc initializer of ModelAbi.h built
// from them; the C string literal every generated name goes through.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_KERNELTABLE_H
#define IRMB_CODEGEN_COMMON_KERNELTABLE_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>
#include <utility>
#include <vector>

namespace irmb::codegen {

/// The kernels of a model in emission order: each named after its YAML
/// layer, the kernel irmb-select-kernels chose and its index (e.g.
/// "model_23_window_attention_71"), with its layer index. Emits the tables
/// and the irmb_model_desc initializer of ModelAbi.h.
class KernelTable {
public:
  /// Registers the kernel of `op`; returns its index and name.
  std::pair<int, std::string> add(mlir::Operation *op);
  int size() const { return static_cast<int>(names.size()); }
  /// What the descriptor says besides the kernel tables.
  struct Descriptor {
    std::string source, target, isa, precision;
    llvm::ArrayRef<int64_t> input, output; ///< [B, C, H, W], [B, 4 + nc, A]
    bool isV10 = false;
    int64_t arenaBytes = 0, launches = 0;
    std::vector<std::string> classNames; ///< empty: "0", "1", ...
  };
  /// Definitions of `kKernelNames`, `kKernelLayers`, `kKernelFlops` and
  /// `kClassNames` (nc entries).
  std::string tables(const Descriptor &d) const;
  /// "{IRMB_MODEL_ABI_VERSION, ..., kKernelNames, kKernelLayers,
  /// kKernelFlops}".
  std::string descriptor(const Descriptor &d) const;

private:
  std::vector<std::string> names;
  std::vector<int> layers;
  std::vector<double> flops;
};

/// `text` as a C string literal (quotes, backslashes, control and
/// non-ASCII bytes escaped), so that paths and class names from a user's
/// files cannot break or inject into generated source.
std::string cStringLiteral(llvm::StringRef text);

/// Floating-point operations of a primitive op over its whole batch: 2 per
/// multiply-add of convolutions (the direct algorithm, whichever kernel
/// runs it), projections and attention; 0 for the other ops.
double opFlops(mlir::Operation *op);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_KERNELTABLE_H
