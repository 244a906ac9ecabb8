// Round-trip of every irmb op: parse, verify, print, parse again.
// RUN: irmb-opt %s | irmb-opt | FileCheck %s

// CHECK-LABEL: func.func @elementary
func.func @elementary(%x: tensor<2x3x64x96xf32>) -> tensor<2x48x64x96xf32> {
  // CHECK: %[[C:.*]] = irmb.conv %{{.*}} {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 2 : i64} : tensor<2x3x64x96xf32> -> tensor<2x16x32x48xf32>
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 2 : i64} : tensor<2x3x64x96xf32> -> tensor<2x16x32x48xf32>
  // CHECK: irmb.conv %[[C]] {act = #irmb.act<none>, dilation = 2 : i64, groups = 16
  %1 = irmb.conv %0 {act = #irmb.act<none>, dilation = 2 : i64, groups = 16 : i64, kernel = 3 : i64, key = "model.1", padding = 2 : i64, stride = 1 : i64} : tensor<2x16x32x48xf32> -> tensor<2x32x32x48xf32>
  // CHECK: irmb.upsample
  %2 = irmb.upsample %1 {key = "model.2", scale = 2 : i64} : tensor<2x32x32x48xf32> -> tensor<2x32x64x96xf32>
  // CHECK: irmb.concat %{{.*}}, %{{.*}} {dim = 1 : i64, key = "model.3"} : tensor<2x32x64x96xf32>, tensor<2x16x64x96xf32> -> tensor<2x48x64x96xf32>
  %u = irmb.upsample %0 {key = "model.u", scale = 2 : i64} : tensor<2x16x32x48xf32> -> tensor<2x16x64x96xf32>
  %3 = irmb.concat %2, %u {dim = 1 : i64, key = "model.3"} : tensor<2x32x64x96xf32>, tensor<2x16x64x96xf32> -> tensor<2x48x64x96xf32>
  return %3 : tensor<2x48x64x96xf32>
}

// CHECK-LABEL: func.func @blocks
func.func @blocks(%x: tensor<1x64x40x40xf32>) -> tensor<1x64x20x20xf32> {
  // CHECK: irmb.c2f {{.*}}block = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8
  %0 = irmb.c2f %x {block = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, groups = 1 : i64, hidden = 32 : i64, key = "model.4", n = 2 : i64, shortcut = true} : tensor<1x64x40x40xf32> -> tensor<1x64x40x40xf32>
  // CHECK: irmb.c3k2 {{.*}}c3k = true
  %1 = irmb.c3k2 %0 {c3k = true, groups = 1 : i64, hidden = 32 : i64, key = "model.5", n = 1 : i64, shortcut = true} : tensor<1x64x40x40xf32> -> tensor<1x64x40x40xf32>
  // CHECK: irmb.c2f_cib {{.*}}lk = true
  %2 = irmb.c2f_cib %1 {hidden = 32 : i64, key = "model.6", lk = true, n = 1 : i64, shortcut = true} : tensor<1x64x40x40xf32> -> tensor<1x64x40x40xf32>
  // CHECK: irmb.scdown
  %3 = irmb.scdown %2 {kernel = 3 : i64, key = "model.7", stride = 2 : i64} : tensor<1x64x40x40xf32> -> tensor<1x128x20x20xf32>
  // CHECK: irmb.sppf
  %4 = irmb.sppf %3 {kernel = 5 : i64, key = "model.8"} : tensor<1x128x20x20xf32> -> tensor<1x128x20x20xf32>
  // CHECK: irmb.psa
  %5 = irmb.psa %4 {hidden = 64 : i64, key = "model.9", num_heads = 1 : i64} : tensor<1x128x20x20xf32> -> tensor<1x128x20x20xf32>
  // CHECK: irmb.c2psa
  %6 = irmb.c2psa %5 {hidden = 64 : i64, key = "model.10", n = 2 : i64, num_heads = 1 : i64} : tensor<1x128x20x20xf32> -> tensor<1x128x20x20xf32>
  // CHECK: irmb.mmb {{.*}}op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 32
  %7 = irmb.mmb %6 {config = #irmb.mmb<exp_ratio = 1.0, op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 32, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>, key = "model.11"} : tensor<1x128x20x20xf32> -> tensor<1x128x20x20xf32>
  // CHECK: irmb.mmb {{.*}}exp_ratio = 2.0, op = dwconv{{.*}}se_ratio = 0.25, dw_ks = 5, stride = 2
  %8 = irmb.mmb %7 {config = #irmb.mmb<exp_ratio = 2.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.25, dw_ks = 5, stride = 2, dilation = 1, act = silu, norm_in = false, has_skip = true, v_proj = true, qkv_bias = true, v_group = false>, key = "model.12"} : tensor<1x128x20x20xf32> -> tensor<1x64x10x10xf32>
  // CHECK: irmb.mmb {{.*}}exp_ratio = 0.5, op = window_attention, window = 0, dim_head = 16, attn_pre = true
  %9 = irmb.mmb %8 {config = #irmb.mmb<exp_ratio = 0.5, op = window_attention, window = 0, dim_head = 16, attn_pre = true, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu6, norm_in = true, has_skip = false, v_proj = true, qkv_bias = false, v_group = true>, key = "model.13"} : tensor<1x64x10x10xf32> -> tensor<1x64x10x10xf32>
  %10 = irmb.upsample %9 {key = "model.14", scale = 2 : i64} : tensor<1x64x10x10xf32> -> tensor<1x64x20x20xf32>
  return %10 : tensor<1x64x20x20xf32>
}

// CHECK-LABEL: func.func @heads
func.func @heads(%a: tensor<3x64x80x80xf32>, %b: tensor<3x128x40x40xf32>, %c: tensor<3x256x20x20xf32>) -> (tensor<3x84x8400xf32>, tensor<3x6x8400xf32>) {
  // CHECK: irmb.detect {{.*}}cls_head = #irmb.cls_head<legacy>{{.*}}strides = array<i64: 8, 16, 32>
  %0 = irmb.detect %a, %b, %c {cls_head = #irmb.cls_head<legacy>, key = "model.22", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16, 32>} : tensor<3x64x80x80xf32>, tensor<3x128x40x40xf32>, tensor<3x256x20x20xf32> -> tensor<3x84x8400xf32>
  // CHECK: irmb.v10_detect
  %1 = irmb.v10_detect %a, %b, %c {key = "model.23", nc = 2 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16, 32>} : tensor<3x64x80x80xf32>, tensor<3x128x40x40xf32>, tensor<3x256x20x20xf32> -> tensor<3x6x8400xf32>
  return %0, %1 : tensor<3x84x8400xf32>, tensor<3x6x8400xf32>
}
