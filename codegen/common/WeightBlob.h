//===- WeightBlob.h - the weights blob of a model ---------------*- C++ -*-===//
//
// The weights a generated library embeds: checkpoint tensors written once,
// BatchNorms folded into their convolutions (in double), and the layouts
// the CPU kernels read packed at compile time (micro-kernel tiles, Winograd
// transforms, output channels in lanes). Shared by EmitCpp and EmitCuda.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_WEIGHTBLOB_H
#define IRMB_CODEGEN_COMMON_WEIGHTBLOB_H

#include "dialects/IRMB/IR/IRMBOps.h"
#include "weights/Weights.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace irmb::codegen {

/// The weights blob: 64-byte aligned float arrays, checkpoint tensors written
/// once, derived (folded) tensors appended.
class WeightBlob {
public:
  explicit WeightBlob(const irmb::weights::WeightMap &weights)
      : weights(weights) {}

  /// Byte offset of a checkpoint tensor (written on first use).
  mlir::FailureOr<int64_t> tensor(llvm::StringRef key, mlir::Operation *op);
  /// The checkpoint values of `key`, or null.
  const std::vector<float> *values(llvm::StringRef key) const;
  /// Appends derived values; returns their byte offset.
  int64_t append(const std::vector<float> &values);
  /// Byte offsets of the tensors `prefix + suffix`, in order.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  tensors(const std::string &prefix, llvm::ArrayRef<const char *> suffixes,
          mlir::Operation *op);
  std::vector<char> take() { return std::move(blob); }

  /// An eval BatchNorm as y = x · scale + shift (computed in double).
  struct FoldedNorm {
    std::vector<double> scale, shift;
  };
  mlir::FailureOr<FoldedNorm> foldNorm(const std::string &norm,
                                       mlir::Operation *op);
  /// A folded BatchNorm appended as two float arrays: {scale, shift}.
  mlir::FailureOr<std::pair<int64_t, int64_t>>
  appendNorm(const std::string &norm, mlir::Operation *op);

  /// A convolution's weight and bias with its norms folded in.
  struct FoldedConv {
    std::vector<float> weight, bias;
    bool hasBias = false;
  };
  /// Folds an input BatchNorm (1×1 convs: W·diag(s), b + W·t), the bias and
  /// an output BatchNorm (W·s, b·s + t) into one weight and bias.
  mlir::FailureOr<FoldedConv> foldConv(llvm::StringRef wKey,
                                       std::optional<llvm::StringRef> bKey,
                                       std::optional<llvm::StringRef> inNorm,
                                       std::optional<llvm::StringRef> outNorm,
                                       int64_t cout, mlir::Operation *op);

  /// Blob offsets of a convolution's folded weight and bias (bias -1 when
  /// it has none). With `tileRows` > 0 the weight of each group is packed
  /// for CPU micro-kernel tiles of that many rows (kernels/Packing.h); with
  /// `winogradTile` 2 or 4 (a 3×3 ungrouped conv) the weight is first
  /// transformed for F(m×m, 3×3) (kernels/WinogradTransforms.h) and each
  /// tile position packed as its own Cout × Cin operand; with `coLanes` > 0
  /// (an ungrouped conv run by the direct kernel, kernels/DirectConv.h)
  /// packed with output channels in blocks of that many lanes
  /// (packCoLanes).
  struct ConvTensors {
    int64_t weight = -1, bias = -1;
  };
  mlir::FailureOr<ConvTensors> convTensors(irmb::Conv2dOp conv,
                                           int64_t tileRows = 0,
                                           int64_t winogradTile = 0,
                                           int64_t coLanes = 0);

  /// Blob offsets of an EMA's tensors: gn weight/bias, conv1x1 weight/bias,
  /// conv3x3 weight/bias, then (with an input norm) its folded scale/shift.
  struct EmaTensors {
    llvm::SmallVector<int64_t> weights;
    std::optional<std::pair<int64_t, int64_t>> norm;
  };
  mlir::FailureOr<EmaTensors> emaTensors(irmb::EMAOp ema);

  /// Blob offsets of a squeeze-excite's reduce weight/bias and expand
  /// weight/bias, and its reduced width.
  struct SqueezeExciteTensors {
    llvm::SmallVector<int64_t> weights;
    int64_t reduced = 0;
  };
  mlir::FailureOr<SqueezeExciteTensors>
  squeezeExciteTensors(irmb::SqueezeExciteOp se);

  /// A merged projection: the parts' folded [rows, cin] weights stacked into
  /// one matrix and their biases into one vector, with the runs of rows
  /// that share an activation (one GEMM each).
  struct StackedProjection {
    int64_t weight = -1, bias = -1;
    struct Run {
      int64_t start, end;
      irmb::Activation act;
    };
    llvm::SmallVector<Run> runs;
  };
  /// With `tileRows` > 0 each run's rows are packed as convTensors does.
  mlir::FailureOr<StackedProjection>
  stackProjection(irmb::ProjectionOp projection, int64_t tileRows = 0);

private:
  const irmb::weights::WeightMap &weights;
  std::map<std::string, int64_t> offsets;
  std::vector<char> blob;
};

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_WEIGHTBLOB_H
