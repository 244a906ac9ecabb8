//===- CommandLine.cpp - shared command-line handling of the tools --------===//
//
// Implements CommandLine.h.
//
//===----------------------------------------------------------------------===//
#include "tools/common/CommandLine.h"

#include "weights/ZipArchive.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cstdlib>

namespace irmb::tools {

bool ArgReader::advance() {
  if (index >= args.size())
    return false;
  arg = args[index++];
  size_t eq = arg.find('=');
  hasInline = arg.rfind("--", 0) == 0 && eq != std::string::npos;
  if (hasInline) {
    inlineValue = arg.substr(eq + 1);
    arg = arg.substr(0, eq);
  }
  return true;
}

std::string ArgReader::value() {
  if (hasInline)
    return inlineValue;
  if (index >= args.size())
    throw UsageError{arg + " expects a value"};
  return args[index++];
}

int64_t parsePositive(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1 || v > (1LL << 40))
    throw UsageError{flag + " expects a positive integer, got '" + text + "'"};
  return v;
}

/// Parses `S` or `H,W` and checks the multiple-of-32 rule.
static void parseImageSize(const std::string &text,
                           frontend::ImportOptions &options) {
  size_t comma = text.find(',');
  int64_t h = parsePositive("--imgsz", text.substr(0, comma));
  int64_t w = comma == std::string::npos
                  ? h
                  : parsePositive("--imgsz", text.substr(comma + 1));
  if (h > 16384 || w > 16384)
    throw UsageError{"--imgsz " + text + " is larger than 16384"};
  if (h % 32 != 0 || w % 32 != 0)
    throw UsageError{"--imgsz " + text +
                     " is not a multiple of 32 (the largest stride)"};
  options.height = h;
  options.width = w;
}

bool ModelOptions::consume(ArgReader &reader) {
  const std::string &arg = reader.current();
  if (arg == "--scale") {
    parse.scale = reader.value();
  } else if (arg == "--imgsz") {
    parseImageSize(reader.value(), import);
    imgszGiven = true;
  } else if (arg == "--batch") {
    import.batch = parsePositive("--batch", reader.value());
    if (import.batch > 4096)
      throw UsageError{"--batch must be at most 4096"};
    batchGiven = true;
  } else if (arg == "--nc") {
    parse.nc = parsePositive("--nc", reader.value());
  } else if (arg == "--weights") {
    weights = reader.value();
  } else if (arg == "--seed") {
    std::string v = reader.value();
    seed = v == "0" ? 0 : parsePositive("--seed", v);
  } else {
    return false;
  }
  return true;
}

/// One line per resolved layer: what parse_model built and from what.
static std::vector<std::string>
signatures(const frontend::ResolvedModel &model) {
  std::vector<std::string> out;
  for (const frontend::ResolvedLayer &l : model.layers) {
    std::string args;
    for (const frontend::PyValue &a : l.args)
      args += (args.empty() ? "" : ", ") + a.repr();
    out.push_back("layer " + std::to_string(l.index) + " (" + l.moduleName +
                  " from " + l.fromText + ", n=" + std::to_string(l.repeats) +
                  ", args [" + args + "])");
  }
  return out;
}

void ModelOptions::checkSameModel(const weights::TorchCheckpoint &ckpt) const {
  if (ckpt.modelYaml.empty() || layerSignatures.empty())
    return;
  frontend::ModelFile file =
      frontend::readModelText(ckpt.modelYaml, weights + ":model.yaml");
  frontend::ParseOptions options = parse;
  if (!options.scale)
    options.scale = ckpt.scale;
  file.scale = ckpt.scale;
  std::vector<std::string> stored;
  try {
    stored = signatures(frontend::parseModel(file, options));
  } catch (const frontend::FrontendError &) {
    return; // the checkpoint's YAML does not parse here: keys decide alone
  }
  for (size_t i = 0; i < std::max(stored.size(), layerSignatures.size());
       ++i) {
    std::string mine = i < layerSignatures.size() ? layerSignatures[i]
                                                  : "no layer " +
                                                        std::to_string(i);
    std::string theirs =
        i < stored.size() ? stored[i] : "no layer " + std::to_string(i);
    if (mine != theirs)
      throw weights::CheckpointError(
          weights, "was trained as a different model: " + theirs +
                       " in its stored YAML, but " + mine + " in " +
                       modelPath +
                       " (compile the checkpoint alone, without a YAML, or "
                       "fix the YAML)");
  }
}

