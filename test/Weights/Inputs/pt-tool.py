#!/usr/bin/env python3
"""Test helper: reads and writes PyTorch `.pt` checkpoints without torch.

The shared checkpoints are trusted test data, so this reads them with
Python's own pickle module, mapping every class onto stand-in classes that
pickle back under their original names, and tensors onto FakeTensor views
of raw storage bytes. That gives an independent reader to check irmb's
against, and a writer of realistic variants (protocol 4 as torch 2.x
writes, other dtypes, strided and offset views, a bare state_dict) and of
broken or hostile files, each written as torch.save lays out its archive.

usage: pt-tool.py export IN.pt OUT.yaml OUT.safetensors
       pt-tool.py variant IN.pt OUT.pt NAME     (NAME: see VARIANTS)
       pt-tool.py hostile OUT.pt NAME           (NAME: see HOSTILE)
"""
import collections
import io
import json
import pickle
import struct
import sys
import types
import zipfile

# ---- stand-ins for the classes a checkpoint names -------------------------
_modules = {}


def _module(name):
    """A fake module registered in sys.modules so pickle can save by name."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):  # parents too, for pickle's __import__
        n = ".".join(parts[:i])
        if n not in _modules:
            _modules[n] = types.ModuleType(n)
            sys.modules.setdefault(n, _modules[n])
    return sys.modules[name]


class Placeholder:
    """An instance of a class we do not have: keeps its state."""

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {"__state__": state})


def _class(module, name):
    m = _module(module)
    if not hasattr(m, name):
        cls = type(name, (Placeholder,), {"__module__": module, "__qualname__": name})
        setattr(m, name, cls)
    return getattr(m, name)


STORAGE_BYTES = {"HalfStorage": 2, "BFloat16Storage": 2, "FloatStorage": 4, "DoubleStorage": 8,
                 "LongStorage": 8, "IntStorage": 4, "ByteStorage": 1, "BoolStorage": 1}


class Storage:
    def __init__(self, kind, key, numel, data):
        self.kind, self.key, self.numel, self.data = kind, key, numel, data


class FakeTensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)
        self.parameter = parameter

    def __reduce_ex__(self, protocol):
        rebuild = _module("torch._utils")
        plain = (rebuild._rebuild_tensor_v2,
                 (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))
        if not self.parameter:
            return plain
        inner = FakeTensor(self.storage, self.offset, self.size, self.stride)
        return (rebuild._rebuild_parameter, (inner, True, collections.OrderedDict()))

    def values(self):
        """The view's elements in row-major order, as floats (or ints)."""
        fmt = {"HalfStorage": "e", "FloatStorage": "f", "DoubleStorage": "d", "LongStorage": "q"}
        if self.storage.kind == "BFloat16Storage":
            raw = struct.unpack("<%dH" % self.storage.numel, self.storage.data[:2 * self.storage.numel])
            flat = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in raw]
        else:
            f = fmt[self.storage.kind]
            flat = struct.unpack("<%d%s" % (self.storage.numel, f),
                                 self.storage.data[:self.storage.numel * struct.calcsize(f)])
        out = []

        def walk(d, at):
            if d == len(self.size):
                out.append(flat[at])
                return
            for i in range(self.size[d]):
                walk(d + 1, at + i * self.stride[d])
        walk(0, self.offset)
        return out


def _rebuild_tensor_v2(storage, offset, size, stride, *rest):
    return FakeTensor(storage, offset, size, stride)


def _rebuild_parameter(tensor, *rest):
    tensor.parameter = True
    return tensor


_utils = _module("torch._utils")
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
_utils._rebuild_parameter = _rebuild_parameter
_rebuild_tensor_v2.__module__ = _rebuild_parameter.__module__ = "torch._utils"
for kind in STORAGE_BYTES:
    _class("torch", kind)


