#!/usr/bin/env python3
"""Exercises the irmb Python module on a compiled model.

usage: check-module.py MODEL.so INPUT.npy RAW.npy IMAGES_DIR

RAW.npy is irmb-run's raw output for INPUT.npy; IMAGES_DIR holds the
make-images.py files. Prints one line per check; any failure raises.
"""
import sys

import numpy as np

import irmb

so, input_npy, raw_npy, images = sys.argv[1:]
model = irmb.Model(so, threads=1)
info = model.info
assert info["input_shape"] == (1, 3, 320, 320), info
assert info["head"] == "Detect" and info["num_classes"] == 2, info
assert model.names == {0: "crack", 1: "pothole"}, model.names
print("info:", info["input_shape"], info["output_shape"], info["head"], model.names)

x = np.load(input_npy)
raw = model.run(x)
assert raw.dtype == np.float32 and raw.shape == tuple(info["output_shape"]), raw.shape
assert np.array_equal(raw, np.load(raw_npy)), "run() differs from irmb-run"
assert np.array_equal(model.run(x.astype(np.float64)), raw)  # converted
print("run: matches irmb-run bit for bit")

rgb = f"{images}/rgb.png"
one = model.predict(rgb, conf=0.0)
assert len(one) == 1 and one[0].orig_shape == (64, 96) and one[0].path == rgb
b = one[0].boxes
assert b.xyxy.shape == (len(b), 4) and b.conf.shape == (len(b),) and b.cls.shape == (len(b),)
assert b.xyxy.dtype == np.float32 and len(b) > 0
assert np.all(np.diff(b.conf) <= 0), "not sorted by score"
assert np.all((b.xywhn >= -1e-6) & (b.xywhn <= 1 + 1e-6))
# The same pixels as a BGR uint8 array (what cv2.imread returns).
yy, xx = np.mgrid[0:64, 0:96]
grey = ((xx * 7 + yy * 13 + ((xx // 16 + yy // 16) % 2) * 90) % 256).astype(np.uint8)
array = np.repeat(grey[:, :, None], 3, axis=2)
same = model.predict(array, conf=0.0)
assert np.array_equal(same[0].boxes.data, b.data), "array and file differ"
many = model.predict([rgb, f"{images}/grey.png", f"{images}/rotated.jpg"], conf=0.0, max_det=5)
assert [r.orig_shape for r in many] == [(64, 96), (64, 96), (810, 1080)]
assert all(len(r) <= 5 for r in many)
assert np.array_equal(many[1].boxes.data[:5], b.data[:5])
print("predict: path, BGR array and list agree;", len(b), "boxes on rgb.png")


def raises(kind, fn, text):
    try:
        fn()
    except kind as e:
        assert text in str(e), f"{kind.__name__}: {e}"
        print(f"{kind.__name__}: {e}")
        return
    raise AssertionError(f"no {kind.__name__} for {text}")


raises(FileNotFoundError, lambda: irmb.Model("/no/such/model.so"), "no such model file")
raises(RuntimeError, lambda: irmb.Model(input_npy), "cannot load the model")
raises(ValueError, lambda: irmb.Model(so, threads=0), "threads must be a positive integer")
raises(ValueError, lambda: model.run(np.zeros((1, 3, 64, 64), np.float32)), "does not match the compiled shape (1, 3, 320, 320)")
raises(ValueError, lambda: model.run(np.array(["a"])), "float32")
raises(FileNotFoundError, lambda: model.predict(f"{images}/missing.jpg"), "no such image file")
raises(ValueError, lambda: model.predict(f"{images}/not-an-image.jpg"), "cannot read the image")
raises(ValueError, lambda: model.predict(np.zeros((4, 4), np.uint8)), "expected a BGR uint8 array [H, W, 3]")
raises(ValueError, lambda: model.predict(np.zeros((4, 4, 3), np.float32)), "expected a BGR uint8 array")
raises(ValueError, lambda: model.predict([]), "at least one image")
raises(ValueError, lambda: model.predict([rgb, array]), "not a mix")
raises(ValueError, lambda: model.predict(rgb, conf=1.5), "conf must be in [0, 1]")
print("OK")
