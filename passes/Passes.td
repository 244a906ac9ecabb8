//===- Passes.td - irmb passes -------------------------*- tablegen -*-===//
//
// The transformation passes of irmb, in pipeline order: irmb-decompose, the
// fusions, irmb-select-kernels (the order, and irmb-opt's
// `--irmb-pipeline`, are in Pipeline.cpp). Each is a flag of irmb-opt
// (`--irmb-<name>`) with a lit test test/Passes/<name>.mlir, and counts what
// it rewrote in pass statistics (`--mlir-pass-statistics`; they count only
// where LLVM was built with statistics, which Debian's release LLVM 22 is
// not: there `--report` and irmb-compile --fusion-report are the record).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_PASSES_TD
#define IRMB_PASSES_TD

include "mlir/Pass/PassBase.td"

def IRMBDecomposePass : Pass<"irmb-decompose", "::mlir::ModuleOp"> {
  let summary = "Lowers model-level ops to primitive ops";
  let description = [{
    Replaces every model-level op (one per YAML module) by the primitive ops
    that compute it, unfused: a bare `irmb.conv2d` followed by its
    `irmb.batch_norm` and `irmb.activation` (the fusion passes merge them),
    `irmb.slice` / `irmb.cat` for the CSP splits and joins, `irmb.add` for
    residuals, `irmb.max_pool`, `irmb.resize_nearest`, `irmb.attention` for
    PSA and for iRMB windows (the window padding is an explicit `irmb.pad` /
    `irmb.crop` pair), `irmb.ema`, `irmb.squeeze_excite` and
    `irmb.detect_decode`. Weights keep their Ultralytics state_dict keys.

    A dialect conversion (applyFullConversion): the target's legal ops are
    the primitive irmb ops (trait `PrimitiveOpTrait`), func and builtin; every
    model-level op (`LayerOpInterface`) is rewritten by one conversion
    pattern, and any op the target does not know fails the pass with
    "failed to legalize operation" at that op.

    Before:

    ```mlir
    %5 = irmb.scdown %4 {kernel = 3 : i64, key = "model.5", stride = 2 : i64}
         : tensor<1x64x80x80xf32> -> tensor<1x128x40x40xf32>
    ```

    After:

    ```mlir
    %0 = irmb.conv2d %4 {act = #irmb.act<none>, dilation = 1 : i64,
           groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64,
           weight = "model.5.cv1.conv.weight"}
         : tensor<1x64x80x80xf32> -> tensor<1x128x80x80xf32>
    %1 = irmb.batch_norm %0 {norm = "model.5.cv1.bn"} : ...
    %2 = irmb.activation %1 {act = #irmb.act<silu>} : ...
    %3 = irmb.conv2d %2 {act = #irmb.act<none>, dilation = 1 : i64,
           groups = 128 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64,
           weight = "model.5.cv2.conv.weight"}
         : tensor<1x128x80x80xf32> -> tensor<1x128x40x40xf32>
    %4 = irmb.batch_norm %3 {norm = "model.5.cv2.bn"} : ...
    ```
  }];
  let statistics = [
    Statistic<"numModelOps", "model-ops", "Model-level ops decomposed">,
    Statistic<"numPrimitiveOps", "primitive-ops", "Primitive ops created">
  ];
  let dependentDialects = ["::irmb::IRMBDialect"];
}