def load(path):
    """(archive prefix, root object, {key: Storage}) of a .pt file."""
    z = zipfile.ZipFile(path)
    prefix = z.namelist()[0].split("/")[0]
    storages = {}

    class Reader(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "collections" and name == "OrderedDict":
                return collections.OrderedDict
            if (module, name) in (("builtins", "set"), ("__builtin__", "set")):
                return set
            if module == "dill._dill" and name == "_load_type":
                return lambda n: {"set": set, "list": list, "dict": dict}[n]
            if module == "torch._utils":
                return getattr(_utils, name)
            if module == "torch" and name == "Size":
                return tuple
            return _class(module, name)

        def persistent_load(self, pid):
            _, cls, key, _, numel = pid
            if key not in storages:
                storages[key] = Storage(cls.__name__, key, numel, z.read(f"{prefix}/data/{key}"))
            return storages[key]

    return prefix, Reader(io.BytesIO(z.read(f"{prefix}/data.pkl"))).load(), storages


def save(path, prefix, root, storages=None, protocol=2):
    """Writes `root` as torch.save does: data.pkl, data/<key>, version."""
    seen = {}

    class Writer(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                seen[obj.key] = obj
                return ("storage", getattr(_module("torch"), obj.kind), obj.key, "cpu", obj.numel)
            return None

    buf = io.BytesIO()
    Writer(buf, protocol=protocol).dump(root)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", buf.getvalue())
        for key in sorted(seen, key=lambda k: int(k) if k.isdigit() else 0):
            z.writestr(f"{prefix}/data/{key}", seen[key].data)
        z.writestr(f"{prefix}/version", "3\n")


def state_dict(module, prefix=""):
    """Module.state_dict() keys -> FakeTensor, in Module order."""
    out = collections.OrderedDict()
    skip = module.__dict__.get("_non_persistent_buffers_set", set())
    for k, v in module._parameters.items():
        if v is not None:
            out[prefix + k] = v
    for k, v in module._buffers.items():
        if v is not None and k not in skip:
            out[prefix + k] = v
    for k, v in module._modules.items():
        if v is not None:
            out.update(state_dict(v, prefix + k + "."))
    return out


def export(pt, yaml_path, st_path):
    """The stored model YAML (as JSON, which is YAML) and the state_dict in
    float32 safetensors, for comparing irmb's reader with this one."""
    _, root, _ = load(pt)
    model = root.get("ema") or root["model"]
    with open(yaml_path, "w") as f:
        json.dump(model.yaml, f)
    header, blob = {}, b""
    for key, t in state_dict(model).items():
        if t.storage.kind == "LongStorage":
            data, dtype = struct.pack("<%dq" % len(t.values()), *t.values()), "I64"
        else:
            data, dtype = struct.pack("<%df" % len(t.values()), *t.values()), "F32"
        header[key] = {"dtype": dtype, "shape": list(t.size), "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(st_path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


# ---- variants that must load and compute the same --------------------------
def _to_kind(t, kind, storages):
    """A contiguous copy of `t` in storage type `kind` (a new storage key)."""
    vals = t.values()
    if kind == "FloatStorage":
        data = struct.pack("<%df" % len(vals), *vals)
    elif kind == "DoubleStorage":
        data = struct.pack("<%dd" % len(vals), *vals)
    elif kind == "BFloat16Storage":  # exact: the values are fp16, so bf16 rounds them
        data = b"".join(struct.pack("<H", struct.unpack("<I", struct.pack("<f", v))[0] >> 16) for v in vals)
    else:
        raise SystemExit(kind)
    key = str(len(storages) + 1000)
    storages[key] = Storage(kind, key, len(vals), data)
    stride, acc = [], 1
    for s in reversed(t.size):
        stride.insert(0, acc)
        acc *= s
    return FakeTensor(storages[key], 0, t.size, stride, t.parameter)


def _strided(t, storages):
    """The same values as a transposed view with a storage offset, sharing
    one storage with a leading pad (exercises offset and stride)."""
    vals = t.values()
    if len(t.size) != 4:
        return t
    o, i, kh, kw = t.size
    pad = 7
    # Store as [i, o, kh, kw] contiguous after `pad` junk elements.
    flat = [0.0] * pad
    for ii in range(i):
        for oo in range(o):
            for y in range(kh):
                for x in range(kw):
                    flat.append(vals[((oo * i + ii) * kh + y) * kw + x])
    key = str(len(storages) + 2000)
    storages[key] = Storage("FloatStorage", key, len(flat), struct.pack("<%df" % len(flat), *flat))
    return FakeTensor(storages[key], pad, (o, i, kh, kw), (kh * kw, o * kh * kw, kw, 1), t.parameter)


def _map_tensors(module, fn):
    for d in (module._parameters, module._buffers):
        for k, v in list(d.items()):
            if isinstance(v, FakeTensor):
                d[k] = fn(k, v)
    for v in module._modules.values():
        if v is not None:
            _map_tensors(v, fn)


def variant(pt, out, name):
    prefix, root, storages = load(pt)
    model = root["model"]
    if name == "protocol4":  # torch 2.x: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL
        save(out, prefix, root, protocol=4)
    elif name in ("fp32", "bf16", "fp64"):
        kind = {"fp32": "FloatStorage", "bf16": "BFloat16Storage", "fp64": "DoubleStorage"}[name]
        _map_tensors(model, lambda k, t: _to_kind(t, kind, storages) if t.storage.kind == "HalfStorage" else t)
        save(out, prefix, root)
    elif name == "strided":
        _map_tensors(model, lambda k, t: _strided(t, storages) if t.storage.kind == "HalfStorage" else t)
        save(out, prefix, root)
    elif name == "state-dict":  # torch.save(model.state_dict())
        save(out, prefix, state_dict(model))
    elif name == "ema":  # an EMA to prefer: 'model' is then a different (broken) model
        root["ema"] = model
        root["model"] = _class("ultralytics.nn.tasks", "DetectionModel")()
        save(out, prefix, root)
    else:
        raise SystemExit(f"unknown variant {name}")


# ---- broken and hostile files ---------------------------------------------
class Reduce:
    """Pickles as GLOBAL module.name + args + REDUCE."""

    def __init__(self, module, name, args):
        self.module, self.name, self.args = module, name, args

    def __reduce__(self):
        m = _module(self.module)
        fn = getattr(m, self.name, None)
        if fn is None:
            fn = types.FunctionType((lambda: None).__code__, {}, self.name)
            fn.__module__, fn.__qualname__ = self.module, self.name
            setattr(m, self.name, fn)
        return (fn, self.args)


def hostile(pt, out, name):
    prefix, root, storages = load(pt)
    model = root["model"]
    first_param = None

    def first(m):
        nonlocal first_param
        for v in m._parameters.values():
            if isinstance(v, FakeTensor) and first_param is None:
                first_param = (m, v)
        for v in m._modules.values():
            if v is not None:
                first(v)
    first(model)
    module, tensor = first_param
    if name == "system":  # posix.system in a REDUCE, where a dict value should be
        root["train_args"] = Reduce("posix", "system", ("touch %s.pwned" % out,))
        save(out, prefix, root)
    elif name == "eval":
        root["date"] = Reduce("builtins", "eval", ("__import__('os').system('true')",))
        save(out, prefix, root)
    elif name == "numel":  # storage claims more elements than its member holds
        tensor.storage.numel *= 2
        save(out, prefix, root)
    elif name == "offset":  # view reaches past its storage
        tensor.offset = tensor.storage.numel
        save(out, prefix, root)
    elif name == "stride":  # stride walks past the storage
        tensor.stride = tuple(s * 1000 for s in tensor.stride)
        save(out, prefix, root)
    elif name == "nesting":  # modules nested far deeper than any model
        leaf = model
        for i in range(200):
            child = _class("torch.nn.modules.container", "Sequential")()
            child.__dict__.update(_parameters=collections.OrderedDict(), _buffers=collections.OrderedDict(),
                                  _modules=collections.OrderedDict())
            leaf._modules["deep"] = child
            leaf = child
        save(out, prefix, root)
    elif name == "shared-modules":  # 2^40 paths through 40 shared modules
        leaf = _class("torch.nn.modules.container", "Sequential")()
        leaf.__dict__.update(_parameters=collections.OrderedDict(), _buffers=collections.OrderedDict(),
                             _modules=collections.OrderedDict())
        for i in range(40):
            up = _class("torch.nn.modules.container", "Sequential")()
            up.__dict__.update(_parameters=collections.OrderedDict(), _buffers=collections.OrderedDict(),
                               _modules=collections.OrderedDict(a=leaf, b=leaf))
            leaf = up
        model._modules["shared"] = leaf
        save(out, prefix, root)
    elif name == "stride-overflow":  # (size - 1) * stride wraps to 0 in 64 bits
        tensor.size, tensor.stride, tensor.offset = (2 ** 24 + 1,), (2 ** 40,), 0
        save(out, prefix, root)
    elif name == "yaml-bomb":  # a memo-shared list nested in itself: 1000^4 items
        bomb = [1] * 1000
        for _ in range(3):
            bomb = [bomb] * 1000
        model.yaml["extra"] = bomb
        save(out, prefix, root)
    elif name in ("truncated", "crc", "compressed", "no-pickle", "stack"):
        save(out, prefix, root)
        data = open(out, "rb").read()
        if name == "truncated":
            data = data[: len(data) // 2]
        elif name == "crc":
            at = data.index(b"PK\x03\x04", 100)  # second member's local header
            name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
            body = at + 30 + name_len + extra_len
            data = data[:body] + bytes([data[body] ^ 0xFF]) + data[body + 1:]
        elif name == "compressed":
            z = zipfile.ZipFile(io.BytesIO(data))
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as w:
                for n in z.namelist():
                    w.writestr(n, z.read(n))
            data = buf.getvalue()
        elif name == "no-pickle":
            z = zipfile.ZipFile(io.BytesIO(data))
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as w:
                for n in z.namelist():
                    if not n.endswith("data.pkl"):
                        w.writestr(n, z.read(n))
            data = buf.getvalue()
        elif name == "stack":  # a pickle that only pushes MARKs: 4 MB of them
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as w:
                w.writestr(f"{prefix}/data.pkl", b"\x80\x02" + b"(" * (4 << 20) + b".")
            data = buf.getvalue()
        open(out, "wb").write(data)
    else:
        raise SystemExit(f"unknown hostile file {name}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "export":
        export(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "variant":
        variant(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "hostile":
        hostile(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
