#!/usr/bin/env python3
"""Rewrites a safetensors checkpoint for the weight-loader tests (stdlib only).

edit_checkpoint.py IN OUT OP [ARG]
  drop KEY | reshape KEY | add KEY   missing / mis-shaped / unexpected keys
  set KEY=VALUE                     every element of KEY set to VALUE (float)
  prefix                            every key as model.model.<i>... (HF form)
  fuse                              Ultralytics model.fuse(): Conv+BN -> conv with
                                    bias, RepVGGDW -> one 7x7 conv with bias
  f16 | bf16                        store float tensors as F16 / BF16
  round-f16 | round-bf16            keep F32 but round values as f16 / bf16 would
  truncate | bad-json | overlap | past-end | int32
                                    corrupt headers and data blocks
"""
import json
import math
import struct
import sys
from array import array


def read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    tensors = {}
    for key, info in header.items():
        b, e = info["data_offsets"]
        raw = body[b:e]
        if info["dtype"] == "F32":
            vals = array("f")
            vals.frombytes(raw)
            tensors[key] = ("F32", info["shape"], list(vals))
        else:
            tensors[key] = (info["dtype"], info["shape"], raw)
    return tensors


def encode(dtype, values):
    if dtype == "F32":
        return array("f", values).tobytes()
    if dtype == "F16":
        return b"".join(struct.pack("<e", v) for v in values)
    if dtype == "BF16":
        return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:]
                        for v in values)
    raise ValueError(dtype)


def write(path, tensors, dtype_of=lambda k, d: d):
    header, blobs, offset = {}, [], 0
    for key, (dtype, shape, vals) in tensors.items():
        out_dtype = dtype_of(key, dtype) if dtype == "F32" else dtype
        blob = encode(out_dtype, vals) if dtype == "F32" else vals
        header[key] = {"dtype": out_dtype, "shape": shape,
                       "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def round_to(dtype, v):
    if dtype == "F16":
        return struct.unpack("<e", struct.pack("<e", v))[0]
    bits = struct.unpack("<I", struct.pack("<f", v))[0] & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def fold(t, conv, bn, eps=1e-3):
    """Conv weight and BN of a Conv unit -> (weight, bias), as model.fuse()."""
    _, wshape, w = t[conv]
    g, b, m, v = (t[bn + s][2] for s in (".weight", ".bias", ".running_mean", ".running_var"))
    cout, per = wshape[0], len(w) // wshape[0]
    scale = [g[o] / math.sqrt(v[o] + eps) for o in range(cout)]
    weight = [w[o * per + i] * scale[o] for o in range(cout) for i in range(per)]
    bias = [b[o] - m[o] * scale[o] for o in range(cout)]
    return wshape, weight, bias


def fuse(t):
    out = {}
    keys = list(t)
    skip = set()
    for key in keys:
        if key in skip:
            continue
        if key.endswith(".conv.conv.weight") and key.replace(".conv.conv.weight", ".conv1.conv.weight") in t:
            p = key[: -len(".conv.conv.weight")]  # RepVGGDW
            s7, w7, b7 = fold(t, p + ".conv.conv.weight", p + ".conv.bn")
            s3, w3, b3 = fold(t, p + ".conv1.conv.weight", p + ".conv1.bn")
            c = s7[0]
            for o in range(c):
                for y in range(3):
                    for x in range(3):
                        w7[o * 49 + (y + 2) * 7 + (x + 2)] += w3[o * 9 + y * 3 + x]
            out[p + ".conv.weight"] = ("F32", s7, w7)
            out[p + ".conv.bias"] = ("F32", [c], [b7[o] + b3[o] for o in range(c)])
            skip.update(k for k in keys if k.startswith(p + ".conv.") or k.startswith(p + ".conv1."))
        elif key.endswith(".conv.weight") and key.replace(".conv.weight", ".bn.weight") in t:
            p = key[: -len(".conv.weight")]
            shape, w, b = fold(t, key, p + ".bn")
            out[key] = ("F32", shape, w)
            out[p + ".conv.bias"] = ("F32", [shape[0]], b)
            skip.update(k for k in keys if k.startswith(p + ".bn."))
        else:
            out[key] = t[key]
    return out


def main():
    src, dst, op = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else None
    t = read(src)
    if op == "drop":
        del t[arg]
    elif op == "reshape":
        d, s, v = t[arg]
        t[arg] = (d, [s[0], s[1] * s[2] * s[3]] if len(s) == 4 else [s[0] // 2, 2], v)
    elif op == "add":
        t[arg] = ("F32", [2], [0.0, 1.0])
    elif op == "set":
        key, value = arg.split("=")
        d, s, v = t[key]
        t[key] = (d, s, [float(value)] * len(v))
    elif op == "prefix":
        t = {"model." + k: v for k, v in t.items()}
    elif op == "fuse":
        t = fuse(t)
    elif op in ("f16", "bf16"):
        write(dst, t, lambda k, d: op.upper())
        return
    elif op in ("round-f16", "round-bf16"):
        dtype = op.split("-")[1].upper()
        t = {k: (d, s, [round_to(dtype, x) for x in v] if d == "F32" else v)
             for k, (d, s, v) in t.items()}
    write(dst, t)
    if op in ("truncate", "bad-json", "overlap", "past-end", "int32"):
        data = bytearray(open(dst, "rb").read())
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        if op == "truncate":
            data = data[:8] + data[8:8 + n // 2]
        elif op == "bad-json":
            data[8 + n // 2] = 1  # a control character is never valid JSON here
        else:
            first = next(iter(header))
            if op == "overlap":
                second = list(header)[1]
                header[second]["data_offsets"] = [0, header[second]["data_offsets"][1] - header[second]["data_offsets"][0]]
            elif op == "past-end":
                b, e = header[first]["data_offsets"]
                header[first]["data_offsets"] = [b + 10**9, e + 10**9]
            else:
                header[first]["dtype"] = "I32"
            text = json.dumps(header).encode()
            data = struct.pack("<Q", len(text)) + text + data[8 + n:]
        open(dst, "wb").write(bytes(data))


if __name__ == "__main__":
    main()
