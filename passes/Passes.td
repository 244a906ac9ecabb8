//===- Passes.td - irmb passes -------------------------*- tablegen -*-===//
//
// The transformation passes of irmb, in pipeline order. Each is a flag of
// irmb-opt (`--irmb-<name>`) and has a lit test test/Passes/<name>.mlir.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_PASSES_TD
#define IRMB_PASSES_TD

include "mlir/Pass/PassBase.td"

def IRMBDecomposePass : Pass<"irmb-decompose", "::mlir::ModuleOp"> {
  let summary = "Lowers model-level ops to primitive ops";
  let description = [{
    Replaces every model-level op (one per YAML module) by the primitive ops
    that compute it: `irmb.conv2d` (with its BatchNorm and activation),
    `irmb.slice` / `irmb.cat` for the CSP splits and joins, `irmb.add` for
    residuals, `irmb.max_pool`, `irmb.resize_nearest`, `irmb.attention` for
    PSA and for iRMB windows (the window padding is an explicit `irmb.pad` /
    `irmb.crop` pair), `irmb.ema`, `irmb.squeeze_excite` and
    `irmb.detect_decode`. Weights keep their Ultralytics state_dict keys.

    Before:

    ```mlir
    %5 = irmb.scdown %4 {kernel = 3 : i64, key = "model.5", stride = 2 : i64}
         : tensor<1x64x80x80xf32> -> tensor<1x128x40x40xf32>
    ```

    After:

    ```mlir
    %0 = irmb.conv2d %4 {act = #irmb.act<silu>, dilation = 1 : i64,
           groups = 1 : i64, kernel = 1 : i64, norm = "model.5.cv1.bn",
           padding = 0 : i64, stride = 1 : i64, weight = "model.5.cv1.conv.weight"}
         : tensor<1x64x80x80xf32> -> tensor<1x128x80x80xf32>
    %1 = irmb.conv2d %0 {act = #irmb.act<none>, dilation = 1 : i64,
           groups = 128 : i64, kernel = 3 : i64, norm = "model.5.cv2.bn",
           padding = 1 : i64, stride = 2 : i64, weight = "model.5.cv2.conv.weight"}
         : tensor<1x128x80x80xf32> -> tensor<1x128x40x40xf32>
    ```
  }];
  let dependentDialects = ["::mlir::irmb::IRMBDialect"];
}

def IRMBSelectKernelsPass : Pass<"irmb-select-kernels", "::mlir::ModuleOp"> {
  let summary = "Assigns each primitive op the CPU kernel that will run it";
  let description = [{
    Annotates every primitive op with a `kernel` attribute naming the kernel
    of codegen/cpu/kernels/Kernels.h that implements it; code generation
    emits exactly that kernel (and refuses ops without one). Convolutions
    choose by shape: `gemm` (1×1, stride 1, no padding: the input is the
    GEMM's B matrix), `depthwise` (groups = channels) or `im2col_gemm`;
    attention chooses `window_attention` or `global_attention`; the other
    ops map one to one (`channel_affine`, `concat_copy`, `slice_copy`, ...).

    Before:

    ```mlir
    %1 = irmb.conv2d %0 {act = #irmb.act<silu>, dilation = 1 : i64,
           groups = 32 : i64, kernel = 3 : i64, norm = "model.23.conv_local.norm",
           padding = 1 : i64, stride = 1 : i64,
           weight = "model.23.conv_local.conv.weight"}
         : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
    ```

    After:

    ```mlir
    %1 = irmb.conv2d %0 {act = #irmb.act<silu>, cpu_kernel = "depthwise", ...}
         : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
    ```
  }];
  let dependentDialects = ["::mlir::irmb::IRMBDialect"];
}

#endif // IRMB_PASSES_TD
