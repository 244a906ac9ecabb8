// The `#irmb.mmb` attribute verifier: invariants of a configuration alone.
// RUN: irmb-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{expansion ratio must be > 0, got 0}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 0.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{window must be in [0, 1024] (0 = global), got -1}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = -1, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// A window pads the map to a multiple of itself: bounded (a fuzzer's window
// of 71e9 overflowed the padded map's area).
// expected-error @+1 {{window must be in [0, 1024] (0 = global), got 71000000000}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 71000000000, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{window_attention needs dim_head >= 1, got 0}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{dim_head, window, attn_pre and v_group apply only to window_attention; they must be 0 / false for dwconv}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{ema needs groups >= 1, got 0}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{groups applies only to ema; it must be 0 for window_attention}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 32, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{F = none has no depthwise conv: dw_ks must be 0 and stride, dilation 1}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = none, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{window_attention always projects v: v_proj must be true}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = window_attention, window = 7, dim_head = 8, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = false, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{ema has no q/k/v projections: v_proj and qkv_bias must be false}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = ema, window = 0, dim_head = 0, attn_pre = false, groups = 32, se_ratio = 0.0, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{se_ratio must be >= 0, got -0.5}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = -0.5, dw_ks = 3, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{dw_ks must be >= 1, got 0}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 0, stride = 1, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}

// -----

// expected-error @+1 {{stride and dilation must be >= 1}}
func.func private @f() attributes {cfg = #irmb.mmb<exp_ratio = 1.0, op = dwconv, window = 0, dim_head = 0, attn_pre = false, groups = 0, se_ratio = 0.0, dw_ks = 3, stride = 0, dilation = 1, act = relu, norm_in = true, has_skip = true, v_proj = true, qkv_bias = false, v_group = false>}
