//===- KernelCalls.h - what each primitive op calls, on any target -*- C++ -*-===//
//
// The one description of how a primitive op runs: the kernel of the
// target's library it calls, the kernel's template constants, its arguments
// (tensors, blob weights, constants, scratch), the scratch it needs and the
// launches it makes. describeKernelCalls() builds it once per op, writing
// the op's weights into the blob; each emitter only spells a description as
// text in its own convention (EmitCpp: per-image pointers x0.., y inside
// one function per kernel, `W(offset)`; EmitCuda: `kernel<T, ...>(stream,
// kBatch, pointer, batch stride, ...)`). Where the two kernel libraries
// differ (the CPU's Winograd and direct convolutions and batched GEMM, its
// channel copies, CUDA's scratch for EMA and squeeze-excite) the difference
// is written once, in KernelCalls.cpp, against the target.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_KERNELCALLS_H
#define IRMB_CODEGEN_COMMON_KERNELCALLS_H

#include "codegen/common/WeightBlob.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace irmb::codegen {

/// The kernel libraries irmb generates code for.
enum class KernelLibrary { Cpu, Cuda };

/// What a description depends on besides the op.
struct KernelTarget {
  KernelLibrary library = KernelLibrary::Cpu;
  /// Images one call takes at most; scratch is sized for them (CPU: the
  /// image group, CUDA: the batch).
  int64_t images = 1;
  /// CPU: rows of the GEMM micro-kernel tile (GEMM weights are packed for
  /// them) and the direct convolution's output channels per block (its
  /// weights are packed for them).
  int64_t tileRows = 0, directColumns = 0;
  /// CUDA: the model input and whether activations are stored below fp32;
  /// a convolution of the input then reads the float input itself.
  mlir::Value modelInput;
  bool reducedPrecision = false;
};

/// One argument of a kernel call.
struct KernelArg {
  enum class Kind {
    Tensor,      ///< `value`, `number` elements into each of its images
    TensorBase,  ///< `value`'s pointer alone (no batch stride on CUDA)
    NoTensor,    ///< an absent optional tensor
    Weight,      ///< float weights at byte `number` of the blob
    GemmWeight,  ///< a GEMM operand at byte `number` (CUDA: read in T)
    Null,        ///< an absent optional pointer
    Integer,     ///< the constant `number`
    Float,       ///< the constant `real`
    Scratch,     ///< the model's scratch buffer
    FloatInput,  ///< CUDA: the model input in float
    Images,      ///< CPU batched kernels: the images of this call
    ImageStride, ///< CPU batched kernels: floats between images of `value`
                 ///< (0 without a value)
  };
  Kind kind;
  mlir::Value value;
  int64_t number = 0;
  double real = 0;

  static KernelArg tensor(mlir::Value v, int64_t skip = 0) {
    return {Kind::Tensor, v, skip};
  }
  /// `v` as a tensor, or NoTensor when it is null.
  static KernelArg optionalTensor(mlir::Value v) {
    return v ? tensor(v) : KernelArg{Kind::NoTensor};
  }
  static KernelArg weight(int64_t byteOffset) {
    return {Kind::Weight, {}, byteOffset};
  }
  /// Weights at `byteOffset`, or Null when it is negative (no bias).
  static KernelArg optionalWeight(int64_t byteOffset) {
    return byteOffset >= 0 ? weight(byteOffset) : KernelArg{Kind::Null};
  }
  static KernelArg integer(int64_t n) { return {Kind::Integer, {}, n}; }
  static KernelArg of(Kind kind, mlir::Value v = {}) { return {kind, v}; }
};

/// One call of a kernel of the target's library.
struct KernelCall {
  std::string kernel;
  /// Template constants as C++ text, spelled the same on every target
  /// (integers, `Act::...`, `float`).
  llvm::SmallVector<std::string> params;
  llvm::SmallVector<KernelArg> args;
  /// Kernel launches the call makes (CUDA).
  int launches = 1;
};

/// Everything one primitive op runs.
struct OpKernelCalls {
  /// Empty: nothing runs (a slice view, a concat filled in place).
  llvm::SmallVector<KernelCall> calls;
  /// Floats of scratch the calls need for `KernelTarget::images` images.
  int64_t scratchFloats = 0;
  /// Bytes the calls write per image.
  int64_t bytesWritten = 0;
  /// CPU: the calls take the whole group of images (Images, ImageStride
  /// arguments) rather than one image each.
  bool batched = false;

  /// The tensors the calls read (every tensor argument but the op's
  /// result), each once, in the order of first use.
  llvm::SmallVector<mlir::Value> inputs(mlir::Operation *op) const;
  /// Launches of all calls.
  int launches() const;
};

/// Describes how `op` runs on `target`, appending its weights to `blob`.
/// Fails with a diagnostic when the op is not a primitive op, has no
/// kernel chosen (irmb-select-kernels), or its weights are missing.
mlir::FailureOr<OpKernelCalls> describeKernelCalls(mlir::Operation *op,
                                                   WeightBlob &blob,
                                                   const KernelTarget &target);

/// A float constant as C++ ("%.9gf": the value the float holds, exactly).
std::string floatLiteral(double value);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_KERNELCALLS_H
