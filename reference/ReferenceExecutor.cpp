//===- ReferenceExecutor.cpp - LibTorch oracle for irmb IR ----------------===//
//
// The executor: it copies the weights (folding every Ultralytics Conv's
// BatchNorm into its conv when asked), runs the ops of `@forward` in order,
// each through the model-level interpreter (ModelOps.cpp) or else the
// primitive one (PrimitiveOps.cpp), and keeps the output of every YAML
// layer; and the YOLOv10 post-processing of raw predictions.
//
//===----------------------------------------------------------------------===//
#include "reference/ReferenceExecutor.h"

#include "reference/OpInterpreters.h"

#include "irmb/irmb.h"

#include "dialects/IRMB/IR/IRMBOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include <optional>
#include <stdexcept>

using namespace mlir;
using namespace irmb;
using at::Tensor;
using ::irmb::weights::kBatchNormEps;

namespace irmb::reference {
namespace {

/// Runs one op: a model-level op, else a primitive op, else throws.
Tensor runOp(Operation *op, const detail::OpContext &ctx) {
  if (std::optional<Tensor> out = detail::runModelOp(op, ctx))
    return std::move(*out);
  if (std::optional<Tensor> out = detail::runPrimitiveOp(op, ctx))
    return std::move(*out);
  throw std::runtime_error("the reference executor cannot run " +
                           op->getName().getStringRef().str());
}

/// YAML layer index of an op key (`model.4` / `model.4.1` -> 4).
int64_t layerIndexOf(llvm::StringRef key) {
  llvm::StringRef rest = key.drop_front(key.find('.') + 1);
  int64_t index = 0;
  rest.take_until([](char c) { return c == '.'; }).getAsInteger(10, index);
  return index;
}

} // namespace

ReferenceExecutor::ReferenceExecutor(ModuleOp module,
                                     const weights::WeightMap &weights,
                                     bool foldBatchNorm)
    : module(module) {
  for (const auto &[key, t] : weights)
    this->weights[key] =
        at::from_blob(const_cast<float *>(t.values.data()), t.shape,
                      at::TensorOptions().dtype(at::kFloat))
            .clone();
  if (!foldBatchNorm)
    return;
  // Conv + BN -> conv with bias, per Ultralytics Conv (`<p>.conv.weight`
  // next to `<p>.bn.*`); MMB norms stay (they are not after a conv).
  std::vector<std::string> prefixes;
  for (const auto &kv : this->weights) {
    llvm::StringRef key(kv.first);
    if (key.ends_with(".bn.weight"))
      prefixes.push_back(key.drop_back(strlen(".bn.weight")).str());
  }
  for (const std::string &p : prefixes) {
    auto &w = this->weights;
    if (!w.count(p + ".conv.weight"))
      continue;
    Tensor scale = w[p + ".bn.weight"] /
                   at::sqrt(w[p + ".bn.running_var"] + kBatchNormEps);
    w[p + ".conv.weight"] = w[p + ".conv.weight"] * scale.view({-1, 1, 1, 1});
    w[p + ".conv.bias"] = w[p + ".bn.bias"] - w[p + ".bn.running_mean"] * scale;
  }
}

Tensor ReferenceExecutor::run(const Tensor &input,
                              std::vector<Tensor> *layerOutputs) const {
  ModuleOp m = module;
  auto func = *m.getOps<func::FuncOp>().begin();
  Block &body = func.getBody().front();
  llvm::DenseMap<Value, Tensor> values;
  values[body.getArgument(0)] = input.contiguous();
  std::function<Tensor(Value)> valueOf = [&](Value v) { return values[v]; };
  detail::OpContext ctx{weights, valueOf};
  at::NoGradGuard noGrad;
  for (Operation &op : body.without_terminator()) {
    Tensor out = runOp(&op, ctx);
    values[op.getResult(0)] = out;
    auto layer = dyn_cast<LayerOpInterface>(op);
    if (layerOutputs && layer) {
      auto index = static_cast<size_t>(layerIndexOf(layer.getKey()));
      if (layerOutputs->size() <= index)
        layerOutputs->resize(index + 1);
      (*layerOutputs)[index] = out;
    }
  }
  return values[body.getTerminator()->getOperand(0)];
}

Tensor v10Postprocess(const Tensor &raw, int64_t maxDetections) {
  Tensor r = raw.contiguous();
  int64_t k = std::min(maxDetections, r.size(2));
  Tensor out = at::zeros({r.size(0), k, 6}, r.options());
  irmb_postprocess_v10(r.data_ptr<float>(), r.size(0), r.size(1), r.size(2),
                       maxDetections, out.data_ptr<float>());
  return out;
}

} // namespace irmb::reference
