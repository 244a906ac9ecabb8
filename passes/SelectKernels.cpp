//===- SelectKernels.cpp - assign CPU kernels to primitive ops ------------===//
//
// The irmb-select-kernels pass: one `irmb.kernel = #irmb.kernel<...>`
// attribute per primitive op (KernelChoice.h), chosen from the op and its
// shapes. Code generation reads the attribute, so the choice is visible in
// the IR, testable with lit and overridable by a later pass; the dialect
// verifies that every choice fits its op.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "dialects/IRMB/IR/KernelChoice.h"
#include "passes/Passes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <string>

#define DEBUG_TYPE "irmb-select-kernels"

namespace irmb {
#define GEN_PASS_DEF_IRMBSELECTKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace irmb

using namespace mlir;
using namespace irmb;

namespace {

/// Fewest input and output channels for a Winograd convolution: the
/// transforms cost per channel what the GEMM costs per channel pair, so
/// narrow convolutions gain little. Measured on Zen 3 against the packed
/// direct GEMM (session 5): F(4×4) 1.2× at 16 → 16 channels, 1.6× at 32,
/// 1.9× at 64 and 128. Against the direct GEMM on the input's row grid
/// (session 11, Xeon, yolov10n in the model): 16 → 16 at 160² 1.1× at 1
/// thread but 0.64× at 2 (its bands do not scale), so 16 channels go direct.
constexpr int64_t kWinogradMinChannels = 32;


/// Why a 3×3 convolution cannot run by Winograd, or "" when it can.
/// `tile`: the Winograd output tile (4 for F(4×4), 2 for F(2×2));
/// `minTiles`: the fewest tiles a map needs. Winograd's GEMMs run the
/// tiles as columns, and a partial last panel runs a micro-kernel only as
/// many vectors wide as its columns. Before that (session 11, Xeon), a 20 ×
/// 20 map's 25 F(4×4) tiles filled half of a 48-column AVX-512 panel and the
/// direct GEMM was 1.2–1.3× faster there; with two-vector last panels
/// (session 17) Winograd at 20² is ahead (session 18, Zen 5, 16 tiles as
/// the floor: yolov10n 1.035–1.038 at 1 and 2 threads, the other four
/// models 1.006–1.053). 16 is one AVX-512 vector and AVX2's whole panel.
std::string winogradObstacle(Conv2dOp c, int64_t cin, int64_t cout,
                             int64_t tile, int64_t minTiles) {
  if (c.getStride() != 1)
    return "stride " + std::to_string(c.getStride());
  if (c.getDilation() != 1)
    return "dilation " + std::to_string(c.getDilation());
  if (c.getPadding() != 1)
    return "padding " + std::to_string(c.getPadding());
  if (c.getGroups() != 1)
    return std::to_string(c.getGroups()) + " groups";
  if (std::min(cin, cout) < kWinogradMinChannels)
    return std::to_string(std::min(cin, cout)) + " channels (fewer than " +
           std::to_string(kWinogradMinChannels) + ")";
  auto in = cast<RankedTensorType>(c.getInput().getType());
  int64_t m = tile, tiles = ((in.getDimSize(2) + m - 1) / m) *
                            ((in.getDimSize(3) + m - 1) / m);
  if (tiles < minTiles)
    return std::to_string(tiles) + " tiles of " + std::to_string(m) + "x" +
           std::to_string(m) + " (fewer than " + std::to_string(minTiles) +
           ")";
  return "";
}

/// Whether a convolution is the direct kernel's shape (DirectConv.h): 3×3,
/// stride 2, padding 1, dilation 1, one group.
bool directStride2Shape(Conv2dOp c) {
  return c.getKernel() == 3 && c.getStride() == 2 && c.getPadding() == 1 &&
         c.getDilation() == 1 && c.getGroups() == 1;
}

/// The kernel of a convolution, by shape; `winograd` is the pass option
/// (f4, f2 or off), `winogradMinTiles` the fewest tiles it needs (see
/// winogradObstacle), `direct` the direct-stride2 option and
/// `directMinChannels` its input channel minimum. With `report`, 3×3
/// convolutions get a remark "winograd <site>: <kernel> | not used: <why>",
/// and those of the direct kernel's shape, with `direct`, "direct <site>:
/// direct_s2 | not used: <why>".
Kernel convKernel(Conv2dOp c, StringRef winograd, int64_t winogradMinTiles,
                  bool direct, int64_t directMinChannels, bool report) {
  auto in = cast<RankedTensorType>(c.getInput().getType());
  auto out = cast<RankedTensorType>(c.getType());
  int64_t cin = in.getDimSize(1), cout = out.getDimSize(1);
  int64_t groups = static_cast<int64_t>(c.getGroups());
  if (groups > 1 && groups == cin && groups == cout)
    return Kernel::depthwise;
  if (c.getKernel() == 1 && c.getStride() == 1 && c.getPadding() == 0)
    return Kernel::gemm;
  if (c.getKernel() != 3)
    return Kernel::im2col_gemm;
  std::string obstacle = winograd == "off" ? std::string("--winograd=off")
                       : winogradObstacle(c, cin, cout, winograd == "f2" ? 2 : 4,
                                          winogradMinTiles);
  const bool directShape = obstacle.size() && direct && directStride2Shape(c);
  const bool byDirect = directShape && cin >= directMinChannels;
  Kernel kernel = byDirect             ? Kernel::direct_s2
                  : !obstacle.empty() ? Kernel::im2col_gemm
                  : winograd == "f2"   ? Kernel::winograd_f2
                                       : Kernel::winograd_f4;
  if (report) {
    std::string site = "conv3x3 " + std::to_string(cin) + "->" +
                       std::to_string(cout) + " at " +
                       std::to_string(in.getDimSize(2)) + "x" +
                       std::to_string(in.getDimSize(3));
    if (obstacle.empty())
      c.emitRemark() << "winograd " << site << ": "
                     << stringifyKernel(kernel);
    else
      c.emitRemark() << "winograd " << site << ": not used: " << obstacle;
    if (byDirect)
      c.emitRemark() << "direct " << site << ": " << stringifyKernel(kernel);
    else if (directShape)
      c.emitRemark() << "direct " << site << ": not used: " << cin
                     << " input channels (fewer than " << directMinChannels
                     << ")";
  }
  return kernel;
}

/// The kernel of a primitive op, or none for ops that are not primitives.
std::optional<Kernel> kernelFor(Operation *op, StringRef winograd,
                                int64_t winogradMinTiles, bool direct,
                                int64_t directMinChannels, bool report) {
  return llvm::TypeSwitch<Operation *, std::optional<Kernel>>(op)
      .Case([&](Conv2dOp c) {
        return convKernel(c, winograd, winogradMinTiles, direct, directMinChannels,
                          report);
      })
      .Case([](BatchNormOp) { return Kernel::channel_affine; })
      .Case([](ActivationOp) { return Kernel::activation; })
      .Case([](AddOp) { return Kernel::add; })
      .Case([](SliceOp s) {
        return s.getView() ? Kernel::view : Kernel::slice_copy;
      })
      .Case([](CatOp c) {
        return c.getInPlace() ? Kernel::concat_in_place : Kernel::concat_copy;
      })
      .Case([](ProjectionOp) { return Kernel::projection; })
      .Case([](PadOp) { return Kernel::pad; })
      .Case([](CropOp) { return Kernel::crop; })
      .Case([](MaxPoolOp) { return Kernel::max_pool; })
      .Case([](ResizeNearestOp) { return Kernel::resize_nearest; })
      .Case([](AttentionOp a) {
        return a.getWindow() > 0 ? Kernel::window_attention
                                 : Kernel::global_attention;
      })
      .Case([](EMAOp e) {
        return e.getStreaming() || e.getNorm() ? Kernel::ema_streaming
                                               : Kernel::ema;
      })
      .Case([](SqueezeExciteOp) { return Kernel::squeeze_excite; })
      .Case([](DetectDecodeOp) { return Kernel::detect_decode; })
      .Default([](Operation *) { return std::nullopt; });
}

struct IRMBSelectKernelsPass final
    : irmb::impl::IRMBSelectKernelsPassBase<IRMBSelectKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (winograd != "f4" && winograd != "f2" && winograd != "off") {
      getOperation().emitError()
          << "winograd=" << winograd << " is not available (f4, f2, off)";
      return signalPassFailure();
    }
    WalkResult result = getOperation().walk([&](Operation *op) {
      if (!isa<IRMBDialect>(op->getDialect()))
        return WalkResult::advance();
      std::optional<Kernel> kernel =
          kernelFor(op, winograd, winogradMinTiles, directStride2,
                    directMinChannels, report);
      if (!kernel) {
        op->emitOpError("is not a primitive op (run --irmb-decompose first)");
        return WalkResult::interrupt();
      }
      setChosenKernel(op, *kernel);
      ++numAnnotated;
      if (*kernel == Kernel::winograd_f2 || *kernel == Kernel::winograd_f4)
        ++numWinograd;
      else if (*kernel == Kernel::direct_s2)
        ++numDirect;
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
