// Every op verifier and ODS constraint, one diagnostic per chunk.
// RUN: irmb-opt %s -split-input-file -verify-diagnostics

func.func @conv_groups(%x: tensor<1x6x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.conv' op input (6 channels) is not divisible by groups 4}}
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 4 : i64, kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 1 : i64} : tensor<1x6x8x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @conv_shape(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.conv' op result shape [1, 8, 8, 8] does not match the inferred shape [1, 8, 4, 4]}}
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 3 : i64, key = "model.0", padding = 1 : i64, stride = 2 : i64} : tensor<1x3x8x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @conv_kernel(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.conv' op attribute 'kernel' failed to satisfy constraint}}
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 0 : i64, key = "model.0", padding = 0 : i64, stride = 1 : i64} : tensor<1x3x8x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @conv_window(%x: tensor<1x3x2x2xf32>) -> tensor<1x8x1x1xf32> {
  // expected-error @+1 {{'irmb.conv' op a 7x7 window (stride 1, padding 0, dilation 1) does not fit the 2x2 input}}
  %0 = irmb.conv %x {act = #irmb.act<silu>, dilation = 1 : i64, groups = 1 : i64, kernel = 7 : i64, key = "model.0", padding = 0 : i64, stride = 1 : i64} : tensor<1x3x2x2xf32> -> tensor<1x8x1x1xf32>
  return %0 : tensor<1x8x1x1xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<1x4x8x8xf32>, %b: tensor<1x4x4x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.concat' op input 1 has height 4 but input 0 has 8}}
  %0 = irmb.concat %a, %b {dim = 1 : i64, key = "model.3"} : tensor<1x4x8x8xf32>, tensor<1x4x4x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @concat_width(%a: tensor<1x4x8x8xf32>, %b: tensor<1x4x8x8xf32>) -> tensor<1x9x8x8xf32> {
  // expected-error @+1 {{'irmb.concat' op result shape [1, 9, 8, 8] does not match the inferred shape [1, 8, 8, 8]}}
  %0 = irmb.concat %a, %b {dim = 1 : i64, key = "model.3"} : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32> -> tensor<1x9x8x8xf32>
  return %0 : tensor<1x9x8x8xf32>
}

// -----

func.func @upsample_shape(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'irmb.upsample' op result shape [1, 4, 8, 8] does not match the inferred shape [1, 4, 16, 16]}}
  %0 = irmb.upsample %x {key = "model.1", scale = 2 : i64} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @c2f_groups(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // expected-error @+1 {{'irmb.c2f' op bottleneck width (6 channels) is not divisible by groups 4}}
  %0 = irmb.c2f %x {groups = 4 : i64, hidden = 6 : i64, key = "model.2", n = 1 : i64, shortcut = true} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}

// -----

func.func @c2f_block_stride(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // expected-error @+1 {{'irmb.c2f' op the bottleneck's MMB must keep the feature map size}}
  %0 = irmb.c2f %x {block = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 2, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, groups = 1 : i64, hidden = 8 : i64, key = "model.4", n = 1 : i64, shortcut = true} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}

// -----

func.func @c2f_block_dim_head(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // expected-error @+1 {{'irmb.c2f' op width 12 is not divisible by dim_head 8}}
  %0 = irmb.c2f %x {block = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, groups = 1 : i64, hidden = 12 : i64, key = "model.4", n = 1 : i64, shortcut = true} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}

// -----

func.func @c3k2_hidden(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // expected-error @+1 {{'irmb.c3k2' op hidden width 1 leaves no channels for the inner blocks}}
  %0 = irmb.c3k2 %x {c3k = false, groups = 1 : i64, hidden = 1 : i64, key = "model.2", n = 1 : i64, shortcut = true} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}

// -----

func.func @scdown_shape(%x: tensor<1x16x8x8xf32>) -> tensor<1x32x8x8xf32> {
  // expected-error @+1 {{'irmb.scdown' op result shape [1, 32, 8, 8] does not match the inferred shape [1, 32, 4, 4]}}
  %0 = irmb.scdown %x {kernel = 3 : i64, key = "model.5", stride = 2 : i64} : tensor<1x16x8x8xf32> -> tensor<1x32x8x8xf32>
  return %0 : tensor<1x32x8x8xf32>
}

// -----

func.func @sppf_even(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  // expected-error @+1 {{'irmb.sppf' op max-pool kernel 4 must be odd to keep the map size}}
  %0 = irmb.sppf %x {kernel = 4 : i64, key = "model.9"} : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}

// -----

func.func @psa_widths(%x: tensor<1x256x8x8xf32>) -> tensor<1x128x8x8xf32> {
  // expected-error @+1 {{'irmb.psa' op needs equal input and output widths, got 256 and 128}}
  %0 = irmb.psa %x {hidden = 128 : i64, key = "model.10", num_heads = 2 : i64} : tensor<1x256x8x8xf32> -> tensor<1x128x8x8xf32>
  return %0 : tensor<1x128x8x8xf32>
}

// -----

func.func @psa_heads(%x: tensor<1x256x8x8xf32>) -> tensor<1x256x8x8xf32> {
  // expected-error @+1 {{'irmb.psa' op attention width 128 is not divisible by 3 heads}}
  %0 = irmb.psa %x {hidden = 128 : i64, key = "model.10", num_heads = 3 : i64} : tensor<1x256x8x8xf32> -> tensor<1x256x8x8xf32>
  return %0 : tensor<1x256x8x8xf32>
}

// -----

func.func @c2psa_hidden(%x: tensor<1x256x8x8xf32>) -> tensor<1x256x8x8xf32> {
  // expected-error @+1 {{'irmb.c2psa' op hidden width 192 exceeds half the input width}}
  %0 = irmb.c2psa %x {hidden = 192 : i64, key = "model.10", n = 1 : i64, num_heads = 3 : i64} : tensor<1x256x8x8xf32> -> tensor<1x256x8x8xf32>
  return %0 : tensor<1x256x8x8xf32>
}

// -----

func.func @mmb_dim_head(%x: tensor<1x20x8x8xf32>) -> tensor<1x20x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op width 20 is not divisible by dim_head 8}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x20x8x8xf32> -> tensor<1x20x8x8xf32>
  return %0 : tensor<1x20x8x8xf32>
}

