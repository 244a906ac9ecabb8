//===- EmitSupport.h - what every code generator shares ---------*- C++ -*-===//
//
// The target-independent half of code generation, used by the CPU (EmitCpp)
// and CUDA (EmitCuda) emitters: the weights blob with BatchNorms folded into
// their convolutions, the storage plan (views and in-place cats resolved to
// a root value and an offset, first-fit arena offsets over root lifetimes)
// and the naming of kernels after their YAML layer and source line.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_EMITSUPPORT_H
#define IRMB_CODEGEN_COMMON_EMITSUPPORT_H

#include "dialects/IRMB/IR/IRMBOps.h"
#include "weights/Weights.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace irmb::codegen {

/// The shape of a ranked tensor value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);
/// Elements of one image of a value (all dimensions but the batch).
int64_t perImage(mlir::Value v);
/// The kernel-library spelling of an activation ("Act::Silu", ...).
const char *actName(mlir::irmb::Activation act);
/// The YAML layer an op came from (its NameLoc "model.<i>"), or "".
std::string layerName(mlir::Operation *op);
/// The layer index in "model.<i>", or -1.
int layerIndex(const std::string &name);
/// `text` with every character that is not alphanumeric replaced by '_'.
std::string identifier(std::string text);
/// " (file:line)" of the YAML line an op came from, or "".
std::string sourceLine(mlir::Operation *op);
/// The kernel irmb-select-kernels chose for `op` ("" when none).
llvm::StringRef kernelOf(mlir::Operation *op);

/// The body of the one function of a primitive module: its block, the
/// input image batch and the detection output.
struct ModelBody {
  mlir::Block *block;
  mlir::Value input, result;
};
/// Finds the function; fails (with a diagnostic) when there is none or its
/// result is not a detection output [B, 4 + nc, A].
mlir::FailureOr<ModelBody> modelBody(mlir::ModuleOp module);

/// The weights blob: 64-byte aligned float arrays, checkpoint tensors written
/// once, derived (folded) tensors appended.
class WeightBlob {
public:
  explicit WeightBlob(const irmb::weights::WeightMap &weights)
      : weights(weights) {}

  /// Byte offset of a checkpoint tensor (written on first use).
  mlir::FailureOr<int64_t> tensor(llvm::StringRef key, mlir::Operation *op);
  /// The checkpoint values of `key`, or null.
  const std::vector<float> *values(llvm::StringRef key) const;
  /// Appends derived values; returns their byte offset.
  int64_t append(const std::vector<float> &values);
  /// Byte offsets of the tensors `prefix + suffix`, in order.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  tensors(const std::string &prefix, llvm::ArrayRef<const char *> suffixes,
          mlir::Operation *op);
  std::vector<char> take() { return std::move(blob); }

  /// An eval BatchNorm as y = x · scale + shift (computed in double).
  struct FoldedNorm {
    std::vector<double> scale, shift;
  };
  mlir::FailureOr<FoldedNorm> foldNorm(const std::string &norm,
                                       mlir::Operation *op);
  /// A folded BatchNorm appended as two float arrays: {scale, shift}.
  mlir::FailureOr<std::pair<int64_t, int64_t>>
  appendNorm(const std::string &norm, mlir::Operation *op);

  /// A convolution's weight and bias with its norms folded in.
  struct FoldedConv {
    std::vector<float> weight, bias;
    bool hasBias = false;
  };
  /// Folds an input BatchNorm (1×1 convs: W·diag(s), b + W·t), the bias and
  /// an output BatchNorm (W·s, b·s + t) into one weight and bias.
  mlir::FailureOr<FoldedConv> foldConv(llvm::StringRef wKey,
                                       std::optional<llvm::StringRef> bKey,
                                       std::optional<llvm::StringRef> inNorm,
                                       std::optional<llvm::StringRef> outNorm,
                                       int64_t cout, mlir::Operation *op);

  /// Blob offsets of a convolution's folded weight and bias (bias -1 when
  /// it has none). With `tileRows` > 0 the weight of each group is packed
  /// for CPU micro-kernel tiles of that many rows (kernels/Packing.h); with
  /// `winogradTile` 2 or 4 (a 3×3 ungrouped conv) the weight is first
  /// transformed for F(m×m, 3×3) (kernels/WinogradTransforms.h) and each
  /// tile position packed as its own Cout × Cin operand; with `coLanes` > 0
  /// (an ungrouped conv run by the direct kernel, kernels/DirectConv.h)
  /// packed with output channels in blocks of that many lanes
  /// (packCoLanes).
  struct ConvTensors {
    int64_t weight = -1, bias = -1;
  };
  mlir::FailureOr<ConvTensors> convTensors(mlir::irmb::Conv2dOp conv,
                                           int64_t tileRows = 0,
                                           int64_t winogradTile = 0,
                                           int64_t coLanes = 0);

  /// Blob offsets of an EMA's tensors: gn weight/bias, conv1x1 weight/bias,
  /// conv3x3 weight/bias, then (with an input norm) its folded scale/shift.
  struct EmaTensors {
    llvm::SmallVector<int64_t> weights;
    std::optional<std::pair<int64_t, int64_t>> norm;
  };
  mlir::FailureOr<EmaTensors> emaTensors(mlir::irmb::EMAOp ema);

  /// Blob offsets of a squeeze-excite's reduce weight/bias and expand
  /// weight/bias, and its reduced width.
  struct SqueezeExciteTensors {
    llvm::SmallVector<int64_t> weights;
    int64_t reduced = 0;
  };
  mlir::FailureOr<SqueezeExciteTensors>
  squeezeExciteTensors(mlir::irmb::SqueezeExciteOp se);

  /// A merged projection: the parts' folded [rows, cin] weights stacked into
  /// one matrix and their biases into one vector, with the runs of rows
  /// that share an activation (one GEMM each).
  struct StackedProjection {
    int64_t weight = -1, bias = -1;
    struct Run {
      int64_t start, end;
      mlir::irmb::Activation act;
    };
    llvm::SmallVector<Run> runs;
  };
  /// With `tileRows` > 0 each run's rows are packed as convTensors does.
  mlir::FailureOr<StackedProjection>
  stackProjection(mlir::irmb::ProjectionOp projection, int64_t tileRows = 0);

