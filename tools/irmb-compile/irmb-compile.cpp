//===- irmb-compile.cpp - the irmb compiler driver ------------------------===//
//
// Reads an Ultralytics model YAML, applies parse_model, builds the irmb IR and
// prints the requested stage: `--summary` (layer table, parameters, GFLOPs),
// `--emit=irmb` (the model-level module) or `--emit=state-dict` (the expected
// checkpoint keys and shapes). Every user error is one line
// `error: <file>:<line>:<col>: <what>` and exit code 1.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBDialect.h"
#include "frontend/ImportModel.h"
#include "frontend/Summary.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

using namespace irmb::frontend;

namespace {

/// What irmb-compile was asked to do.
struct Options {
  std::string model;
  ParseOptions parse;
  ImportOptions import;
  bool summary = false;
  std::string emit; ///< "" | irmb | state-dict
};

/// A command-line problem, reported as `error: <message>`.
struct UsageError {
  std::string message;
};

const char *usage =
    "usage: irmb-compile MODEL.yaml (--summary | --emit=irmb|state-dict)\n"
    "                    [--scale n|s|m|l|x] [--imgsz S | --imgsz H,W]\n"
    "                    [--batch B] [--nc N]\n";

/// Parses a positive integer flag value.
int64_t positive(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1)
    throw UsageError{flag + " expects a positive integer, got '" + text + "'"};
  return v;
}

/// Parses `S` or `H,W` and checks the multiple-of-32 rule.
void parseImageSize(const std::string &text, ImportOptions &options) {
  size_t comma = text.find(',');
  int64_t h = positive("--imgsz", text.substr(0, comma));
  int64_t w = comma == std::string::npos
                  ? h
                  : positive("--imgsz", text.substr(comma + 1));
  if (h > 16384 || w > 16384)
    throw UsageError{"--imgsz " + text + " is larger than 16384"};
  if (h % 32 != 0 || w % 32 != 0)
    throw UsageError{"--imgsz " + text +
                     " is not a multiple of 32 (the largest stride)"};
  options.height = h;
  options.width = w;
}

Options parseCommandLine(int argc, char **argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    size_t eq = arg.find('=');
    bool inlineValue = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inlineValue) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto next = [&]() -> std::string {
      if (inlineValue)
        return value;
      if (i + 1 >= args.size())
        throw UsageError{arg + " expects a value"};
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      llvm::outs() << usage;
      std::exit(0);
    } else if (arg == "--summary") {
      o.summary = true;
    } else if (arg == "--emit") {
      o.emit = next();
      if (o.emit != "irmb" && o.emit != "state-dict")
        throw UsageError{"--emit=" + o.emit +
                         " is not available (choose irmb or state-dict)"};
    } else if (arg == "--scale") {
      o.parse.scale = next();
    } else if (arg == "--imgsz") {
      parseImageSize(next(), o.import);
    } else if (arg == "--batch") {
      o.import.batch = positive("--batch", next());
    } else if (arg == "--nc") {
      o.parse.nc = positive("--nc", next());
    } else if (arg == "-o" || arg == "--weights" || arg == "--target" ||
               arg == "--precision" || arg == "--seed") {
      throw UsageError{arg + " belongs to code generation, which this build "
                             "does not have yet; use --summary or --emit"};
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError{"unknown option '" + arg + "'\n" + usage};
    } else if (o.model.empty()) {
      o.model = arg;
    } else {
      throw UsageError{"more than one model file ('" + o.model + "', '" + arg +
                       "')"};
    }
  }
  if (o.model.empty())
    throw UsageError{std::string("no model file given\n") + usage};
  if (!o.summary && o.emit.empty())
    throw UsageError{std::string("nothing to do: pass --summary or --emit\n") +
                     usage};
  return o;
}

/// Prints MLIR diagnostics as `error: <file>:<line>:<col>: <message>`.
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

int run(const Options &options) {
  ResolvedModel model = loadModel(options.model, options.parse);
  for (const std::string &w : model.warnings)
    llvm::errs() << "warning: " << w << "\n";
  mlir::MLIRContext context;
  installDiagnosticHandler(context);
  LayerOps layerOps;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importModel(context, model, options.import, &layerOps);
  if (!module)
    return 1;
  if (options.summary)
    printSummary(llvm::outs(), model, layerOps);
  if (options.emit == "irmb")
    module->print(llvm::outs()), llvm::outs() << "\n";
  else if (options.emit == "state-dict")
    printStateDict(llvm::outs(), *module);
  llvm::outs().flush();
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(parseCommandLine(argc, argv));
  } catch (const UsageError &e) {
    llvm::errs() << "error: " << e.message << "\n";
  } catch (const FrontendError &e) {
    llvm::errs() << "error: " << e.what() << "\n";
  }
  return 1;
}
