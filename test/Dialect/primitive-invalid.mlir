// Verifiers of the primitive ops.
// RUN: irmb-opt %s -split-input-file -verify-diagnostics

func.func @slice_range(%x: tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{'irmb.slice' op selects channels up to 10 of an input with 8}}
  %0 = irmb.slice %x {groups = 1 : i64, period = 0 : i64, size = 4 : i64, start = 6 : i64} : tensor<1x8x4x4xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @slice_period(%x: tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{'irmb.slice' op period 2 is shorter than start + size}}
  %0 = irmb.slice %x {groups = 2 : i64, period = 2 : i64, size = 2 : i64, start = 1 : i64} : tensor<1x8x4x4xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @input_norm_3x3(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{'irmb.conv2d' op an input_norm needs a 1x1 unpadded convolution}}
  %0 = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, input_norm = "n", kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @residual_shape(%x: tensor<1x8x10x10xf32>, %r: tensor<1x4x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{'irmb.conv2d' op the residual must have the result's shape}}
  %0 = irmb.conv2d %x residual(%r : tensor<1x4x10x10xf32>) {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @projection_channels(%x: tensor<1x8x10x10xf32>) -> tensor<1x24x10x10xf32> {
  // The result type is inferred (InferTypeOpAdaptor) and checked against it.
  // expected-error @+2 {{'irmb.projection' op inferred type(s) 'tensor<1x20x10x10xf32>' are incompatible with return type(s) of operation 'tensor<1x24x10x10xf32>'}}
  // expected-error @+1 {{'irmb.projection' op failed to infer returned types}}
  %0 = irmb.projection %x {acts = [#irmb.act<none>, #irmb.act<relu>], biases = ["", ""], channels = array<i64: 16, 4>, weights = ["a", "b"]} : tensor<1x8x10x10xf32> -> tensor<1x24x10x10xf32>
  return %0 : tensor<1x24x10x10xf32>
}

// -----

func.func @projection_parts(%x: tensor<1x8x10x10xf32>) -> tensor<1x16x10x10xf32> {
  // expected-error @+1 {{'irmb.projection' op needs as many biases, acts and channels as weights}}
  %0 = irmb.projection %x {acts = [#irmb.act<none>], biases = ["", ""], channels = array<i64: 16>, weights = ["a"]} : tensor<1x8x10x10xf32> -> tensor<1x16x10x10xf32>
  return %0 : tensor<1x16x10x10xf32>
}

// -----

func.func @grouped_view(%x: tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{'irmb.slice' op only a contiguous slice (groups = 1) can be a view}}
  %0 = irmb.slice %x {groups = 2 : i64, period = 4 : i64, size = 2 : i64, start = 0 : i64, view} : tensor<1x8x4x4xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @cat_flags(%x: tensor<1x8x4x4xf32>) -> tensor<1x16x4x4xf32> {
  // expected-error @+1 {{'irmb.cat' op in_place needs one flag per input}}
  %0 = irmb.cat %x, %x {in_place = array<i1: true>} : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32> -> tensor<1x16x4x4xf32>
  return %0 : tensor<1x16x4x4xf32>
}

// -----

func.func @attention_heads(%q: tensor<1x8x7x7xf32>, %v: tensor<1x6x7x7xf32>) -> tensor<1x6x7x7xf32> {
  // expected-error @+1 {{'irmb.attention' op value (6 channels) is not divisible by groups 4}}
  %0 = irmb.attention %q, %q, %v {heads = 4 : i64, scale = 1.0 : f64, window = 7 : i64} : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x6x7x7xf32> -> tensor<1x6x7x7xf32>
  return %0 : tensor<1x6x7x7xf32>
}

// -----

func.func @pad_shrinks(%x: tensor<1x8x7x7xf32>) -> tensor<1x8x6x7xf32> {
  // expected-error @+1 {{'irmb.pad' op may only grow the height and width}}
  %0 = irmb.pad %x : tensor<1x8x7x7xf32> -> tensor<1x8x6x7xf32>
  return %0 : tensor<1x8x6x7xf32>
}

// -----

func.func @add_shapes(%a: tensor<1x8x7x7xf32>, %b: tensor<1x8x7x6xf32>) -> tensor<1x8x7x7xf32> {
  // expected-error @+1 {{'irmb.add' op requires the same type for all operands and results}}
  %0 = irmb.add %a, %b : tensor<1x8x7x7xf32>, tensor<1x8x7x6xf32> -> tensor<1x8x7x7xf32>
  return %0 : tensor<1x8x7x7xf32>
}

// -----

func.func @decode_channels(%a: tensor<1x80x8x8xf32>) -> tensor<1x84x64xf32> {
  // expected-error @+1 {{'irmb.detect_decode' op level 0 has 80 channels, expected 4·reg_max + nc = 144}}
  %0 = irmb.detect_decode %a {dfl = "model.1.dfl.conv.weight", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8>} : tensor<1x80x8x8xf32> -> tensor<1x84x64xf32>
  return %0 : tensor<1x84x64xf32>
}

// -----

func.func @conv2d_shape(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.conv2d' op result shape [1, 8, 8, 8] does not match the inferred shape [1, 8, 4, 4]}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "w"} : tensor<1x3x8x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @cat_sizes(%a: tensor<1x8x10x10xf32>, %b: tensor<1x8x5x5xf32>) -> tensor<1x16x10x10xf32> {
  // expected-error @+2 {{'irmb.cat' op input 1 has height 5 but input 0 has 10}}
  // expected-error @+1 {{'irmb.cat' op failed to infer returned types}}
  %0 = irmb.cat %a, %b : tensor<1x8x10x10xf32>, tensor<1x8x5x5xf32> -> tensor<1x16x10x10xf32>
  return %0 : tensor<1x16x10x10xf32>
}

// -----

func.func @max_pool_size(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+2 {{'irmb.max_pool' op inferred type(s) 'tensor<1x8x5x5xf32>' are incompatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = irmb.max_pool %x {kernel = 2 : i64, padding = 0 : i64, stride = 2 : i64} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @ema_type(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x5x5xf32> {
  // expected-error @+1 {{'irmb.ema' op requires the same type for all operands and results}}
  %0 = irmb.ema %x {groups = 2 : i64, prefix = "e"} : tensor<1x8x10x10xf32> -> tensor<1x8x5x5xf32>
  return %0 : tensor<1x8x5x5xf32>
}
