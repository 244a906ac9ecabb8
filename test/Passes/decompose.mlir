// irmb-decompose: every model-level op becomes its primitive ops, unfused:
// a bare conv2d, then its batch_norm and activation (the fusion passes merge).
// RUN: irmb-opt %s --irmb-decompose --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @conv
func.func @conv(%x: tensor<1x3x64x64xf32>) -> tensor<1x16x32x32xf32> {
  // CHECK-NEXT: %[[C:.*]] = irmb.conv2d %{{.*}} {act = #irmb.act<none>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64, weight = "model.0.conv.weight"}
  // CHECK-NEXT: %[[N:.*]] = irmb.batch_norm %[[C]] {norm = "model.0.bn"}
  // CHECK-NEXT: %[[Y:.*]] = irmb.activation %[[N]] {act = #irmb.act<silu>}
  // CHECK-NEXT: return %[[Y]]
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 2 : i64} : tensor<1x3x64x64xf32> -> tensor<1x16x32x32xf32>
  return %0 : tensor<1x16x32x32xf32>
}

// -----

// C2f: cv1, two channel slices, a bottleneck with residual, cat, cv2.
// CHECK-LABEL: func.func @c2f
func.func @c2f(%x: tensor<1x32x16x16xf32>) -> tensor<1x32x16x16xf32> {
  // CHECK: irmb.conv2d %{{.*}}weight = "model.2.cv1.conv.weight"{{.*}} -> tensor<1x32x16x16xf32>
  // CHECK-NEXT: irmb.batch_norm
  // CHECK-NEXT: %[[T:.*]] = irmb.activation
  // CHECK-NEXT: %[[A:.*]] = irmb.slice %[[T]] {groups = 1 : i64, period = 0 : i64, size = 16 : i64, start = 0 : i64}
  // CHECK-NEXT: %[[B:.*]] = irmb.slice %[[T]] {groups = 1 : i64, period = 0 : i64, size = 16 : i64, start = 16 : i64}
  // CHECK-NEXT: irmb.conv2d %[[B]] {{.*}}weight = "model.2.m.0.cv1.conv.weight"
  // CHECK: irmb.conv2d {{.*}}weight = "model.2.m.0.cv2.conv.weight"
  // CHECK-NEXT: irmb.batch_norm
  // CHECK-NEXT: %[[M2:.*]] = irmb.activation
  // CHECK-NEXT: %[[R:.*]] = irmb.add %[[B]], %[[M2]]
  // CHECK-NEXT: %[[C:.*]] = irmb.cat %[[A]], %[[B]], %[[R]] : {{.*}} -> tensor<1x48x16x16xf32>
  // CHECK-NEXT: irmb.conv2d %[[C]] {{.*}}weight = "model.2.cv2.conv.weight"
  %0 = irmb.c2f %x {groups = 1 : i64, hidden = 16 : i64, key = "model.2", n = 1 : i64, shortcut = true} : tensor<1x32x16x16xf32> -> tensor<1x32x16x16xf32>
  return %0 : tensor<1x32x16x16xf32>
}

// -----

// SCDown: 1x1 Conv, then a depthwise strided Conv without activation.
// CHECK-LABEL: func.func @scdown
func.func @scdown(%x: tensor<1x64x16x16xf32>) -> tensor<1x128x8x8xf32> {
  // CHECK: irmb.conv2d {{.*}}kernel = 1 : i64, padding = 0 : i64, stride = 1 : i64, weight = "model.5.cv1.conv.weight"
  // CHECK-NEXT: irmb.batch_norm {{.*}}"model.5.cv1.bn"
  // CHECK-NEXT: irmb.activation {{.*}}silu
  // CHECK-NEXT: irmb.conv2d {{.*}}act = #irmb.act<none>, dilation = 1 : i64, groups = 128 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 2 : i64
  // CHECK-NEXT: %[[N:.*]] = irmb.batch_norm {{.*}}"model.5.cv2.bn"
  // CHECK-NEXT: return %[[N]]
  %0 = irmb.scdown %x {kernel = 3 : i64, key = "model.5", stride = 2 : i64} : tensor<1x64x16x16xf32> -> tensor<1x128x8x8xf32>
  return %0 : tensor<1x128x8x8xf32>
}

