#!/usr/bin/env python3
"""torch_bench.py: the PyTorch side of bench/gpu.sh, run on the device.

Builds a model YAML with the real Ultralytics code (the THU-MIG/yolov10 tree
staged by `bench/gpu.sh prepare`, never committed). The improved modules are
added with the registrations of ../shared/reference/ultralytics-semantics.md §2.5:
  - iRMB as args = [ch[f], *args];
  - C2f_iRMB like C2f.
Their definitions below are this project's own, written from §3.13–3.14.

The script can check the model against a golden raw output (--check), then
times it. Modes:
  - eager fp32;
  - eager fp16 (.half());
  - torch.compile(mode="max-autotune") fp16.

The heads run as deployed (export mode: one2one branch + v10 top-k).
Timing uses CUDA events: warm-up, then the median of --runs forwards on random
inputs. Prints one JSON line per measurement.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- iRMB family (ultralytics-semantics.md §3.13, §3.14) --------------------

class ConvNormAct(nn.Module):
    """Conv (padding ceil((k - stride) / 2)), optional BN, activation."""

    def __init__(self, c_in, c_out, k, stride=1, dilation=1, groups=1, bias=False,
                 norm=True, act="relu"):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, math.ceil((k - stride) / 2),
                              dilation, groups, bias)
        self.norm = nn.BatchNorm2d(c_out) if norm else nn.Identity()
        self.act = {"relu": nn.ReLU(), "silu": nn.SiLU(), "none": nn.Identity()}[act]

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))


class SqueezeExcite(nn.Module):
    """timm SqueezeExcite with ReLU, reduced width rounded to a multiple of 8."""

    def __init__(self, c, ratio):
        super().__init__()
        r = max(8, int(c * ratio + 4) // 8 * 8)
        if r < 0.9 * c * ratio:
            r += 8
        self.conv_reduce = nn.Conv2d(c, r, 1, bias=True)
        self.act1 = nn.ReLU()
        self.conv_expand = nn.Conv2d(r, c, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.conv_expand(self.act1(self.conv_reduce(s))))


class iRMB(nn.Module):
    def __init__(self, dim_in, dim_out, norm_in=True, has_skip=True, exp_ratio=1.0,
                 norm_layer="bn_2d", act_layer="relu", v_proj=True, dw_ks=3, stride=1,
                 dilation=1, se_ratio=0.0, dim_head=8, window_size=7, attn_s=True,
                 qkv_bias=False, attn_drop=0.0, drop=0.0, drop_path=0.0, v_group=False,
                 attn_pre=False):
        super().__init__()
        self.norm = nn.BatchNorm2d(dim_in) if norm_in else nn.Identity()
        dim_mid = int(dim_in * exp_ratio)
        self.has_skip = dim_in == dim_out and stride == 1 and has_skip
        self.attn_s, self.attn_pre, self.window = attn_s, attn_pre, window_size
        if attn_s:
            self.dim_head = dim_head
            self.heads = dim_in // dim_head
            self.scale = dim_head ** -0.5
            self.qk = ConvNormAct(dim_in, dim_in * 2, 1, bias=qkv_bias, norm=False, act="none")
            self.v = ConvNormAct(dim_in, dim_mid, 1, groups=self.heads if v_group else 1,
                                 bias=qkv_bias, norm=False, act=act_layer)
        else:
            self.v = (ConvNormAct(dim_in, dim_mid, 1, bias=qkv_bias, norm=False, act=act_layer)
                      if v_proj else nn.Identity())
        self.conv_local = ConvNormAct(dim_mid, dim_mid, dw_ks, stride, dilation, dim_mid,
                                      act="silu")
        self.se = SqueezeExcite(dim_mid, se_ratio) if se_ratio > 0 else nn.Identity()
        self.proj = ConvNormAct(dim_mid, dim_out, 1, norm=False, act="none")

    def _attention(self, x):
        B, C, H, W = x.shape
        wh, ww = (self.window, self.window) if self.window > 0 else (H, W)
        pb, pr = (wh - H % wh) % wh, (ww - W % ww) % ww
        x = F.pad(x, (0, pr, 0, pb))
        n1, n2 = (H + pb) // wh, (W + pr) // ww
        # Strided-grid windows: pixel (i·n1 + a, j·n2 + c) is token (i, j) of
        # window (a, c).
        x = x.view(B, C, wh, n1, ww, n2).permute(0, 3, 5, 1, 2, 4).reshape(-1, C, wh, ww)
        b, t = x.shape[0], wh * ww
        qk = self.qk(x).view(b, 2, self.heads, self.dim_head, t).permute(1, 0, 2, 4, 3)
        attn = ((qk[0] @ qk[1].transpose(-2, -1)) * self.scale).softmax(-1)
        if self.attn_pre:
            xs = x.reshape(b, self.heads, -1, t).transpose(-2, -1)
            o = (attn @ xs).transpose(-2, -1).reshape(b, -1, wh, ww)
            o = self.v(o)
        else:
            v = self.v(x)
            v = v.view(b, self.heads, -1, t).transpose(-2, -1)
            o = (attn @ v).transpose(-2, -1).reshape(b, -1, wh, ww)
        c = o.shape[1]
        o = o.view(B, n1, n2, c, wh, ww).permute(0, 3, 4, 1, 5, 2).reshape(B, c, wh * n1, ww * n2)
        return o[:, :, :H, :W]

    def forward(self, x):
        shortcut = x
        x = self.norm(x)
        x = self._attention(x) if self.attn_s else self.v(x)
        local = self.se(self.conv_local(x))
        x = x + local if self.has_skip else local
        x = self.proj(x)
        return shortcut + x if self.has_skip else x


def make_c2f_irmb(Conv):
    """C2f_iRMB over Ultralytics' Conv (imported from the staged tree)."""

    class Bottleneck_iRMB(nn.Module):
        def __init__(self, c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5):
            super().__init__()
            c_ = int(c2 * e)
            self.cv1 = Conv(c1, c_, k[0], 1)
            self.cv2 = Conv(c_, c2, k[1], 1, g=g)
            self.iRMB = iRMB(c2, c2)
            self.add = shortcut and c1 == c2

        def forward(self, x):
            y = self.iRMB(self.cv2(self.cv1(x)))
            return x + y if self.add else y

    class C2f_iRMB(nn.Module):
        def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
            super().__init__()
            self.c = int(c2 * e)
            self.cv1 = Conv(c1, 2 * self.c, 1, 1)
            self.cv2 = Conv((2 + n) * self.c, c2, 1)
            self.m = nn.ModuleList(Bottleneck_iRMB(self.c, self.c, shortcut, g,
                                                   k=((3, 3), (3, 3)), e=1.0)
                                   for _ in range(n))

        def forward(self, x):
            y = list(self.cv1(x).chunk(2, 1))
            y.extend(m(y[-1]) for m in self.m)
            return self.cv2(torch.cat(y, 1))

    return C2f_iRMB


