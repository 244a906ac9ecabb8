//===- ParseModel.h - Ultralytics parse_model semantics ---------*- C++ -*-===//
//
// Turns a ModelFile into resolved layers exactly as Ultralytics' parse_model
// does (ultralytics-semantics.md §2): scale choice, depth rounding, width
// scaling with make_divisible and max_channels, `nc` substitution, n
// insertion for repeat-absorbing modules, C3k2's forced c3k, Concat widths,
// Detect's channel list, and the iRMB / iEMA / C2f_iRMB registrations. Each
// layer's arguments are bound to its module's constructor signature, so a
// wrong count or type is reported at the argument's YAML position.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_FRONTEND_PARSEMODEL_H
#define IRMB_FRONTEND_PARSEMODEL_H

#include "frontend/YamlModel.h"
#include <optional>
#include <string>
#include <vector>

namespace irmb::frontend {

/// The modules the frontend understands.
enum class ModuleKind {
  Conv,
  DWConv,
  Concat,
  Upsample,
  C2f,
  C2fIRMB,
  C3k2,
  C2fCIB,
  SCDown,
  SPPF,
  PSA,
  C2PSA,
  IRMB,
  IEMA,
  Detect,
  V10Detect
};

/// Constructor arguments bound to parameter names (defaults filled in).
class BoundArgs {
public:
  /// Adds parameter `name` with value `v`.
  void add(std::string name, PyValue v);
  /// The value of parameter `name` (must exist).
  const PyValue &get(const std::string &name) const;
  /// Typed accessors; throw FrontendError naming the argument on a mismatch.
  int64_t integer(const std::string &name) const;
  double real(const std::string &name) const;
  bool boolean(const std::string &name) const;
  std::string string(const std::string &name) const;
  bool isNone(const std::string &name) const;

  std::string path;      ///< model file, for errors
  SourceLoc fallbackLoc; ///< row position, for inserted arguments
  std::string module;    ///< module name, for errors

private:
  std::vector<std::pair<std::string, PyValue>> values;
};

/// One YAML layer after parse_model.
struct ResolvedLayer {
  int64_t index = 0;
  std::vector<int64_t> from; ///< absolute layer indices; -1 = network input
  std::string fromText;      ///< `from` as written, for the summary
  int64_t repeats = 1; ///< n after depth scaling (as printed by Ultralytics)
  int64_t sequentialCopies =
      1; ///< >1 when the module is repeated in an nn.Sequential
  std::string moduleName;
  ModuleKind kind = ModuleKind::Conv;
  std::vector<PyValue> args; ///< resolved constructor arguments
  BoundArgs bound;           ///< the same, bound to parameter names
  int64_t outChannels = 0;   ///< width of the layer's output
  SourceLoc loc;
};

/// Options that override or complete the YAML.
struct ParseOptions {
  std::optional<std::string> scale;
  std::optional<int64_t> nc;
};

/// The resolved model.
struct ResolvedModel {
  std::string path;
  std::string scale; ///< "" when the file has no `scales`
  double depth = 1.0, width = 1.0;
  int64_t maxChannels = 0;
  int64_t nc = 80;
  int64_t inputChannels = 3;
  bool hasC3k2 = false; ///< decides Detect's class-branch form (>= 8.3.17)
  std::vector<ResolvedLayer> layers;
  std::vector<std::string> warnings;
};

/// Applies parse_model. Throws FrontendError.
ResolvedModel parseModel(const ModelFile &file, const ParseOptions &options);

/// Reads `path` and applies parse_model. Throws FrontendError.
ResolvedModel loadModel(const std::string &path, const ParseOptions &options);

/// Scale letter Ultralytics guesses from a file name (`yolov10n-iRMB.yaml` ->
/// "n"), or "" when the name has none.
std::string guessScaleFromPath(const std::string &path);

/// Python round() (half to even) of a double.
int64_t pythonRound(double x);
/// Ultralytics make_divisible(x, divisor) = ceil(x / divisor) * divisor.
int64_t makeDivisible(double x, int64_t divisor);

} // namespace irmb::frontend

#endif // IRMB_FRONTEND_PARSEMODEL_H
