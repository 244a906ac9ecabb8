#!/usr/bin/env python3
"""Writes the seed corpora of the irmb fuzz targets (stdlib only).

usage: make-seeds.py SHARED_DIR OUT_DIR

OUT_DIR/<target>/ gets small valid inputs of each format, so the fuzzers
start from files that reach deep into the readers: the shared model YAMLs
and the repository's crafted ones (yaml); a float32 and a float16
checkpoint of fuzz/fuzz-model.yaml, the model FuzzSafeTensors checks
against (safetensors); that checkpoint as a .pt the way torch.save writes
it, with the model YAML and class names, in pickle protocols 2 and 4, and
as a bare state_dict (pt); their data.pkl and the shared checkpoints'
(pickle); float32 / float64 / int64 arrays (npy); the shared photos and
small grey / RGB / RGBA PNGs (image).
"""
import glob
import importlib.util
import os
import shutil
import struct
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pt = load_module(os.path.join(ROOT, "test", "Weights", "Inputs", "pt-tool.py"), "pt_tool")
images = load_module(os.path.join(ROOT, "test", "Vision", "Inputs", "make-images.py"), "make_images")


def entries():
    """(key, dtype, shape) of fuzz-model.yaml, from fuzz-model.state-dict."""
    out = []
    for line in open(os.path.join(HERE, "fuzz-model.state-dict")):
        key, dtype, shape = line.split(" ", 2)
        dims = [int(d) for d in shape.strip()[1:-1].split(",") if d.strip()]
        out.append((key, dtype, dims))
    return out


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def value(key, i):
    if key.endswith("running_var"):
        return 1.0
    return ((i * 37 + len(key)) % 17 - 8) / 16.0


def safetensors(path, half):
    header, blob = {}, b""
    for key, dtype, shape in entries():
        n = numel(shape)
        if dtype == "int64":
            data, st = struct.pack("<%dq" % n, *([0] * n)), "I64"
        elif half:
            data, st = struct.pack("<%de" % n, *(value(key, i) for i in range(n))), "F16"
        else:
            data, st = struct.pack("<%df" % n, *(value(key, i) for i in range(n))), "F32"
        header[key] = {"dtype": st, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    import json
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


def module_tree():
    """A DetectionModel-like object tree holding the fuzz model's tensors."""
    import collections
    Module = pt._class("torch.nn.modules.container", "Sequential")
    Model = pt._class("ultralytics.nn.tasks", "DetectionModel")

    def empty(cls):
        m = cls()
        m.__dict__.update(training=False, _parameters=collections.OrderedDict(),
                          _buffers=collections.OrderedDict(), _modules=collections.OrderedDict(),
                          _non_persistent_buffers_set=set())
        return m
    root = empty(Model)
    storages = 0
    for key, dtype, shape in entries():
        parts = key.split(".")
        node = root
        for p in parts[:-1]:
            node = node._modules.setdefault(p, empty(Module))
        n = max(numel(shape), 1)
        if dtype == "int64":
            st = pt.Storage("LongStorage", str(storages), n, struct.pack("<%dq" % n, *([0] * n)))
        else:
            st = pt.Storage("HalfStorage", str(storages), n,
                            struct.pack("<%de" % n, *(value(key, i) for i in range(n))))
        storages += 1
        stride, acc = [], 1
        for s in reversed(shape):
            stride.insert(0, acc)
            acc *= s
        t = pt.FakeTensor(st, 0, shape, stride, parameter=dtype != "int64" and "running" not in key)
        (node._buffers if "running" in parts[-1] or "num_batches" in parts[-1] else node._parameters)[parts[-1]] = t
    root.yaml = {"nc": 2, "backbone": [[-1, 1, "Conv", [8, 3, 2]], [-1, 1, "C2f", [8, True]]],
                 "head": [[-1, 1, "Conv", [8, 3, 2]]], "scale": "", "yaml_file": "fuzz-model.yaml", "ch": 3}
    root.names = {0: "crack", 1: "pothole"}
    args = pt._class("ultralytics.utils", "IterableSimpleNamespace")()
    args.__dict__.update(imgsz=64, task="detect")
    root.args = args
    return root


def main():
    shared, out = sys.argv[1], sys.argv[2]
    dirs = {t: os.path.join(out, t) for t in ("yaml", "safetensors", "pt", "pickle", "npy", "image")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(shared, "models", "*.yaml")) + \
            glob.glob(os.path.join(ROOT, "test", "Frontend", "*.yaml")) + \
            glob.glob(os.path.join(ROOT, "test", "Frontend", "errors", "*.yaml")) + \
            [os.path.join(HERE, "fuzz-model.yaml")]:
        shutil.copyfile(f, os.path.join(dirs["yaml"], os.path.basename(f)))
    safetensors(os.path.join(dirs["safetensors"], "fuzz-model-f32.safetensors"), half=False)
    safetensors(os.path.join(dirs["safetensors"], "fuzz-model-f16.safetensors"), half=True)
    tree = module_tree()
    ckpt = {"epoch": -1, "best_fitness": None, "model": tree, "ema": None, "version": "8.3.0"}
    pt.save(os.path.join(dirs["pt"], "fuzz-model.pt"), "fuzz-model", ckpt)
    pt.save(os.path.join(dirs["pt"], "fuzz-model-p4.pt"), "fuzz-model", ckpt, protocol=4)
    pt.save(os.path.join(dirs["pt"], "fuzz-model-state-dict.pt"), "sd", pt.state_dict(tree))
    for name in os.listdir(dirs["pt"]):
        z = zipfile.ZipFile(os.path.join(dirs["pt"], name))
        pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
        open(os.path.join(dirs["pickle"], name + ".data.pkl"), "wb").write(z.read(pkl))
    for name in glob.glob(os.path.join(shared, "checkpoints", "*.pt")):
        z = zipfile.ZipFile(name)
        pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
        open(os.path.join(dirs["pickle"], os.path.basename(name) + ".data.pkl"), "wb").write(z.read(pkl))

    def npy(path, descr, fmt, shape, values):
        h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
            descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
        h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
        with open(path, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
            f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
    npy(os.path.join(dirs["npy"], "f32.npy"), "<f4", "f", (1, 3, 4, 4), [i / 48 for i in range(48)])
    npy(os.path.join(dirs["npy"], "f64.npy"), "<f8", "d", (2, 3), [0.5] * 6)
    npy(os.path.join(dirs["npy"], "i64.npy"), "<i8", "q", (5,), list(range(5)))
    for f in glob.glob(os.path.join(shared, "images", "*.jpg")):
        shutil.copyfile(f, os.path.join(dirs["image"], os.path.basename(f)))
    w, h = 24, 16
    images.png(os.path.join(dirs["image"], "grey.png"), w, h, 1, lambda x, y: (images.grey(x, y),))
    images.png(os.path.join(dirs["image"], "rgb.png"), w, h, 3, lambda x, y: (images.grey(x, y),) * 3)
    images.png(os.path.join(dirs["image"], "rgba.png"), w, h, 4, lambda x, y: (images.grey(x, y),) * 3 + (255,))


if __name__ == "__main__":
    main()
