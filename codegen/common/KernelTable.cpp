//===- KernelTable.cpp - the kernels of a model and its descriptor --------===//
//
// Kernel names, FLOPs and the model descriptor (KernelTable.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/common/KernelTable.h"

#include "codegen/common/ModelQueries.h"
#include "dialects/IRMB/IR/KernelChoice.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace irmb;

namespace irmb::codegen {

std::pair<int, std::string> KernelTable::add(Operation *op) {
  std::string layer = layerName(op);
  int index = size();
  std::string name =
      llvm::formatv("{0}_{1}_{2}", identifier(layer.empty() ? "op" : layer),
                    stringifyKernel(*chosenKernel(op)), index)
          .str();
  names.push_back(name);
  layers.push_back(layerIndex(layer));
  flops.push_back(opFlops(op));
  return {index, name};
}

double opFlops(Operation *op) {
  auto elements = [](Value v) {
    double n = 1;
    for (int64_t d : shapeOf(v))
      n *= static_cast<double>(d);
    return n;
  };
  if (auto c = dyn_cast<Conv2dOp>(op)) {
    double taps = static_cast<double>(shapeOf(c.getInput())[1]) /
                  static_cast<double>(c.getGroups()) *
                  static_cast<double>(c.getKernel() * c.getKernel());
    return 2 * elements(c.getOutput()) * taps;
  }
  if (auto p = dyn_cast<ProjectionOp>(op))
    return 2 * elements(p->getResult(0)) *
           static_cast<double>(shapeOf(p.getInput())[1]);
  if (auto a = dyn_cast<AttentionOp>(op)) {
    // Every query against the T keys of its window: q·k and p·v.
    auto q = shapeOf(a.getQuery());
    double window = a.getWindow() > 0
                        ? static_cast<double>(a.getWindow() * a.getWindow())
                        : static_cast<double>(q[2] * q[3]);
    return 2 * window *
           (elements(a.getQuery()) + elements(a.getValue()));
  }
  return 0;
}

std::string cStringLiteral(llvm::StringRef text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c == '?') { // '?': no trigraphs
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else { // octal escapes end after three digits, unlike \x
      out += '\\';
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
    }
  }
  return out + "\"";
}

std::string KernelTable::tables(const Descriptor &d) const {
  std::string text = "static const char *const kClassNames[] = {\n";
  int64_t numClasses = d.output[1] - 4;
  for (int64_t c = 0; c < numClasses; ++c)
    text += "    " +
            cStringLiteral(static_cast<size_t>(c) < d.classNames.size()
                               ? d.classNames[c]
                               : std::to_string(c)) +
            ",\n";
  text += "};\nstatic const char *const kKernelNames[] = {\n";
  for (const std::string &n : names)
    text += "    \"" + n + "\",\n";
  text += "};\nstatic const int kKernelLayers[] = {";
  for (int l : layers)
    text += std::to_string(l) + ", ";
  text += "};\nstatic const double kKernelFlops[] = {";
  for (double f : flops)
    text += llvm::formatv("{0:e}, ", f).str();
  return text + "};\n\n";
}

std::string KernelTable::descriptor(const Descriptor &d) const {
  return llvm::formatv(
             "{{IRMB_MODEL_ABI_VERSION, {0}, {1}, {2}, {3},\n"
             "     {{{4}, {5}, {6}, {7}}, {{{8}, {9}, {10}},\n"
             "     {11}, {12}, {13}, {14}, {15}, kKernelNames, kKernelLayers,\n"
             "     kKernelFlops, kClassNames}",
             cStringLiteral(d.source), cStringLiteral(d.target),
             cStringLiteral(d.isa), cStringLiteral(d.precision), d.input[0], d.input[1],
             d.input[2], d.input[3], d.output[0], d.output[1], d.output[2],
             d.output[1] - 4, d.isV10 ? 1 : 0, d.arenaBytes, size(), d.launches)
      .str();
}

} // namespace irmb::codegen