// -----

// iRMB on a 20x20 map with window 7: norm, pad to 21x21 after the norm,
// q/k/v projections, strided-grid attention, crop, depthwise tail, residual.
// CHECK-LABEL: func.func @irmb_padded
func.func @irmb_padded(%x: tensor<1x32x20x20xf32>) -> tensor<1x32x20x20xf32> {
  // CHECK: %[[N:.*]] = irmb.batch_norm %{{.*}} {norm = "model.23.norm"}
  // CHECK-NEXT: %[[P:.*]] = irmb.pad %[[N]] : tensor<1x32x20x20xf32> -> tensor<1x32x21x21xf32>
  // CHECK-NEXT: %[[QK:.*]] = irmb.conv2d %[[P]] {act = #irmb.act<none>{{.*}}weight = "model.23.qk.conv.weight"} {{.*}} -> tensor<1x64x21x21xf32>
  // CHECK-NEXT: %[[Q:.*]] = irmb.slice %[[QK]] {{.*}}start = 0
  // CHECK-NEXT: %[[K:.*]] = irmb.slice %[[QK]] {{.*}}start = 32
  // CHECK-NEXT: %[[V0:.*]] = irmb.conv2d %[[P]] {act = #irmb.act<none>{{.*}}weight = "model.23.v.conv.weight"}
  // CHECK-NEXT: %[[V:.*]] = irmb.activation %[[V0]] {act = #irmb.act<relu>}
  // CHECK-NEXT: %[[O:.*]] = irmb.attention %[[Q]], %[[K]], %[[V]] {heads = 4 : i64, scale = 0.35355339059327379 : f64, window = 7 : i64}
  // CHECK-NEXT: %[[C:.*]] = irmb.crop %[[O]] : tensor<1x32x21x21xf32> -> tensor<1x32x20x20xf32>
  // CHECK-NEXT: %[[D0:.*]] = irmb.conv2d %[[C]] {act = #irmb.act<none>, dilation = 1 : i64, groups = 32 : i64, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64, weight = "model.23.conv_local.conv.weight"}
  // CHECK-NEXT: %[[D1:.*]] = irmb.batch_norm %[[D0]] {norm = "model.23.conv_local.norm"}
  // CHECK-NEXT: %[[D:.*]] = irmb.activation %[[D1]] {act = #irmb.act<silu>}
  // CHECK-NEXT: %[[S:.*]] = irmb.add %[[C]], %[[D]]
  // CHECK-NEXT: %[[PR:.*]] = irmb.conv2d %[[S]] {{.*}}weight = "model.23.proj.conv.weight"
  // CHECK-NEXT: irmb.add %{{.*}}, %[[PR]]
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x32x20x20xf32> -> tensor<1x32x20x20xf32>
  return %0 : tensor<1x32x20x20xf32>
}

// -----

