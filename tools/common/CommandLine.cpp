//===- CommandLine.cpp - shared command-line handling of the tools --------===//
//
// Implements CommandLine.h.
//
//===----------------------------------------------------------------------===//
#include "tools/common/CommandLine.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"
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

weights::WeightMap ModelOptions::loadWeightsFor(mlir::ModuleOp module) const {
  return weights.empty() ? weights::randomWeights(module, seed)
                         : weights::loadWeights(module, weights);
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
