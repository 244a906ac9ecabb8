// irmb-fuse-window-attention: the pad before the q/k/v projections and the
// crop after the attention fold into the attention's addressing.
// RUN: irmb-opt %s --irmb-decompose --irmb-fuse-window-attention --split-input-file | FileCheck %s
// RUN: irmb-opt %s --irmb-decompose --irmb-fuse-window-attention=report=true --split-input-file -verify-diagnostics -o /dev/null
// RUN: irmb-opt %s --irmb-decompose --irmb-fuse-window-attention=dry-run=true --split-input-file | FileCheck %s --check-prefix=DRY

// Must fuse: 20x20 with window 7 (padded to 21x21): projections, attention
// and everything after run on 20x20; no pad, no crop.
// CHECK-LABEL: func.func @padded
// CHECK-NOT: irmb.pad
// CHECK: irmb.conv2d %{{.*}}weight = "model.23.qk.conv.weight"{{.*}} -> tensor<1x64x20x20xf32>
// CHECK: irmb.attention {{.*}}window = 7 : i64} : tensor<1x32x20x20xf32>, tensor<1x32x20x20xf32>, tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
// CHECK-NOT: irmb.crop
// DRY-LABEL: func.func @padded
// DRY: irmb.pad
// DRY: irmb.crop
func.func @padded(%x: tensor<1x32x20x20xf32>) -> tensor<1x32x20x20xf32> {
  // expected-remark @below {{window-attention irmb.attention: fused}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
  return %0 : tensor<1x32x20x20xf32>
}

// -----

// Must fuse, attn_pre: the crop after the v projection moves before it.
// CHECK-LABEL: func.func @attn_pre
// CHECK-NOT: irmb.pad
// CHECK: %[[O:.*]] = irmb.attention {{.*}} -> tensor<1x32x9x10xf32>
// CHECK-NEXT: irmb.conv2d %[[O]] {{.*}}weight = "model.1.v.conv.weight"{{.*}} -> tensor<1x32x9x10xf32>
// CHECK-NOT: irmb.crop
func.func @attn_pre(%x: tensor<1x32x9x10xf32>) -> tensor<1x32x9x10xf32> {
  // expected-remark @below {{window-attention irmb.attention: fused}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = true, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.1"} : tensor<1x32x9x10xf32> -> tensor<1x32x9x10xf32>
  return %0 : tensor<1x32x9x10xf32>
}

// -----

// Nothing to fold (global window): one kernel already, reported as fused.
// CHECK-LABEL: func.func @global
// CHECK: irmb.attention {{.*}}window = 0 : i64
func.func @global(%x: tensor<1x32x9x10xf32>) -> tensor<1x32x9x10xf32> {
  // expected-remark @below {{window-attention irmb.attention: fused}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 0, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.1"} : tensor<1x32x9x10xf32> -> tensor<1x32x9x10xf32>
  return %0 : tensor<1x32x9x10xf32>
}

// -----

// Must not fuse: qkv_bias makes padded tokens' q/k/v the bias, not zero.
// CHECK-LABEL: func.func @qkv_bias
// CHECK: irmb.pad
// CHECK: irmb.crop
func.func @qkv_bias(%x: tensor<1x32x20x20xf32>) -> tensor<1x32x20x20xf32> {
  // expected-remark @below {{window-attention irmb.attention: not fused: a projection has a bias or norm, so padded tokens would not be zeros (qkv_bias)}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = true, v_group = false>, key = "model.23"} : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
  return %0 : tensor<1x32x20x20xf32>
}

// -----

// Must not fuse: the padded q/k map has a consumer outside the pattern.
// CHECK-LABEL: func.func @outside_consumer
// CHECK: irmb.pad
// CHECK: irmb.crop
func.func @outside_consumer(%z: tensor<1x8x5x5xf32>) -> (tensor<1x8x5x5xf32>, tensor<1x16x7x7xf32>) {
  %p = irmb.pad %z : tensor<1x8x5x5xf32> -> tensor<1x8x7x7xf32>
  %qk = irmb.conv2d %p {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "qk"} : tensor<1x8x7x7xf32> -> tensor<1x16x7x7xf32>
  %q = irmb.slice %qk {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 0 : i64} : tensor<1x16x7x7xf32> -> tensor<1x8x7x7xf32>
  %k = irmb.slice %qk {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 8 : i64} : tensor<1x16x7x7xf32> -> tensor<1x8x7x7xf32>
  // expected-remark @below {{window-attention irmb.attention: not fused: a padded projection has a consumer outside the pattern}}
  %o = irmb.attention %q, %k, %p {heads = 1 : i64, scale = 0.5 : f64, window = 7 : i64} : tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32>, tensor<1x8x7x7xf32> -> tensor<1x8x7x7xf32>
  %c = irmb.crop %o : tensor<1x8x7x7xf32> -> tensor<1x8x5x5xf32>
  return %c, %qk : tensor<1x8x5x5xf32>, tensor<1x16x7x7xf32>
}
