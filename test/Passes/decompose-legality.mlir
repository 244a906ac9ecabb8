// irmb-decompose is a dialect conversion whose target holds only primitive
// irmb ops (and func / builtin): a chain of model-level ops converts in one
// run, each consumer reading its converted producer, and an op the target
// does not know is an error at that op, never left in the primitive IR.
// RUN: irmb-opt %s --irmb-decompose --split-input-file --allow-unregistered-dialect --verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @chain
// CHECK-NOT: irmb.conv %
// CHECK: %[[A:.*]] = irmb.activation {{.*}}{act = #irmb.act<silu>}
// CHECK: irmb.conv2d %[[A]] {{.*}}weight = "model.1.conv.weight"
// CHECK: %[[U:.*]] = irmb.resize_nearest {{.*}}{scale = 2 : i64}
// CHECK: return %[[U]]
func.func @chain(%x: tensor<1x3x64x64xf32>) -> tensor<1x16x32x32xf32> {
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 2 : i64} : tensor<1x3x64x64xf32> -> tensor<1x16x32x32xf32>
  %1 = irmb.conv %0 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, key = "model.1", padding = 1 : i64, stride = 2 : i64} : tensor<1x16x32x32xf32> -> tensor<1x16x16x16xf32>
  %2 = irmb.upsample %1 {key = "model.2", scale = 2 : i64} : tensor<1x16x16x16xf32> -> tensor<1x16x32x32xf32>
  return %2 : tensor<1x16x32x32xf32>
}

// -----

func.func @foreign(%x: tensor<1x3x64x64xf32>) -> tensor<1x3x64x64xf32> {
  // expected-error @+1 {{failed to legalize operation 'test.op'}}
  %0 = "test.op"(%x) : (tensor<1x3x64x64xf32>) -> tensor<1x3x64x64xf32>
  return %0 : tensor<1x3x64x64xf32>
}
