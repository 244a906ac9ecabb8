//===- YamlModel.h - read an Ultralytics model YAML -------------*- C++ -*-===//
//
// Reads an Ultralytics model file with yaml-cpp into a ModelFile: the
// top-level keys (nc, scales, ch, depth/width multiples, activation) and the
// joined backbone + head rows `[from, repeats, module, args]`, every piece
// with its line and column. Nothing here knows module semantics; that is
// ParseModel's job. Malformed input raises FrontendError.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_FRONTEND_YAMLMODEL_H
#define IRMB_FRONTEND_YAMLMODEL_H

#include "frontend/PyValue.h"
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace irmb::frontend {

/// Limits on what a model file may ask for, generous for real models
/// (docs/reliability.md): each is an error naming the YAML position.
constexpr size_t kMaxModelFileBytes = size_t(1) << 20;
constexpr size_t kMaxLayers = 1024;
constexpr int64_t kMaxRepeats = 1000;         ///< `n` of a row, as written
constexpr int64_t kMaxClasses = 10000;        ///< nc (LVIS has 1203)
constexpr int64_t kMaxInputChannels = 256;    ///< ch
constexpr int64_t kMaxModelChannels = int64_t(1) << 20; ///< any layer width
constexpr double kMaxMultiple = 16.0;         ///< depth / width multiples

/// A user-facing error in a model file: `<path>:<line>:<col>: <message>`.
class FrontendError : public std::runtime_error {
public:
  FrontendError(const std::string &path, SourceLoc loc,
                const std::string &message);
  std::string path;
  SourceLoc loc;
  std::string message;
};

/// One `scales` entry: letter -> [depth, width, max_channels].
struct ScaleEntry {
  std::string name;
  double depth = 1.0, width = 1.0;
  int64_t maxChannels = 0;
  SourceLoc loc;
};

/// One row `[from, repeats, module, args]` of backbone or head.
struct LayerRow {
  std::vector<int64_t> from; ///< as written (negative = relative)
  bool fromIsList = false;
  int64_t repeats = 1;
  std::string module;
  std::vector<PyValue> args; ///< after YAML scalar resolution only
  SourceLoc loc, fromLoc, repeatsLoc, moduleLoc, argsLoc;
};

/// The content of a model YAML file.
struct ModelFile {
  std::string path;
  std::optional<int64_t> nc;
  SourceLoc ncLoc;
  std::vector<ScaleEntry> scales; ///< in file order
  SourceLoc scalesLoc;
  std::optional<double> depthMultiple, widthMultiple;
  int64_t inputChannels = 3;
  std::optional<std::string> activation;
  SourceLoc activationLoc;
  std::vector<LayerRow> layers; ///< backbone rows, then head rows
  /// The scale stored with the model (a checkpoint's `model.yaml['scale']`,
  /// set by the caller, never read from a YAML file: Ultralytics replaces
  /// a file's `scale` key with the guess from its name).
  std::optional<std::string> scale;
};

/// Reads and structurally checks `path`. Throws FrontendError.
ModelFile readModelFile(const std::string &path);

/// Reads model YAML `text` that did not come from a file of its own (the
/// YAML stored in a checkpoint); `path` names it in errors
/// (`best.pt:model.yaml`). Throws FrontendError.
ModelFile readModelText(const std::string &text, const std::string &path);

} // namespace irmb::frontend

#endif // IRMB_FRONTEND_YAMLMODEL_H