private:
  const irmb::weights::WeightMap &weights;
  std::map<std::string, int64_t> offsets;
  std::vector<char> blob;
};

/// First-fit allocator over value lifetimes (units: elements; every block
/// is a multiple of 16 elements).
class ArenaPlanner {
public:
  int64_t allocate(int64_t elements);
  void release(int64_t at, int64_t elements);
  int64_t peak() const { return peakElements; }

private:
  std::map<int64_t, int64_t> free; // offset -> size
  int64_t top = 0, peakElements = 0;
};

/// Where every value of a function body lives. Views and in-place cat
/// inputs alias their storage root at an element offset; each root other
/// than the input and the result gets an arena offset (elements per image),
/// allocated when its first value is defined and released after the last
/// use of any value living in it.
class StoragePlan {
public:
  /// A value's storage: `offset` elements into the per-image storage of
  /// `root`.
  struct Alias {
    mlir::Value root;
    int64_t offset;
  };

  StoragePlan(mlir::Block &body, mlir::Value input, mlir::Value result);

  Alias resolve(mlir::Value v) const;
  /// The arena offset (elements per image) of a root that lives in the
  /// arena, or nullopt (the input, the result).
  std::optional<int64_t> arenaOffset(mlir::Value root) const;
  /// Peak arena elements of one image.
  int64_t arenaElements() const { return arena.peak(); }

private:
  void collectAliases(mlir::Block &body);

  llvm::DenseMap<mlir::Value, Alias> aliasOf;
  llvm::DenseMap<mlir::Value, int64_t> offsets;
  ArenaPlanner arena;
};

/// The kernels of a model in emission order: each named after its YAML
/// layer, the kernel irmb-select-kernels chose and its index (e.g.
/// "model_23_window_attention_71"), with its layer index. Emits the tables
/// and the irmb_model_desc initializer of ModelAbi.h.
class KernelTable {
public:
  /// Registers the kernel of `op`; returns its index and name.
  std::pair<int, std::string> add(mlir::Operation *op);
  int size() const { return static_cast<int>(names.size()); }
  /// What the descriptor says besides the kernel tables.
  struct Descriptor {
    std::string source, target, isa, precision;
    llvm::ArrayRef<int64_t> input, output; ///< [B, C, H, W], [B, 4 + nc, A]
    bool isV10 = false;
    int64_t arenaBytes = 0, launches = 0;
    std::vector<std::string> classNames; ///< empty: "0", "1", ...
  };
  /// Definitions of `kKernelNames`, `kKernelLayers`, `kKernelFlops` and
  /// `kClassNames` (nc entries).
  std::string tables(const Descriptor &d) const;
  /// "{IRMB_MODEL_ABI_VERSION, ..., kKernelNames, kKernelLayers,
  /// kKernelFlops}".
  std::string descriptor(const Descriptor &d) const;

private:
  std::vector<std::string> names;
  std::vector<int> layers;
  std::vector<double> flops;
};

/// `text` as a C string literal (quotes, backslashes, control and
/// non-ASCII bytes escaped), so that paths and class names from a user's
/// files cannot break or inject into generated source.
std::string cStringLiteral(llvm::StringRef text);

/// Floating-point operations of a primitive op over its whole batch: 2 per
/// multiply-add of convolutions (the direct algorithm, whichever kernel
/// runs it), projections and attention; 0 for the other ops.
double opFlops(mlir::Operation *op);

/// A file of a generated library's build folder.
struct BuildFile {
  std::string name;
  const char *data;
  size_t size;
};

/// Writes `files` into a fresh /tmp/irmb-build-* folder and runs `command`
/// there through the shell, output to build.log, with `{out}` replaced by a
/// temporary output path that is renamed to `outputPath` on success (so
/// the library appears only when the build succeeded). The folder is
/// removed unless the build failed or $IRMB_KEEP_BUILD is set. Returns ""
/// or the error: `compiler` failed, the log's last line, where the sources
/// are.
std::string buildLibrary(const std::vector<BuildFile> &files,
                         const std::string &command,
                         const std::string &compiler,
                         const std::string &outputPath);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_EMITSUPPORT_H
