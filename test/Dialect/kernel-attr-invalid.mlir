// The irmb.kernel attribute (KernelChoice.h): a declared #irmb.kernel that
// the dialect checks against its op, so a choice that cannot run is an
// error at the op, not a wrong result in a compiled model.
// RUN: irmb-opt %s -split-input-file -verify-diagnostics

// A valid choice round-trips.
func.func @valid(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, irmb.kernel = #irmb.kernel<winograd_f4>, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  %1 = irmb.activation %0 {act = #irmb.act<relu>, irmb.kernel = #irmb.kernel<activation>} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %1 : tensor<1x8x10x10xf32>
}

// -----

func.func @winograd_stride2(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x5x5xf32> {
  // expected-error @+1 {{cannot run on #irmb.kernel<winograd_f4>: winograd_f4 needs a 3x3 stride-1 padding-1 convolution of one group}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, irmb.kernel = #irmb.kernel<winograd_f4>, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x5x5xf32>
  return %0 : tensor<1x8x5x5xf32>
}

// -----

func.func @direct_stride1(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{direct_s2 needs a 3x3 stride-2 padding-1 convolution of one group}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, irmb.kernel = #irmb.kernel<direct_s2>, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @depthwise_dense(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{depthwise needs groups == input channels == output channels}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, irmb.kernel = #irmb.kernel<depthwise>, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @gemm_3x3(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{gemm needs a 1x1 stride-1 unpadded convolution}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, irmb.kernel = #irmb.kernel<gemm>, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "w"} : tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @conv_on_add(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{cannot run on #irmb.kernel<gemm>: irmb.add runs on add}}
  %0 = irmb.add %x, %x {irmb.kernel = #irmb.kernel<gemm>} : tensor<1x8x10x10xf32>, tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @copy_of_view(%x: tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{irmb.slice runs on view}}
  %0 = irmb.slice %x {groups = 1 : i64, irmb.kernel = #irmb.kernel<slice_copy>, period = 0 : i64, size = 4 : i64, start = 0 : i64, view} : tensor<1x8x4x4xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @string_kernel(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+1 {{'irmb.kernel' must be a #irmb.kernel, not "add"}}
  %0 = irmb.add %x, %x {irmb.kernel = "add"} : tensor<1x8x10x10xf32>, tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// -----

func.func @on_func(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> attributes {irmb.kernel = #irmb.kernel<add>} {
  // expected-error @-1 {{only primitive ops run on kernels}}
  return %x : tensor<1x8x10x10xf32>
}

// -----

// expected-error @+1 {{unknown irmb attribute 'irmb.cpu_kernel'}}
func.func @unknown(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> attributes {irmb.cpu_kernel = "add"} {
  return %x : tensor<1x8x10x10xf32>
}

// -----

func.func @unknown_kernel(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x10x10xf32> {
  // expected-error @+2 {{failed to parse IRMB_KernelAttr parameter}}
  // expected-error @+1 {{to be one of: depthwise, gemm, im2col_gemm}}
  %0 = irmb.add %x, %x {irmb.kernel = #irmb.kernel<fast>} : tensor<1x8x10x10xf32>, tensor<1x8x10x10xf32> -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}
