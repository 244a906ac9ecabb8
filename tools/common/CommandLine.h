//===- CommandLine.h - shared command-line handling of the tools -*- C++
//-*-===//
//
// What irmb-compile and irmb-reference share: reading `--flag value` /
// `--flag=value` arguments, the model options (--scale, --imgsz, --batch,
// --nc) with their checks, and the diagnostic handler that prints MLIR errors
// as one line `error: FILE:LINE:COL: message`.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_TOOLS_COMMON_COMMANDLINE_H
#define IRMB_TOOLS_COMMON_COMMANDLINE_H

#include "frontend/ImportModel.h"
#include "weights/TorchCheckpoint.h"
#include "weights/Weights.h"
#include "mlir/IR/MLIRContext.h"
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace irmb::tools {

/// A command-line problem, reported as `error: <message>`.
struct UsageError {
  std::string message;
};

/// Walks argv; `next()` returns the value of the current flag.
class ArgReader {
public:
  ArgReader(int argc, char **argv) : args(argv + 1, argv + argc) {}
  /// Advances to the next argument; false at the end.
  bool advance();
  /// The current flag or positional argument (without any `=value`).
  const std::string &current() const { return arg; }
  /// The current flag's value (inline `=value` or the next argument).
  std::string value();

private:
  std::vector<std::string> args;
  size_t index = 0;
  std::string arg, inlineValue;
  bool hasInline = false;
};

/// Parses a positive integer flag value.
int64_t parsePositive(const std::string &flag, const std::string &text);

/// The model options common to the tools (--scale, --imgsz, --batch, --nc,
/// --weights, --seed); `imgszGiven`/`batchGiven` tell whether the user set
/// them.
struct ModelOptions {
  frontend::ParseOptions parse;
  frontend::ImportOptions import;
  bool imgszGiven = false, batchGiven = false;
  std::string weights; ///< "" = random weights from `seed`
  uint64_t seed = 0;
  /// Consumes the current argument if it is a model option.
  bool consume(ArgReader &reader);

  /// Reads the model file: a YAML, or a `.pt` checkpoint (recognised by its
  /// zip magic, whatever its name) whose stored `model.yaml` and `scale`
  /// are the model, whose training `imgsz` is the default --imgsz, and
  /// whose tensors are the default weights. Throws FrontendError /
  /// CheckpointError.
  frontend::ResolvedModel loadModel(const std::string &path);
  /// The weights: --weights (safetensors or .pt, checked against the
  /// model), else the model checkpoint's own, else random ones from the
  /// seed.
  weights::WeightMap loadWeightsFor(mlir::ModuleOp module);
  /// Class names from the checkpoint that provided the model or the
  /// weights; empty when neither was a `.pt` with `names`.
  const std::vector<std::string> &classNames() const { return names; }

private:
  /// Fails when the YAML stored in `ckpt` (from --weights) resolves to
  /// other layers than the model file does: the weights could fit a model
  /// that computes something else (a shortcut flag, an upsample mode).
  void checkSameModel(const weights::TorchCheckpoint &ckpt) const;

  std::optional<weights::TorchCheckpoint> modelCheckpoint;
  std::string modelPath;
  std::vector<std::string> names;
  std::vector<std::string> layerSignatures; ///< of the model file's layers
};

/// Handles what every driver accepts besides its own flags: --help (prints
/// `usage`, exits), unknown options, and the one positional model path.
void consumeCommon(const std::string &arg, std::string &modelPath,
                   const char *usage);

/// Runs a driver's body and turns every error it throws (usage, model file,
/// checkpoint, anything else) into one `error: ...` line and exit code 1.
int runDriver(const std::function<int()> &body);

/// Prints MLIR diagnostics as `error: <file>:<line>:<col>: <message>`.
void installDiagnosticHandler(mlir::MLIRContext &context);

} // namespace irmb::tools

#endif // IRMB_TOOLS_COMMON_COMMANDLINE_H