def register(tasks):
    """Adds iRMB (args = [ch[f], *args]) and C2f_iRMB (like C2f) to parse_model."""
    import inspect
    tasks.iRMB = iRMB
    tasks.C2f_iRMB = make_c2f_irmb(tasks.Conv)
    src = inspect.getsource(tasks.parse_model)
    edits = [
        ("C2fCIB\n        }:", "C2fCIB,\n            C2f_iRMB,\n        }:"),
        ("C3x, RepC3, C2fCIB):", "C3x, RepC3, C2fCIB, C2f_iRMB):"),
        ("        elif m is AIFI:", "        elif m is iRMB:\n            args = [ch[f], *args]\n"
                                  "        elif m is AIFI:"),
    ]
    for old, new in edits:
        if old not in src:
            sys.exit(f"torch_bench: parse_model of this tree has no {old!r}")
        src = src.replace(old, new, 1)
    exec(compile(src, tasks.__file__, "exec"), tasks.__dict__)


# --- measurement -------------------------------------------------------------

def build(yaml_path, weights=None):
    from ultralytics.nn import tasks
    register(tasks)
    model = tasks.DetectionModel(yaml_path, verbose=False)
    if weights:
        from safetensors.torch import load_file
        state = load_file(weights)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            sys.exit(f"torch_bench: weights do not fit: missing {missing[:5]}, "
                     f"unexpected {unexpected[:5]}")
    return model.eval().cuda()


def deploy(model):
    """Ultralytics' inference form: Conv+BN fused, heads in export mode."""
    model = model.fuse(verbose=False)
    for m in model.modules():
        if hasattr(m, "export") and hasattr(m, "format"):
            m.export, m.format = True, "onnx"
    return model


def time_forward(fn, x_sets, runs, warmup):
    with torch.inference_mode():
        for i in range(warmup):
            fn(x_sets[i % len(x_sets)])
        torch.cuda.synchronize()
        times = []
        for i in range(runs):
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            fn(x_sets[i % len(x_sets)])
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2], times[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--modes", default="eager-fp32,eager-fp16,compile-fp16")
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--weights")
    p.add_argument("--check", nargs=2, metavar=("INPUT.npy", "RAW.npy"))
    args = p.parse_args()
    torch.backends.cudnn.benchmark = True
    model = build(args.model, args.weights)
    if args.check:
        import numpy as np
        x = torch.from_numpy(np.load(args.check[0])).cuda()
        with torch.inference_mode():
            out = model(x)
        raw = out["one2one"][0] if isinstance(out, dict) else out[0]
        ref = torch.from_numpy(np.load(args.check[1])).cuda()
        rel = ((raw[:, :4] - ref[:, :4]).norm() / ref[:, :4].norm()).item()
        err = (raw[:, 4:] - ref[:, 4:]).abs().max().item()
        print(json.dumps({"check": args.name, "boxes_rel_l2": rel, "scores_max_abs": err}),
              flush=True)
    model = deploy(model)
    for mode in args.modes.split(","):
        kind, precision = mode.split("-")
        m = model.half() if precision == "fp16" else model.float()
        dtype = torch.float16 if precision == "fp16" else torch.float32
        fn = m
        for batch in args.batch:
            x_sets = [torch.rand(batch, 3, args.imgsz, args.imgsz, device="cuda", dtype=dtype)
                      for _ in range(3)]
            t0 = time.time()
            if kind == "compile":
                torch._dynamo.reset()
                fn = torch.compile(m, mode="max-autotune")
            median, best = time_forward(fn, x_sets, args.runs, 10 if kind == "eager" else 20)
            print(json.dumps({"impl": f"torch-{kind}", "model": args.name, "batch": batch,
                              "precision": precision, "median_ms": median, "min_ms": best,
                              "setup_s": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