// No padding when the map is a multiple of the window; attn_pre applies the
// attention to the normed input and projects v afterwards; SE and a global
// window; no outer residual when the widths differ.
// CHECK-LABEL: func.func @irmb_variants
func.func @irmb_variants(%x: tensor<1x32x14x14xf32>) -> tensor<1x64x14x14xf32> {
  // CHECK-NOT: irmb.pad
  // CHECK: %[[O:.*]] = irmb.attention %{{.*}}, %{{.*}}, %[[N:.*]] {heads = 4 : i64, {{.*}}window = 7 : i64}
  // CHECK-NEXT: %[[V:.*]] = irmb.conv2d %[[O]] {act = #irmb.act<none>{{.*}}weight = "model.1.v.conv.weight"}
  // CHECK-NEXT: irmb.activation %[[V]] {act = #irmb.act<relu>}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = true, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.1"} : tensor<1x32x14x14xf32> -> tensor<1x32x14x14xf32>
  // CHECK: irmb.attention {{.*}}window = 0 : i64
  // CHECK: irmb.squeeze_excite %{{.*}} {act = #irmb.act<relu>, prefix = "model.2.se"}
  // CHECK-NOT: irmb.add
  // CHECK: irmb.conv2d {{.*}}weight = "model.2.proj.conv.weight"{{.*}} -> tensor<1x64x14x14xf32>
  %1 = irmb.mmb %0 {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 0, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.25, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.2"} : tensor<1x32x14x14xf32> -> tensor<1x64x14x14xf32>
  return %1 : tensor<1x64x14x14xf32>
}

// -----

// iEMA: BN, EMA with 32 groups, the depthwise tail.
// CHECK-LABEL: func.func @iema
func.func @iema(%x: tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32> {
  // CHECK: irmb.batch_norm
  // CHECK-NEXT: irmb.ema %{{.*}} {groups = 32 : i64, prefix = "model.17.ema"}
  // CHECK-NEXT: irmb.conv2d {{.*}}groups = 64
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 32, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>, key = "model.17"} : tensor<1x64x8x8xf32> -> tensor<1x64x8x8xf32>
  return %0 : tensor<1x64x8x8xf32>
}

// -----

// PSA: q, k and v are grouped slices of the head-major qkv map.
// CHECK-LABEL: func.func @psa
func.func @psa(%x: tensor<1x256x8x8xf32>) -> tensor<1x256x8x8xf32> {
  // CHECK: %[[QKV:.*]] = irmb.conv2d {{.*}}weight = "model.10.attn.qkv.conv.weight"{{.*}} -> tensor<1x256x8x8xf32>
  // CHECK-NEXT: %[[QKVN:.*]] = irmb.batch_norm %[[QKV]]
  // CHECK-NEXT: irmb.slice %[[QKVN]] {groups = 2 : i64, period = 128 : i64, size = 32 : i64, start = 0 : i64}
  // CHECK-NEXT: irmb.slice %[[QKVN]] {groups = 2 : i64, period = 128 : i64, size = 32 : i64, start = 32 : i64}
  // CHECK-NEXT: irmb.slice %[[QKVN]] {groups = 2 : i64, period = 128 : i64, size = 64 : i64, start = 64 : i64}
  // CHECK-NEXT: irmb.attention {{.*}}heads = 2 : i64, scale = 0.17677669529663689 : f64, window = 0 : i64
  %0 = irmb.psa %x {hidden = 128 : i64, key = "model.10", num_heads = 2 : i64} : tensor<1x256x8x8xf32> -> tensor<1x256x8x8xf32>
  return %0 : tensor<1x256x8x8xf32>
}

// -----

// v10Detect: the one2one branches only, concatenated per level, decoded.
// CHECK-LABEL: func.func @v10_detect
func.func @v10_detect(%a: tensor<1x64x8x8xf32>, %b: tensor<1x128x4x4xf32>) -> tensor<1x84x80xf32> {
  // CHECK-NOT: "model.23.cv2.
  // CHECK: irmb.conv2d {{.*}}weight = "model.23.one2one_cv2.0.0.conv.weight"
  // CHECK: irmb.conv2d {{.*}}bias = "model.23.one2one_cv3.1.2.bias"
  // CHECK: irmb.detect_decode %{{.*}}, %{{.*}} {dfl = "model.23.dfl.conv.weight", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16>} : tensor<1x144x8x8xf32>, tensor<1x144x4x4xf32> -> tensor<1x84x80xf32>
  %0 = irmb.v10_detect %a, %b {key = "model.23", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16>} : tensor<1x64x8x8xf32>, tensor<1x128x4x4xf32> -> tensor<1x84x80xf32>
  return %0 : tensor<1x84x80xf32>
}