// -----

func.func @mmb_heads_vs_mid(%x: tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op expanded width 48 is not divisible by the 32 heads}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.5, op = window_attention, window = 7, dim_head = 1, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x32x8x8xf32> -> tensor<1x32x8x8xf32>
  return %0 : tensor<1x32x8x8xf32>
}

// -----

func.func @mmb_ema_groups(%x: tensor<1x48x8x8xf32>) -> tensor<1x48x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op width 48 is not divisible by the 32 EMA groups}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 32, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>, key = "model.17"} : tensor<1x48x8x8xf32> -> tensor<1x48x8x8xf32>
  return %0 : tensor<1x48x8x8xf32>
}

// -----

func.func @mmb_ema_expansion(%x: tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op ema needs expansion ratio 1}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 2.0, op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 32, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>, key = "model.17"} : tensor<1x64x8x8xf32> -> tensor<1x64x8x8xf32>
  return %0 : tensor<1x64x8x8xf32>
}

// -----

func.func @mmb_no_v_proj(%x: tensor<1x64x8x8xf32>) -> tensor<1x64x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op without v_proj the expansion ratio must be 1}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 2.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>, key = "model.17"} : tensor<1x64x8x8xf32> -> tensor<1x64x8x8xf32>
  return %0 : tensor<1x64x8x8xf32>
}

// -----

func.func @mmb_se_width(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op se_ratio 0.01 gives a squeeze-excite width of 0}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.01, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x8x8x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @mmb_dilation(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x6x6xf32> {
  // expected-error @+1 {{'irmb.mmb' op the residual needs the depthwise conv to keep the map size, but dilation 2 shrinks it}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 2, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x8x8x8xf32> -> tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}

// -----

func.func @mmb_stride_shape(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  // expected-error @+1 {{'irmb.mmb' op result shape [1, 8, 8, 8] does not match the inferred shape [1, 8, 4, 4]}}
  %0 = irmb.mmb %x {config = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 2, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>, key = "model.23"} : tensor<1x8x8x8xf32> -> tensor<1x8x8x8xf32>
  return %0 : tensor<1x8x8x8xf32>
}

// -----

func.func @detect_strides(%a: tensor<1x64x8x8xf32>, %b: tensor<1x64x4x4xf32>) -> tensor<1x84x80xf32> {
  // expected-error @+1 {{'irmb.detect' op has 2 levels but 3 strides}}
  %0 = irmb.detect %a, %b {cls_head = #irmb.cls_head<legacy>, key = "model.22", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16, 32>} : tensor<1x64x8x8xf32>, tensor<1x64x4x4xf32> -> tensor<1x84x80xf32>
  return %0 : tensor<1x84x80xf32>
}

// -----

func.func @detect_batch(%a: tensor<1x64x8x8xf32>, %b: tensor<2x64x4x4xf32>) -> tensor<1x84x80xf32> {
  // expected-error @+1 {{'irmb.v10_detect' op level 1 has batch 2 but level 0 has 1}}
  %0 = irmb.v10_detect %a, %b {key = "model.23", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16>} : tensor<1x64x8x8xf32>, tensor<2x64x4x4xf32> -> tensor<1x84x80xf32>
  return %0 : tensor<1x84x80xf32>
}

// -----

func.func @detect_anchors(%a: tensor<1x64x8x8xf32>, %b: tensor<1x64x4x4xf32>) -> tensor<1x84x64xf32> {
  // expected-error @+1 {{'irmb.detect' op result shape [1, 84, 64] does not match the inferred shape [1, 84, 80]}}
  %0 = irmb.detect %a, %b {cls_head = #irmb.cls_head<depthwise>, key = "model.22", nc = 80 : i64, reg_max = 16 : i64, strides = array<i64: 8, 16>} : tensor<1x64x8x8xf32>, tensor<1x64x4x4xf32> -> tensor<1x84x64xf32>
  return %0 : tensor<1x84x64xf32>
}
