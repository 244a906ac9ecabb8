#!/usr/bin/env python3
"""Writes the weights of an Ultralytics .pt checkpoint as safetensors for irmb.

usage: python3 tools/export_weights.py best.pt best.safetensors

Needs torch and the code base that trained the model (ultralytics, or the fork
with iRMB / iEMA): a .pt file pickles the whole model. The EMA weights are
taken when present (as Ultralytics does), cast to float32; BatchNorm
num_batches_tracked stays int64 (irmb ignores it). Keys stay the model's
state_dict keys (model.<i>....), fused or not.
"""
import json
import struct
import sys


def state_dict_from_checkpoint(path):
    """The float32 state_dict of a .pt checkpoint (EMA weights first)."""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch < 1.13 has no weights_only
        ckpt = torch.load(path, map_location="cpu")
    model = ckpt.get("ema") or ckpt.get("model") if isinstance(ckpt, dict) else ckpt
    if model is None:
        raise SystemExit(f"error: {path}: no 'ema' or 'model' entry in the checkpoint")
    if hasattr(model, "state_dict"):
        return model.float().state_dict()
    return model  # already a state_dict


def tensor_record(tensor):
    """(dtype, shape, little-endian bytes) of a torch tensor for safetensors."""
    import torch

    t = tensor.detach().cpu().contiguous()
    if t.is_floating_point():
        return "F32", list(t.shape), t.to(torch.float32).numpy().tobytes()
    if t.dtype == torch.int64:
        return "I64", list(t.shape), t.numpy().tobytes()
    raise SystemExit(f"error: unsupported tensor dtype {t.dtype}")


def write_safetensors(records, path):
    """Writes {key: (dtype, shape, bytes)} as a safetensors file, atomically."""
    header, blobs, offset = {}, [], 0
    for key, (dtype, shape, data) in records.items():
        header[key] = {"dtype": dtype, "shape": list(shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    import os
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    state = state_dict_from_checkpoint(argv[1])
    write_safetensors({k: tensor_record(v) for k, v in state.items()}, argv[2])
    print(f"wrote {len(state)} tensors to {argv[2]}")


if __name__ == "__main__":
    main(sys.argv)
