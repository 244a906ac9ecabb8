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

func.func @attention_window(%q: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{'irmb.attention' op the 10x10 map is not a multiple of window 7 (pad it first)}}
  %0 = irmb.attention %q, %q, %q {heads = 1 : i64, scale = 1.0 : f64, window = 7 : i64} : tensor<1x8x10x10xf32>, tensor<1x8x10x10xf32>, tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
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
  // expected-error @+1 {{'irmb.add' op operands must have the same shape}}
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
