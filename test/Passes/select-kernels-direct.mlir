// irmb-select-kernels, direct stride-2 choice: with direct-stride2 (which
// irmb-compile sets for AVX2 and AVX-512 builds, or --direct-conv=on), 3x3 stride-2
// padding-1 ungrouped undilated convolutions run by the direct kernel with
// output channels in lanes (direct_s2, DirectConv.h), whatever the winograd
// option; every other convolution keeps its kernel, and without the option
// stride-2 convolutions stay implicit GEMMs. The report names each one.
// RUN: irmb-opt %s --irmb-select-kernels=direct-stride2=true | FileCheck %s --check-prefix=ON
// RUN: irmb-opt %s --irmb-select-kernels="direct-stride2=true winograd=off" | FileCheck %s --check-prefix=ON
// RUN: irmb-opt %s --irmb-select-kernels | FileCheck %s --check-prefix=OFF
// RUN: irmb-opt %s --irmb-select-kernels="direct-stride2=true report=true" --verify-diagnostics -o /dev/null
// direct-min-channels (irmb-compile sets 16 for AVX-512) keeps convolutions
// with fewer input channels on the implicit GEMM, and the report says why.
// RUN: irmb-opt %s --irmb-select-kernels="direct-stride2=true direct-min-channels=32" | FileCheck %s --check-prefix=MIN
// RUN: irmb-opt %s --irmb-select-kernels="direct-stride2=true direct-min-channels=32 report=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MINREPORT
// MINREPORT: remark: direct conv3x3 16->32 at 40x24: not used: 16 input channels (fewer than 32)
// MINREPORT: remark: direct conv3x3 32->32 at 2x1: direct_s2

func.func @convs(%x: tensor<1x16x40x24xf32>) -> tensor<1x32x1x1xf32> {
  // ON: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<direct_s2>{{.*}} -> tensor<1x32x20x12xf32>
  // OFF: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x20x12xf32>
  // MIN: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x20x12xf32>
  // expected-remark @+2 {{winograd conv3x3 16->32 at 40x24: not used: stride 2}}
  // expected-remark @+1 {{direct conv3x3 16->32 at 40x24: direct_s2}}
  %0 = irmb.conv2d %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "a"} : tensor<1x16x40x24xf32> -> tensor<1x32x20x12xf32>
  // Grouped, unpadded and dilated stride-2 convolutions are not its shape.
  // ON: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x10x6xf32>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 20x12: not used: stride 2}}
  %1 = irmb.conv2d %0 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 2 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "b"} : tensor<1x32x20x12xf32> -> tensor<1x32x10x6xf32>
  // ON: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x4x2xf32>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 10x6: not used: stride 2}}
  %2 = irmb.conv2d %1 {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 0 : i64, stride = 2 : i64, weight = "c"} : tensor<1x32x10x6xf32> -> tensor<1x32x4x2xf32>
  // A 1x1 stride-2 convolution is an implicit GEMM, reported by nobody.
  // ON: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x2x1xf32>
  %3 = irmb.conv2d %2 {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 2 : i64, weight = "d"} : tensor<1x32x4x2xf32> -> tensor<1x32x2x1xf32>
  // Stride 1 keeps Winograd or the GEMM.
  // ON: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<im2col_gemm>{{.*}} -> tensor<1x32x2x1xf32>
  // expected-remark @+1 {{winograd conv3x3 32->32 at 2x1: not used: 1 tiles of 4x4 (fewer than 16)}}
  %4 = irmb.conv2d %3 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "e"} : tensor<1x32x2x1xf32> -> tensor<1x32x2x1xf32>
  %5 = irmb.conv2d %4 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "f"} : tensor<1x32x2x1xf32> -> tensor<1x32x2x1xf32>
  // One output pixel from a 2x1 map: seven of its nine taps are padding.
  // ON: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<direct_s2>{{.*}} -> tensor<1x32x1x1xf32>
  // MIN: irmb.conv2d {{.*}}irmb.kernel = #irmb.kernel<direct_s2>{{.*}} -> tensor<1x32x1x1xf32>
  // expected-remark @+2 {{winograd conv3x3 32->32 at 2x1: not used: stride 2}}
  // expected-remark @+1 {{direct conv3x3 32->32 at 2x1: direct_s2}}
  %6 = irmb.conv2d %5 {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "g"} : tensor<1x32x2x1xf32> -> tensor<1x32x1x1xf32>
  return %6 : tensor<1x32x1x1xf32>
}
