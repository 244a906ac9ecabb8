// irmb-select-kernels, Winograd choice: 3x3 stride-1 padding-1 ungrouped
// convolutions with at least 32 input and output channels on maps of at
// least 16 4x4 tiles (winograd-min-tiles: one AVX-512 vector of GEMM
// columns, one AVX2 panel) run by
// Winograd F(4x4, 3x3) by default, F(2x2, 3x3) with winograd=f2 and the
// direct implicit GEMM with winograd=off; the report says why each other
// 3x3 convolution does not.
// RUN: irmb-opt %s --irmb-select-kernels | FileCheck %s --check-prefix=F4
// RUN: irmb-opt %s --irmb-select-kernels=winograd=f2 | FileCheck %s --check-prefix=F2
// RUN: irmb-opt %s --irmb-select-kernels=winograd=off | FileCheck %s --check-prefix=OFF
// RUN: irmb-opt %s --irmb-select-kernels=winograd-min-tiles=48 | FileCheck %s --check-prefix=MIN48
// RUN: irmb-opt %s --irmb-select-kernels=report=true --verify-diagnostics -o /dev/null
// RUN: not irmb-opt %s --irmb-select-kernels=winograd=f6 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: winograd=f6 is not available (f4, f2, off)

func.func @convs(%x: tensor<1x32x32x24xf32>, %y: tensor<1x32x28x24xf32>, %z: tensor<1x32x12x16xf32>) -> tensor<1x32x32x24xf32> {
  // 48 tiles of 4x4 (8 x 6): Winograd, also with a floor of 48.
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<winograd_f4>
  // MIN48: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<winograd_f4>{{.*}} -> tensor<1x32x32x24xf32>
  // F2: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<winograd_f2>
  // OFF: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 32x24: winograd_f4}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "a"} : tensor<1x32x32x24xf32> -> tensor<1x32x32x24xf32>
  // Too narrow: the transforms would cost more than they save.
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  // expected-remark @+1 {{winograd conv3x3 32->16 at 32x24: not used: 16 channels (fewer than 32)}}
  %1 = irmb.conv2d %0 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "b"} : tensor<1x32x32x24xf32> -> tensor<1x16x32x24xf32>
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  // expected-remark @+1 {{winograd conv3x3 16->32 at 32x24: not used: 2 groups}}
  %2 = irmb.conv2d %1 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 2 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "c"} : tensor<1x16x32x24xf32> -> tensor<1x32x32x24xf32>
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 32x24: not used: dilation 2}}
  %3 = irmb.conv2d %2 {act = #irmb.act<none>, dilation = 2 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 2 : i64, stride = 1 : i64, weight = "d"} : tensor<1x32x32x24xf32> -> tensor<1x32x32x24xf32>
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 32x24: not used: stride 2}}
  %4 = irmb.conv2d %3 {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "e"} : tensor<1x32x32x24xf32> -> tensor<1x32x16x12xf32>
  // 42 tiles of 4x4 (7 x 6): Winograd (16 or more), not with a floor of 48.
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<winograd_f4>
  // MIN48: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x28x24xf32>
  // F2: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<winograd_f2>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 28x24: winograd_f4}}
  %6 = irmb.conv2d %y {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "g"} : tensor<1x32x28x24xf32> -> tensor<1x32x28x24xf32>
  // 12 tiles of 4x4 (3 x 4), fewer than 16: the direct GEMM.
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>
  // (F(2x2) counts its own tiles: 6 x 8 = 48.)
  // F2: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<winograd_f2>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 12x16: not used: 12 tiles of 4x4 (fewer than 16)}}
  %7 = irmb.conv2d %z {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "h"} : tensor<1x32x12x16xf32> -> tensor<1x32x12x16xf32>
  // Not 3x3: no remark, the direct GEMM.
  // F4: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<gemm>
  %5 = irmb.conv2d %0 {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "f"} : tensor<1x32x32x24xf32> -> tensor<1x32x32x24xf32>
  return %5 : tensor<1x32x32x24xf32>
}
