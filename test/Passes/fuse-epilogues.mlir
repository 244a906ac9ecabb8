// irmb-fuse-depthwise and irmb-fuse-conv-epilogue: batch_norm -> activation
// -> add after a conv become its norm, act and residual; each pass only
// touches its kind of conv.
// RUN: irmb-opt %s --irmb-fuse-depthwise --split-input-file | FileCheck %s --check-prefix=DW
// RUN: irmb-opt %s --irmb-fuse-conv-epilogue --split-input-file | FileCheck %s --check-prefix=CONV
// RUN: irmb-opt %s --irmb-fuse-depthwise=report=true --irmb-fuse-conv-epilogue=report=true --split-input-file -verify-diagnostics -o /dev/null

// The MMB tail: u = z + SiLU(BN(dw(z))); r = proj(u); y = x + r.
// DW-LABEL: func.func @mmb_tail
// DW: %[[U:.*]] = irmb.conv2d %arg1 residual(%arg1 : tensor<1x8x6x6xf32>) {act = #irmb.act<silu>, {{.*}}groups = 8 : i64, {{.*}}norm = "m.conv_local.norm"
// DW: irmb.conv2d %[[U]] {act = #irmb.act<none>
// DW: irmb.add
// CONV-LABEL: func.func @mmb_tail
// CONV: irmb.batch_norm
// CONV: irmb.add
// CONV: %[[Y:.*]] = irmb.conv2d %{{.*}} residual(%arg0 : tensor<1x8x6x6xf32>) {{.*}}weight = "m.proj.conv.weight"
// CONV-NEXT: return %[[Y]]
func.func @mmb_tail(%x: tensor<1x8x6x6xf32>, %z: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  // expected-remark @below {{depthwise m.conv_local.conv: fused (norm + silu + residual)}}
  %d = irmb.conv2d %z {act = #irmb.act<none>, dilation = 1 : i64, groups = 8 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "m.conv_local.conv.weight"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %n = irmb.batch_norm %d {norm = "m.conv_local.norm"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %a = irmb.activation %n {act = #irmb.act<silu>} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %u = irmb.add %z, %a : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{conv-epilogue m.proj.conv: fused (residual)}}
  %r = irmb.conv2d %u {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "m.proj.conv.weight"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %y = irmb.add %x, %r : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %y : tensor<1x8x6x6xf32>
}

// -----

// Must not fuse: the BN result has a second consumer (the chain stops at the
// BN); squeeze-excite between the activation and the add.
// DW-LABEL: func.func @blocked
// DW: irmb.conv2d %arg0 {act = #irmb.act<none>, {{.*}}norm = "a.bn"
// DW-NEXT: irmb.activation
// DW: irmb.conv2d %arg0 {act = #irmb.act<silu>, {{.*}}norm = "b.bn"
// DW-NEXT: irmb.squeeze_excite
func.func @blocked(%x: tensor<1x8x6x6xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) {
  // expected-remark @below {{depthwise a.conv: fused (norm; then stops: the result feeding it has other consumers)}}
  %d = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 8 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "a.conv.weight"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %n = irmb.batch_norm %d {norm = "a.bn"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %a = irmb.activation %n {act = #irmb.act<silu>} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  // expected-remark @below {{depthwise b.conv: fused (norm + silu; then stops: squeeze-excite follows (kept as its own kernel))}}
  %e = irmb.conv2d %x {act = #irmb.act<none>, dilation = 1 : i64, groups = 8 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "b.conv.weight"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %en = irmb.batch_norm %e {norm = "b.bn"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %ea = irmb.activation %en {act = #irmb.act<silu>} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %s = irmb.squeeze_excite %ea {act = #irmb.act<relu>, prefix = "b.se"} : tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  %y = irmb.add %x, %s : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32> -> tensor<1x8x6x6xf32>
  return %n, %a, %y : tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>
}