def IRMBSelectKernelsPass : Pass<"irmb-select-kernels", "::mlir::ModuleOp"> {
  let summary = "Assigns each primitive op the kernel that will run it";
  let description = [{
    Annotates every primitive op with an `irmb.kernel = #irmb.kernel<...>`
    attribute (the `Kernel` enum of IRMBEnums.td) naming the kernel that
    implements it; code generation emits exactly that kernel (and refuses
    ops without one; CUDA runs the CPU-only convolution kernels, Winograd
    and direct_s2, as its implicit GEMM). The dialect verifies every
    choice fits its op (KernelChoice.h), so a hand-edited or later-pass
    choice that cannot run is an error, not a wrong result.
    Convolutions choose by shape: `gemm` (1×1, stride 1, no padding: the
    input is the GEMM's B matrix), `depthwise` (groups = channels),
    `winograd_f4` / `winograd_f2` (3×3, stride 1, padding 1, dilation 1,
    groups 1, at least 32 input and output channels, a map of at least
    `winograd-min-tiles` 4×4 tiles: Winograd F(4×4, 3×3) or F(2×2, 3×3), chosen
    by the `winograd` option), `direct_s2` (3×3, stride 2, padding 1,
    dilation 1, groups 1, at least `direct-min-channels` input channels,
    with `direct-stride2`: the direct kernel with output channels in
    lanes, DirectConv.h) or `im2col_gemm`;
    attention chooses `window_attention` or `global_attention`; a `view`
    slice is `view`, a cat with in-place inputs `concat_in_place`, a
    streaming EMA `ema_streaming`; the other ops map one to one
    (`channel_affine`, `projection`, `concat_copy`, `slice_copy`, ...).

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
    %1 = irmb.conv2d %0 {act = #irmb.act<silu>, dilation = 1 : i64,
           groups = 32 : i64, irmb.kernel = #irmb.kernel<depthwise>, ...}
         : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
    ```
  }];
  let options = [
    Option<"winograd", "winograd", "std::string", /*default=*/"\"f4\"",
           "3×3 stride-1 convolutions by Winograd: f4 (F(4×4, 3×3)), f2 "
           "(F(2×2, 3×3)) or off (the direct implicit GEMM)">,
    Option<"winogradMinTiles", "winograd-min-tiles", "int64_t",
           /*default=*/"16",
           "Fewest 4×4 tiles a map needs for Winograd: its GEMMs run the "
           "tiles as columns, and fewer than one vector of AVX-512 columns "
           "(or one 16-column AVX2 panel) leave too much of each empty "
           "(irmb-compile: 16 for AVX-512 and AVX2, 8 for SSE)">,
    Option<"directStride2", "direct-stride2", "bool", /*default=*/"false",
           "3×3 stride-2 padding-1 ungrouped convolutions by the direct "
           "kernel (direct_s2) instead of the implicit GEMM through phase "
           "planes (irmb-compile sets it for AVX2 and AVX-512 builds)">,
    Option<"directMinChannels", "direct-min-channels", "int64_t",
           /*default=*/"1",
           "Input channels a convolution needs for direct_s2 (irmb-compile "
           "sets 16 for AVX-512: its 32-channel blocks of a 3-channel stem "
           "run at half the GEMM's speed)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark for every 3×3 convolution: its kernel and why">
  ];
  let statistics = [
    Statistic<"numAnnotated", "annotated", "Primitive ops given a kernel">,
    Statistic<"numWinograd", "winograd", "Convolutions run by Winograd">,
    Statistic<"numDirect", "direct-s2",
              "Convolutions run by the direct stride-2 kernel">
  ];
  let dependentDialects = ["::irmb::IRMBDialect"];
}

//===----------------------------------------------------------------------===//
// Fusions, in pipeline order (passes/Pipeline.cpp). Each derives from
// IRMBFusionPass: the options `report` (a remark per candidate site) and
// `dry-run` (report only), and the statistics `fused` / `not-fused` (sites
// rewritten / left, counted by SiteReporter in FusionSupport.h); the short
// name in brackets is the one of irmb-compile --disable-fusion.
//===----------------------------------------------------------------------===//

class IRMBFusionPass<string passArg> : Pass<passArg, "::mlir::ModuleOp"> {
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per candidate site: fused, or not fused and why">,
    Option<"dryRun", "dry-run", "bool", /*default=*/"false",
           "Find and report the sites but change nothing (--disable-fusion)">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "Candidate sites fused">,
    Statistic<"numNotFused", "not-fused",
              "Candidate sites left as they were (and why: --report)">
  ];
  let dependentDialects = ["::irmb::IRMBDialect"];
}

def IRMBFuseWindowAttentionPass
    : IRMBFusionPass<"irmb-fuse-window-attention"> {
  let summary = "Folds the iRMB window padding and crop into the attention "
                "kernel's addressing [window-attention]";
  let description = [{
    `irmb.attention` already partitions the strided window grid, runs the
    softmax per window and head and un-partitions. This pass removes the
    explicit `irmb.pad` before the q/k/v projections and the `irmb.crop`
    after the attention (after the v projection with attn_pre): projections
    without bias keep zeros zeros, so they run on the unpadded map and the
    kernel treats the missing tokens as zero keys and values. Not fused: a
    projection with a bias or norm (qkv_bias), a padded value used outside
    the pattern, a crop that does not undo the pad. Global-window and
    whole-window attention is reported as fused (nothing to fold).

    Before:

    ```mlir
    %p = irmb.pad %z : tensor<1x64x20x20xf32> -> tensor<1x64x21x21xf32>
    %qk = irmb.conv2d %p {act = #irmb.act<none>, kernel = 1 : i64, weight = "m.qk.conv.weight", ...}
          : tensor<1x64x21x21xf32> -> tensor<1x128x21x21xf32>
    %q = irmb.slice %qk {start = 0 : i64, size = 64 : i64, ...} : ... -> tensor<1x64x21x21xf32>
    %k = irmb.slice %qk {start = 64 : i64, size = 64 : i64, ...} : ... -> tensor<1x64x21x21xf32>
    %v0 = irmb.conv2d %p {weight = "m.v.conv.weight", ...} : ... -> tensor<1x64x21x21xf32>
    %v = irmb.activation %v0 {act = #irmb.act<relu>} : ...
    %o = irmb.attention %q, %k, %v {heads = 8 : i64, window = 7 : i64, ...} : ... -> tensor<1x64x21x21xf32>
    %c = irmb.crop %o : tensor<1x64x21x21xf32> -> tensor<1x64x20x20xf32>
    ```

    After:

    ```mlir
    %qk = irmb.conv2d %z {...} : tensor<1x64x20x20xf32> -> tensor<1x128x20x20xf32>
    ...
    %o = irmb.attention %q, %k, %v {heads = 8 : i64, window = 7 : i64, ...}
         : tensor<1x64x20x20xf32>, tensor<1x64x20x20xf32>, tensor<1x64x20x20xf32>
         -> tensor<1x64x20x20xf32>
    ```
  }];
}

def IRMBFoldBatchNormPass : IRMBFusionPass<"irmb-fold-batch-norm"> {
  let summary = "Folds BatchNorms into neighbouring convolutions [fold-bn]";
  let description = [{
    A `irmb.batch_norm` whose input is a bare `irmb.conv2d` used only by it
    becomes the conv's `norm`; otherwise, when every consumer is a 1×1
    unpadded convolution or projection of it, it becomes their `input_norm`
    (W·diag(s), b + W·t at code generation). Not folded: the MMB `norm_in`
    followed by window zero padding (padded tokens must be zeros after the
    norm; run irmb-fuse-window-attention first and the pad is gone), a norm
    feeding `irmb.ema` (see irmb-fuse-ema) or other consumers.

    Before:

    ```mlir
    %0 = irmb.conv2d %x {act = #irmb.act<none>, weight = "model.0.conv.weight", ...}
    %1 = irmb.batch_norm %0 {norm = "model.0.bn"}
    ```

    After:

    ```mlir
    %0 = irmb.conv2d %x {act = #irmb.act<none>, norm = "model.0.bn",
           weight = "model.0.conv.weight", ...}
    ```
  }];
}

def IRMBMergeProjectionsPass
    : IRMBFusionPass<"irmb-merge-projections"> {
  let summary = "Merges sibling 1×1 convolutions of one input [merge-qkv]";
  let description = [{
    The plain (groups 1, no norm, no residual) 1×1 convolutions reading the
    same value with the same `input_norm` become one `irmb.projection`; each
    former result is a contiguous slice of it, and slices of those slices
    compose. The iRMB qk and v projections are read from one GEMM. Not
    merged: grouped (v_group) projections or fewer than two candidates.

    Before:

    ```mlir
    %qk = irmb.conv2d %z {act = #irmb.act<none>, kernel = 1 : i64, weight = "m.qk.conv.weight", ...}
          : tensor<1x64x20x20xf32> -> tensor<1x128x20x20xf32>
    %k = irmb.slice %qk {start = 64 : i64, size = 64 : i64, groups = 1 : i64, ...}
    %v = irmb.conv2d %z {act = #irmb.act<relu>, kernel = 1 : i64, weight = "m.v.conv.weight", ...}
         : tensor<1x64x20x20xf32> -> tensor<1x64x20x20xf32>
    ```

    After:

    ```mlir
    %p = irmb.projection %z {acts = [#irmb.act<none>, #irmb.act<relu>], biases = ["", ""],
           channels = array<i64: 128, 64>, weights = ["m.qk.conv.weight", "m.v.conv.weight"]}
         : tensor<1x64x20x20xf32> -> tensor<1x192x20x20xf32>
    %k = irmb.slice %p {start = 64 : i64, size = 64 : i64, groups = 1 : i64, ...}
    %v = irmb.slice %p {start = 128 : i64, size = 64 : i64, groups = 1 : i64, ...}
    ```
  }];
}

def IRMBFuseEMAPass : IRMBFusionPass<"irmb-fuse-ema"> {
  let summary = "Runs iEMA's norm and EMA as one streaming kernel [ema]";
  let description = [{
    An `irmb.ema` whose input is a BatchNorm used only by it takes the norm
    (`norm`), and every EMA gets `streaming`: three passes over each group
    (pooling and the sums that give conv3x3's global mean; GroupNorm
    statistics; conv3x3, x1 and the gate per row) instead of storing the
    normed map, x1 and x2.

    Before:

    ```mlir
    %z = irmb.batch_norm %x {norm = "model.17.norm"}
    %e = irmb.ema %z {groups = 32 : i64, prefix = "model.17.ema"}
    ```

    After:

    ```mlir
    %e = irmb.ema %x {groups = 32 : i64, norm = "model.17.norm",
           prefix = "model.17.ema", streaming}
    ```
  }];
}

def IRMBFuseDepthwisePass : IRMBFusionPass<"irmb-fuse-depthwise"> {
  let summary = "Fuses BN, activation and the residual into depthwise "
                "convolutions [depthwise]";
  let description = [{
    After a depthwise `irmb.conv2d`, the chain batch_norm -> activation ->
    add (each the sole consumer of the previous value) becomes the conv's
    `norm`, `act` and `residual`: the MMB conv_local `z + SiLU(BN(dw(z)))`
    is one kernel. Not fused: a value in the chain with other consumers;
    squeeze-excite between the activation and the add stays its own kernel.

    Before:

    ```mlir
    %d = irmb.conv2d %z {groups = 64 : i64, kernel = 3 : i64, act = #irmb.act<none>, ...}
    %n = irmb.batch_norm %d {norm = "m.conv_local.norm"}
    %a = irmb.activation %n {act = #irmb.act<silu>}
    %u = irmb.add %z, %a
    ```

    After:

    ```mlir
    %u = irmb.conv2d %z residual(%z : tensor<1x64x20x20xf32>) {act = #irmb.act<silu>,
           groups = 64 : i64, kernel = 3 : i64, norm = "m.conv_local.norm", ...}
    ```
  }];
}

def IRMBFuseConvEpiloguePass
    : IRMBFusionPass<"irmb-fuse-conv-epilogue"> {
  let summary = "Fuses BN, activation and the residual into dense "
                "convolutions [conv-epilogue]";
  let description = [{
    The same chain as irmb-fuse-depthwise for every other convolution: an
    Ultralytics Conv becomes one conv2d with `norm` and `act`, a Bottleneck
    or MMB shortcut add becomes its last conv's `residual`. The GEMM applies
    bias, activation and residual while the tile is in cache.

    Before:

    ```mlir
    %r = irmb.conv2d %u {act = #irmb.act<none>, weight = "m.proj.conv.weight", ...}
    %y = irmb.add %x, %r
    ```

    After:

    ```mlir
    %y = irmb.conv2d %u residual(%x : tensor<1x64x20x20xf32>) {act = #irmb.act<none>,
           weight = "m.proj.conv.weight", ...}
    ```
  }];
}

def IRMBConcatInPlacePass : IRMBFusionPass<"irmb-concat-in-place"> {
  let summary = "Zero-copy channel split and concat [concat]";
  let description = [{
    Contiguous slices become `view`s (a pointer offset: code runs one NCHW
    image at a time), and each `irmb.cat` gets `in_place` flags: a flagged
    input's producer writes straight into the cat's channels. A view input
    is placed through its source when consecutive inputs cover the source in
    order (C2f's cv1 halves); the model input, a value already placed in
    another cat and partial views are copied.

    Before:

    ```mlir
    %a = irmb.slice %y {start = 0 : i64, size = 16 : i64, groups = 1 : i64, period = 0 : i64}
    %b = irmb.slice %y {start = 16 : i64, size = 16 : i64, groups = 1 : i64, period = 0 : i64}
    %m = irmb.conv2d %b {...}
    %c = irmb.cat %a, %b, %m
    ```

    After:

    ```mlir
    %a = irmb.slice %y {..., view}
    %b = irmb.slice %y {..., view}
    %m = irmb.conv2d %b {...}
    %c = irmb.cat %a, %b, %m {in_place = array<i1: true, true, true>}
    ```
  }];
}

#endif // IRMB_PASSES_TD
