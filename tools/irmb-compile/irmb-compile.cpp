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
#include "tools/common/CommandLine.h"
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

using namespace irmb::tools;

/// What irmb-compile was asked to do.
struct Options {
  std::string model;
  ModelOptions modelOptions;
  bool summary = false;
  std::string emit; ///< "" | irmb | state-dict
};

const char *usage =
    "usage: irmb-compile MODEL.yaml (--summary | --emit=irmb|state-dict)\n"
    "                    [--scale n|s|m|l|x] [--imgsz S | --imgsz H,W]\n"
    "                    [--batch B] [--nc N]\n";

Options parseCommandLine(int argc, char **argv) {
  Options o;
  ArgReader reader(argc, argv);
  while (reader.advance()) {
    const std::string &arg = reader.current();
    if (arg == "--help" || arg == "-h") {
      llvm::outs() << usage;
      std::exit(0);
    } else if (o.modelOptions.consume(reader)) {
      continue;
    } else if (arg == "--summary") {
      o.summary = true;
    } else if (arg == "--emit") {
      o.emit = reader.value();
      if (o.emit != "irmb" && o.emit != "state-dict")
        throw UsageError{"--emit=" + o.emit +
                         " is not available (choose irmb or state-dict)"};
    } else if (arg == "-o" || arg == "--weights" || arg == "--target" ||
               arg == "--precision" || arg == "--seed") {
      throw UsageError{arg + " belongs to code generation, which this build "
                             "does not have yet; use --summary or --emit"};
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError{"unknown option '" + arg + "'\n" + usage};
    } else if (o.model.empty()) {
      o.model = arg;
    } else {
      throw UsageError{"more than one model file ('" + o.model + "', '" +
                       arg + "')"};
    }
  }
  if (o.model.empty())
    throw UsageError{std::string("no model file given\n") + usage};
  if (!o.summary && o.emit.empty())
    throw UsageError{std::string("nothing to do: pass --summary or --emit\n") +
                     usage};
  return o;
}

int run(const Options &options) {
  ResolvedModel model = loadModel(options.model, options.modelOptions.parse);
  for (const std::string &w : model.warnings)
    llvm::errs() << "warning: " << w << "\n";
  mlir::MLIRContext context;
  installDiagnosticHandler(context);
  LayerOps layerOps;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importModel(context, model, options.modelOptions.import, &layerOps);
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
