// irmb-concat-in-place: contiguous slices become views and cat inputs are
// written in place where their storage can move into the cat.
// RUN: irmb-opt %s --irmb-concat-in-place --split-input-file | FileCheck %s
// RUN: irmb-opt %s --irmb-concat-in-place=report=true --split-input-file -verify-diagnostics -o /dev/null

// C2f: cv1's two halves cover it, so cv1 itself is placed; the bottleneck
// output too: nothing is copied.
// CHECK-LABEL: func.func @c2f
// CHECK: irmb.slice {{.*}}view
// CHECK: irmb.slice {{.*}}view
// CHECK: irmb.cat {{.*}}{in_place = array<i1: true, true, true>}
func.func @c2f(%x: tensor<1x8x6x6xf32>) -> tensor<1x12x6x6xf32> {
  %y = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "cv1"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %a = irmb.slice %y {groups = 1 : i64, period = 0 : i64, size = 4 : i64, start = 0 : i64} : tensor<1x8x6x6xf32> -> tensor<1x4x6x6xf32>
  %b = irmb.slice %y {groups = 1 : i64, period = 0 : i64, size = 4 : i64, start = 4 : i64} : tensor<1x8x6x6xf32> -> tensor<1x4x6x6xf32>
  %m = irmb.conv2d %b {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "m"} : tensor<1x4x6x6xf32> -> tensor<1x4x6x6xf32>
  // expected-remark @below {{concat irmb.cat: fused}}
  %c = irmb.cat %a, %b, %m : tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32> -> tensor<1x12x6x6xf32>
  return %c : tensor<1x12x6x6xf32>
}

// -----

// Must not place: the model input, a partial slice (PSA's kept half), a
// value already placed in an earlier cat; grouped slices stay copies.
// CHECK-LABEL: func.func @copies
// CHECK: irmb.slice %arg0 {groups = 2 : i64, period = 4 : i64, size = 2 : i64, start = 0 : i64}
// CHECK-NOT: view}
// CHECK: irmb.cat %arg0, %{{.*}} {in_place = array<i1: false, true>}
// CHECK: irmb.cat %{{.*}}, %{{.*}} : tensor<1x4x6x6xf32>
func.func @copies(%x: tensor<1x8x6x6xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x12x6x6xf32>) {
  %g = irmb.slice %x {groups = 2 : i64, period = 4 : i64, size = 2 : i64, start = 0 : i64} : tensor<1x8x6x6xf32> -> tensor<1x4x6x6xf32>
  %y = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "cv1"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{concat irmb.cat: not fused: partly: 1 of 2 inputs in place; the model input is copied}}
  %c1 = irmb.cat %x, %y : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32> -> tensor<1x16x6x6xf32>
  %a = irmb.slice %y {groups = 1 : i64, period = 0 : i64, size = 4 : i64, start = 0 : i64} : tensor<1x8x6x6xf32> -> tensor<1x4x6x6xf32>
  // expected-remark @below {{concat irmb.cat: not fused: an input already lives elsewhere}}
  %c2 = irmb.cat %a, %y : tensor<1x4x6x6xf32>, tensor<1x8x6x6xf32> -> tensor<1x12x6x6xf32>
  return %g, %c1, %c2 : tensor<1x4x6x6xf32>, tensor<1x16x6x6xf32>, tensor<1x12x6x6xf32>
}
