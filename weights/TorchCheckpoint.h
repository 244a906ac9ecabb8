//===- TorchCheckpoint.h - an Ultralytics best.pt as irmb needs it -*- C++ -*-=//
//
// Reads a `torch.save` file (zip archive + data.pkl, see ZipArchive and
// Unpickler) without running it, and takes from it what compiling needs:
// the state_dict, found by walking `_modules` / `_parameters` / `_buffers`
// (minus `_non_persistent_buffers_set`) of `ema` when present, else `model`,
// as Ultralytics loads a checkpoint; the model YAML the trainer stored
// (`model.yaml`, with its `scale`), re-written as YAML text for the
// frontend; the class names (`model.names`); and the training image size
// (`model.args.imgsz`). A bare state_dict (`torch.save(model.state_dict())`)
// or a pickled module load too, with tensors only. Tensors honour storage
// offsets and strides; fp16 / bf16 / fp32 / fp64 storages become float32,
// int64 ones stay int64; every size is checked against the storage member.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_WEIGHTS_TORCHCHECKPOINT_H
#define IRMB_WEIGHTS_TORCHCHECKPOINT_H

#include "weights/SafeTensors.h"
#include <optional>

namespace irmb::weights {

/// What irmb takes from a `.pt` file.
struct TorchCheckpoint {
  Checkpoint tensors; ///< by state_dict key (`model.23.qk.conv.weight`)
  /// Where the tensors came from: `ema`, `model`, `state_dict` or `module`.
  std::string source;
  /// `model.yaml` as YAML text (empty when the file holds no model object
  /// with a `yaml` dict); one row of backbone / head per line.
  std::string modelYaml;
  std::optional<std::string> scale;    ///< `model.yaml['scale']`
  std::vector<std::string> classNames; ///< `model.names`, by class index
  std::optional<int64_t> imageHeight, imageWidth; ///< `model.args.imgsz`
  std::string ultralyticsVersion; ///< the checkpoint's `version`, if any
};

/// Reads `path`. Throws CheckpointError naming the file and what is wrong
/// (zip member, pickle offset, key).
TorchCheckpoint readTorchCheckpoint(const std::string &path);

/// Reads the `.pt` file held in `bytes` (`path` names it in errors).
TorchCheckpoint parseTorchCheckpoint(std::string bytes,
                                     const std::string &path);

/// The tensors of a checkpoint file of either format: a zip `.pt` file
/// (by its magic bytes) or safetensors.
Checkpoint readCheckpointTensors(const std::string &path);

} // namespace irmb::weights

#endif // IRMB_WEIGHTS_TORCHCHECKPOINT_H
