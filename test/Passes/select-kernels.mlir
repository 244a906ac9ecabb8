// irmb-select-kernels: each primitive op gets the kernel that runs it.
// RUN: irmb-opt %s --irmb-select-kernels --split-input-file --verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @convs
func.func @convs(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x4x4xf32> {
  // CHECK: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<gemm>
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "a"} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  // CHECK: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<depthwise>
  %1 = irmb.conv2d %0 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 16 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "b"} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  // A grouped conv that is not depthwise, and a strided 1x1 conv.
  // CHECK: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  %2 = irmb.conv2d %1 {act = #irmb.act<none>, dilation = 1 : i64, groups = 2 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "c"} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  // CHECK: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  %3 = irmb.conv2d %2 {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 2 : i64, weight = "d"} : tensor<1x16x8x8xf32> -> tensor<1x16x4x4xf32>
  return %3 : tensor<1x16x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @mixing
func.func @mixing(%q: tensor<1x8x14x14xf32>) -> tensor<1x8x14x14xf32> {
  // CHECK: irmb.attention {{.*}}irmb.kernel = #irmb.kernel<window_attention>
  %0 = irmb.attention %q, %q, %q {heads = 1 : i64, scale = 1.0 : f64, window = 7 : i64} : tensor<1x8x14x14xf32>, tensor<1x8x14x14xf32>, tensor<1x8x14x14xf32> -> tensor<1x8x14x14xf32>
  // CHECK: irmb.attention {{.*}}irmb.kernel = #irmb.kernel<global_attention>
  %1 = irmb.attention %0, %0, %0 {heads = 2 : i64, scale = 1.0 : f64, window = 0 : i64} : tensor<1x8x14x14xf32>, tensor<1x8x14x14xf32>, tensor<1x8x14x14xf32> -> tensor<1x8x14x14xf32>
  // CHECK: irmb.ema {{.*}}irmb.kernel = #irmb.kernel<ema>
  %2 = irmb.ema %1 {groups = 4 : i64, prefix = "e"} : tensor<1x8x14x14xf32> -> tensor<1x8x14x14xf32>
  // CHECK: irmb.add {{.*}}irmb.kernel = #irmb.kernel<add>
  %3 = irmb.add %2, %0 : tensor<1x8x14x14xf32>, tensor<1x8x14x14xf32> -> tensor<1x8x14x14xf32>
  return %3 : tensor<1x8x14x14xf32>
}

// -----

// Model-level ops have no kernel: they must be decomposed first.
func.func @model_level(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // expected-error @+1 {{'irmb.sppf' op is not a primitive op (run --irmb-decompose first)}}
  %0 = irmb.sppf %x {kernel = 5 : i64, key = "model.9"} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}
