//===- ReferenceExecutor.h - LibTorch oracle for irmb IR --------*- C++ -*-===//
//
// Executes model-level irmb IR op by op with ATen, reproducing the PyTorch
// modules of Ultralytics (and the EMO iRMB / iEMA) in eval mode: BatchNorm
// with eps 1e-3, the strided iRMB window grid with zero padding after the
// norm, EMA, the Detect decoding. It is the test oracle for every generated
// kernel and fusion and the PyTorch-eager baseline of the benchmarks; it is
// never linked into compiled models.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_REFERENCE_REFERENCEEXECUTOR_H
#define IRMB_REFERENCE_REFERENCEEXECUTOR_H

#include "weights/Weights.h"
#include "mlir/IR/BuiltinOps.h"
#include <ATen/ATen.h>
#include <map>
#include <string>
#include <vector>

namespace irmb::reference {

/// Runs the `@forward` function of an irmb module with ATen.
class ReferenceExecutor {
public:
  /// Takes the weights (checked against the module by the loader). With
  /// `foldBatchNorm`, every Ultralytics Conv's BatchNorm is folded into its
  /// conv first (the deployed PyTorch model: `model.fuse()`), which is how
  /// the benchmarks time PyTorch eager.
  ReferenceExecutor(mlir::ModuleOp module,
                    const irmb::weights::WeightMap &weights,
                    bool foldBatchNorm = false);

  /// Runs the network on `input` ([B, C, H, W] float32, the shape the module
  /// was built for) and returns its result (for detectors the raw
  /// predictions [B, 4 + nc, A]). When `layerOutputs` is given it receives
  /// the output of every YAML layer, indexed by layer.
  at::Tensor run(const at::Tensor &input,
                 std::vector<at::Tensor> *layerOutputs = nullptr) const;

private:
  mlir::ModuleOp module;
  std::map<std::string, at::Tensor> weights;
};

/// The YOLOv10 post-processing (two-stage top-k, max_det = K) of raw
/// predictions [B, 4 + nc, A]: [B, min(K, A), 6] rows x1, y1, x2, y2, score,
/// label, ties broken toward the lower index.
at::Tensor v10Postprocess(const at::Tensor &raw, int64_t maxDetections = 300);

} // namespace irmb::reference

#endif // IRMB_REFERENCE_REFERENCEEXECUTOR_H
