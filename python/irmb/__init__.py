"""irmb: run models compiled by irmb-compile from Python.

    import irmb
    model = irmb.Model("best.so")              # threads=None: all cores
    model.info                                 # shapes, classes, names, target
    raw = model.run(x)                         # float32 [B, 3, H, W] -> [B, 4 + nc, A]
    results = model.predict("bus.jpg", conf=0.25, iou=0.7, max_det=300)
    results[0].boxes.xyxy, results[0].boxes.conf, results[0].boxes.cls

`predict` takes a path, a list of paths, or BGR uint8 arrays [H, W, 3] (as
cv2.imread returns them), and does what Ultralytics' predict does for a
fixed-size model: LetterBox, the model, v10 top-k or NMS, scale_boxes.
Results hold numpy arrays shaped like Ultralytics' Results.boxes tensors.
"""
import os

import numpy as np

from ._irmb import _Model

__all__ = ["Model", "Results", "Boxes"]


class Boxes:
    """The detections of one image: `data` [n, 6] = x1, y1, x2, y2, conf, cls
    in original-image pixels, best first."""

    def __init__(self, data, orig_shape):
        self.data = data
        self.orig_shape = orig_shape

    @property
    def xyxy(self):
        return self.data[:, :4]

    @property
    def conf(self):
        return self.data[:, 4]

    @property
    def cls(self):
        return self.data[:, 5]

    @property
    def xywh(self):
        x = self.xyxy
        return np.stack([(x[:, 0] + x[:, 2]) / 2, (x[:, 1] + x[:, 3]) / 2,
                         x[:, 2] - x[:, 0], x[:, 3] - x[:, 1]], axis=1).astype(np.float32)

    @property
    def xywhn(self):
        h, w = self.orig_shape
        return self.xywh / np.array([w, h, w, h], dtype=np.float32)

    def __len__(self):
        return self.data.shape[0]

    def __repr__(self):
        return f"irmb.Boxes({len(self)} detections, orig_shape={self.orig_shape})"


class Results:
    """One image's prediction: `boxes`, `orig_shape` (h, w), `path` (None for
    arrays) and the model's class `names`."""

    def __init__(self, data, orig_shape, path, names):
        self.boxes = Boxes(data, orig_shape)
        self.orig_shape = orig_shape
        self.path = path
        self.names = names

    def __len__(self):
        return len(self.boxes)

    def __repr__(self):
        return f"irmb.Results({self.path!r}, {len(self)} detections)"


class Model:
    """A compiled model (.so from irmb-compile)."""

    def __init__(self, path, threads=None):
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model file")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        self._model = _Model(path, threads)
        self.info = self._model.describe()
        self.names = self.info["names"]

    def run(self, x):
        """Raw predictions [B, 4 + nc, A] of a float32 input [B, 3, H, W]
        (RGB in [0, 1], Ultralytics preprocessing applied)."""
        x = np.asarray(x)
        if x.dtype != np.float32:
            if not np.issubdtype(x.dtype, np.number):
                raise ValueError(f"run() takes a float32 array, got dtype {x.dtype}")
            x = x.astype(np.float32)
        return self._model.run(x)

    def predict(self, source, conf=0.25, iou=0.7, max_det=300):
        """Detections for `source`: a path, a list of paths, a BGR uint8 array
        [H, W, 3] or a list of them. Returns one Results per image."""
        if isinstance(source, (str, os.PathLike, np.ndarray)):
            source = [source]
        source = list(source)
        if not source:
            raise ValueError("predict() needs at least one image")
        paths = [s for s in source if isinstance(s, (str, os.PathLike))]
        if len(paths) == len(source):
            paths = [os.fspath(p) for p in paths]
            for p in paths:
                if not os.path.exists(p):
                    raise FileNotFoundError(f"{p}: no such image file")
            raw = self._model.predict_files(paths, float(conf), float(iou), int(max_det))
        elif not paths:
            arrays = [np.ascontiguousarray(a) for a in source]
            raw = self._model.predict_arrays(arrays, float(conf), float(iou), int(max_det))
            paths = [None] * len(source)
        else:
            raise ValueError("predict() takes paths or arrays, not a mix")
        return [Results(rows, (h, w), p, self.names) for (h, w, rows), p in zip(raw, paths)]

    def __repr__(self):
        i = self.info
        return (f"irmb.Model({i['source']!r}, {i['target']}, input {i['input_shape']}, "
                f"{i['num_classes']} classes, {i['head']})")
