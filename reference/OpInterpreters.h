//===- OpInterpreters.h - run one irmb op with ATen -------------*- C++ -*-===//
//
// Internal to the reference executor. Two interpreters of single ops, one
// for the model-level ops (one per Ultralytics module, ModelOps.cpp) and one
// for the primitive ops irmb-decompose and the fusions produce
// (PrimitiveOps.cpp). Each returns the op's result, or nothing for an op it
// does not handle, so the executor tries one after the other. `OpContext` is
// what both need: the weights and the tensors already computed.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_REFERENCE_OPINTERPRETERS_H
#define IRMB_REFERENCE_OPINTERPRETERS_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include <ATen/ATen.h>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace irmb::reference::detail {

/// The weights and the values an interpreter reads.
struct OpContext {
  /// Every weight by its full state_dict key.
  const std::map<std::string, at::Tensor> &weights;
  /// The tensor already computed for an SSA value.
  const std::function<at::Tensor(mlir::Value)> &valueOf;

  /// The tensor of the operand `v`.
  at::Tensor in(mlir::Value v) const { return valueOf(v); }
  /// A weight by its full key.
  const at::Tensor &w(llvm::StringRef key) const {
    auto it = weights.find(key.str());
    if (it == weights.end())
      throw std::runtime_error("missing weight '" + key.str() + "'");
    return it->second;
  }
  /// The tensors of the operands `vs`, in order.
  std::vector<at::Tensor> inputs(mlir::ValueRange vs) const {
    std::vector<at::Tensor> xs;
    for (mlir::Value v : vs)
      xs.push_back(in(v));
    return xs;
  }
};

/// Runs a model-level op (ConvOp, C2fOp, MMBOp, DetectOp, ...) as its
/// Ultralytics module; nothing for any other op.
std::optional<at::Tensor> runModelOp(mlir::Operation *op, const OpContext &ctx);

/// Runs a primitive op (Conv2dOp, AttentionOp, DetectDecodeOp, ...);
/// nothing for any other op.
std::optional<at::Tensor> runPrimitiveOp(mlir::Operation *op,
                                         const OpContext &ctx);

} // namespace irmb::reference::detail

#endif // IRMB_REFERENCE_OPINTERPRETERS_H
