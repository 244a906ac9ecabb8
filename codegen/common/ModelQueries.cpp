//===- ModelQueries.cpp - what the emitters ask of the IR -----------------===//
//
// Shapes, layer names, source lines, the chosen kernel and the model body
// (ModelQueries.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/common/ModelQueries.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

#include <cctype>
#include <cstdlib>

using namespace mlir;
using namespace irmb;

namespace irmb::codegen {

int64_t perImage(Value v) {
  int64_t n = 1;
  for (int64_t d : shapeOf(v).drop_front())
    n *= d;
  return n;
}

const char *actName(Activation act) {
  switch (act) {
  case Activation::none:
    return "Act::None";
  case Activation::relu:
    return "Act::Relu";
  case Activation::relu6:
    return "Act::Relu6";
  case Activation::silu:
    return "Act::Silu";
  }
  return "Act::None";
}

std::string layerName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return "";
}

int layerIndex(const std::string &name) {
  size_t dot = name.find('.');
  return dot == std::string::npos ? -1 : std::atoi(name.c_str() + dot + 1);
}

std::string identifier(std::string text) {
  for (char &c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return text;
}

std::string sourceLine(Operation *op) {
  Location loc = op->getLoc();
  if (auto name = dyn_cast<NameLoc>(loc))
    loc = name.getChildLoc();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return llvm::formatv(" ({0}:{1})", file.getFilename().getValue(),
                         file.getLine())
        .str();
  return "";
}

FailureOr<ModelBody> modelBody(ModuleOp module) {
  auto funcs = module.getOps<func::FuncOp>();
  if (funcs.empty())
    return module.emitError("no function to emit");
  Block &body = (*funcs.begin()).getBody().front();
  ModelBody m{&body, body.getArgument(0), body.getTerminator()->getOperand(0)};
  if (shapeOf(m.result).size() != 3)
    return module.emitError("only detection models (a Detect or v10Detect "
                            "head) can be compiled");
  return m;
}

} // namespace irmb::codegen
