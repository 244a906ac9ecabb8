// irmb-merge-projections: the plain 1x1 convs of one input become one
// irmb.projection read back through (composed) slices.
// RUN: irmb-opt %s --irmb-merge-projections --split-input-file | FileCheck %s
// RUN: irmb-opt %s --irmb-merge-projections=report=true --split-input-file -verify-diagnostics -o /dev/null

// Must merge: qk (no act) and v (ReLU) with the same input_norm; the q/k
// slices of qk become slices of the merged result.
// CHECK-LABEL: func.func @qkv
// CHECK-NEXT: %[[P:.*]] = irmb.projection %arg0 {acts = [#irmb.act<none>, #irmb.act<relu>], biases = ["", ""], channels = array<i64: 16, 8>, input_norm = "m.norm", weights = ["m.qk.weight", "m.v.weight"]} : tensor<1x8x6x6xf32> -> tensor<1x24x6x6xf32>
// CHECK-DAG: irmb.slice %[[P]] {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 0 : i64}
// CHECK-DAG: irmb.slice %[[P]] {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 8 : i64}
// CHECK-DAG: irmb.slice %[[P]] {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 16 : i64}
// CHECK-NOT: irmb.conv2d
func.func @qkv(%x: tensor<1x8x6x6xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) {
  // expected-remark @below {{merge-qkv m.qk: fused}}
  %qk = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, input_norm = "m.norm", weight = "m.qk.weight"} : tensor<1x8x6x6xf32> -> tensor<1x16x6x6xf32>
  %q = irmb.slice %qk {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 0 : i64} : tensor<1x16x6x6xf32> -> tensor<1x8x6x6xf32>
  %k = irmb.slice %qk {groups = 1 : i64, period = 0 : i64, size = 8 : i64, start = 8 : i64} : tensor<1x16x6x6xf32> -> tensor<1x8x6x6xf32>
  %v = irmb.conv2d %x {act = #irmb.act<relu>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, input_norm = "m.norm", weight = "m.v.weight"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %q, %k, %v : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>
}

// -----

// Must not merge: v is grouped (v_group), leaving one plain projection.
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: irmb.projection
func.func @grouped(%x: tensor<1x8x6x6xf32>) -> (tensor<1x16x6x6xf32>, tensor<1x8x6x6xf32>) {
  // expected-remark @below {{merge-qkv m.qk: not fused: fewer than two plain 1x1 projections share the input (grouped, normed or with a residual)}}
  %qk = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "m.qk.weight"} : tensor<1x8x6x6xf32> -> tensor<1x16x6x6xf32>
  %v = irmb.conv2d %x {act = #irmb.act<relu>, dilation = 1 : i64, groups = 2 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "m.v.weight"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %qk, %v : tensor<1x16x6x6xf32>, tensor<1x8x6x6xf32>
}
