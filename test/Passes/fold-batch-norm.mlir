// irmb-fold-batch-norm: a BatchNorm after a bare conv becomes its norm; one
// whose consumers are all 1x1 convs becomes their input_norm; never when
// window zero padding follows (semantics 3.13).
// RUN: irmb-opt %s --irmb-fold-batch-norm --split-input-file | FileCheck %s
// RUN: irmb-opt %s --irmb-fold-batch-norm=report=true --split-input-file -verify-diagnostics -o /dev/null

// Must fold backwards into the conv.
// CHECK-LABEL: func.func @backward
// CHECK-NEXT: %[[C:.*]] = irmb.conv2d %{{.*}}norm = "c.bn"
// CHECK-NEXT: irmb.activation %[[C]]
func.func @backward(%x: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  %0 = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "c.w"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{fold-bn c.bn: fused}}
  %1 = irmb.batch_norm %0 {norm = "c.bn"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %2 = irmb.activation %1 {act = #irmb.act<silu>} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %2 : tensor<1x8x6x6xf32>
}

// -----

// Must fold forwards into both 1x1 consumers (the unpadded MMB norm_in).
// CHECK-LABEL: func.func @forward
// CHECK-NOT: irmb.batch_norm
// CHECK: irmb.conv2d %arg0 {{.*}}input_norm = "m.norm"{{.*}}weight = "m.qk"
// CHECK: irmb.conv2d %arg0 {{.*}}input_norm = "m.norm"{{.*}}weight = "m.v"
func.func @forward(%x: tensor<1x8x6x6xf32>) -> (tensor<1x16x6x6xf32>, tensor<1x8x6x6xf32>) {
  // expected-remark @below {{fold-bn m.norm: fused}}
  %z = irmb.batch_norm %x {norm = "m.norm"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %qk = irmb.conv2d %z {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "m.qk"} : tensor<1x8x6x6xf32> -> tensor<1x16x6x6xf32>
  %v = irmb.conv2d %z {act = #irmb.act<relu>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "m.v"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %qk, %v : tensor<1x16x6x6xf32>, tensor<1x8x6x6xf32>
}

// -----

// Must not fold: zero padding follows the norm.
// CHECK-LABEL: func.func @padded
// CHECK: irmb.batch_norm
func.func @padded(%x: tensor<1x8x6x6xf32>) -> tensor<1x8x7x7xf32> {
  // expected-remark @below {{fold-bn m.norm: not fused: zero padding follows the norm (padded tokens must be zeros after it, semantics 3.13)}}
  %z = irmb.batch_norm %x {norm = "m.norm"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %p = irmb.pad %z : tensor<1x8x6x6xf32> -> tensor<1x8x7x7xf32>
  return %p : tensor<1x8x7x7xf32>
}

// -----

// Must not fold: the conv result has a second consumer; a 3x3 consumer.
// CHECK-LABEL: func.func @shared
// CHECK: irmb.batch_norm
// CHECK: irmb.batch_norm
func.func @shared(%x: tensor<1x8x6x6xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) {
  %0 = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "c.w"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{fold-bn c.bn: not fused: a consumer is not a 1x1 unpadded convolution of it}}
  %1 = irmb.batch_norm %0 {norm = "c.bn"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %2 = irmb.conv2d %1 {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "d.w"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{fold-bn e.bn: not fused: it feeds irmb.ema (see fuse-ema)}}
  %3 = irmb.batch_norm %x {norm = "e.bn"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %4 = irmb.ema %3 {groups = 4 : i64, prefix = "e.ema"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %0, %2, %4 : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>
}