frontend::ResolvedModel ModelOptions::loadModel(const std::string &path) {
  modelPath = path;
  if (!weights::ZipArchive::looksLikeZip(path)) {
    frontend::ResolvedModel model = frontend::loadModel(path, parse);
    layerSignatures = signatures(model);
    return model;
  }
  modelCheckpoint = weights::readTorchCheckpoint(path);
  const weights::TorchCheckpoint &ckpt = *modelCheckpoint;
  if (ckpt.modelYaml.empty())
    throw weights::CheckpointError(
        path, "holds no model YAML (a bare state_dict or a module without "
              "'yaml'); give the YAML and use the file as weights: "
              "MODEL.yaml --weights " +
                  path);
  frontend::ModelFile file =
      frontend::readModelText(ckpt.modelYaml, path + ":model.yaml");
  file.scale = ckpt.scale;
  names = ckpt.classNames;
  if (!imgszGiven && ckpt.imageHeight && ckpt.imageWidth) {
    // Ultralytics' check_imgsz: round each side up to the largest stride.
    import.height = (*ckpt.imageHeight + 31) / 32 * 32;
    import.width = (*ckpt.imageWidth + 31) / 32 * 32;
    if (import.height > 16384 || import.width > 16384)
      throw weights::CheckpointError(path, "training imgsz is larger than "
                                           "16384; pass --imgsz");
  }
  return frontend::parseModel(file, parse);
}

weights::WeightMap ModelOptions::loadWeightsFor(mlir::ModuleOp module) {
  if (!weights.empty()) {
    if (!weights::ZipArchive::looksLikeZip(weights))
      return weights::loadWeights(module, weights);
    weights::TorchCheckpoint ckpt = weights::readTorchCheckpoint(weights);
    checkSameModel(ckpt);
    if (!ckpt.classNames.empty())
      names = ckpt.classNames;
    return weights::checkWeights(module, std::move(ckpt.tensors), weights);
  }
  if (modelCheckpoint)
    return weights::checkWeights(module, std::move(modelCheckpoint->tensors),
                                 modelPath);
  return weights::randomWeights(module, seed);
}


void consumeCommon(const std::string &arg, std::string &modelPath,
                   const char *usage) {
  if (arg == "--help" || arg == "-h") {
    llvm::outs() << usage;
    llvm::outs().flush();
    std::exit(0);
  }
  if (!arg.empty() && arg[0] == '-')
    throw UsageError{"unknown option '" + arg + "'\n" + usage};
  if (!modelPath.empty())
    throw UsageError{"more than one model file ('" + modelPath + "', '" + arg +
                     "')"};
  modelPath = arg;
}

int runDriver(const std::function<int()> &body) {
  try {
    return body();
  } catch (const UsageError &e) {
    llvm::errs() << "error: " << e.message << "\n";
  } catch (const std::exception &e) { // FrontendError, CheckpointError, ...
    llvm::errs() << "error: " << e.what() << "\n";
  }
  return 1;
}

void installDiagnosticHandler(mlir::MLIRContext &context) {
  context.printOpOnDiagnostic(false);
  context.getDiagEngine().registerHandler([](mlir::Diagnostic &diag) {
    const char *severity =
        diag.getSeverity() == mlir::DiagnosticSeverity::Error     ? "error"
        : diag.getSeverity() == mlir::DiagnosticSeverity::Warning ? "warning"
                                                                  : "note";
    llvm::errs() << severity << ": ";
    if (auto loc = llvm::dyn_cast<mlir::FileLineColLoc>(diag.getLocation()))
      llvm::errs() << loc.getFilename().getValue() << ":" << loc.getLine()
                   << ":" << loc.getColumn() << ": ";
    llvm::errs() << diag.str() << "\n";
    return mlir::success();
  });
}

} // namespace irmb::tools
