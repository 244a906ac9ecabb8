#!/usr/bin/env python3
"""Compares two Ultralytics save_txt(save_conf=True) label files.

usage: compare-labels.py EXPECTED.txt ACTUAL.txt [--conf-tol T] [--min-iou I]
                         [--conf-outliers F]

Each line is `class cx cy w h conf` (normalised). The files match when they
have the same number of detections and every expected detection has its own
actual detection (matched greedily, best IoU first) of the same class, with
|conf difference| <= T and IoU >= I (IoU is the same on normalised and pixel
boxes). With --conf-outliers F, up to a fraction F of the expected
detections may match on class and IoU alone (their conf beyond T): the
fp32 noise floor of an ill-conditioned model, as irmb-npy-compare's
--scores-max-fraction. A missing file counts as empty, as Ultralytics writes
no file for an image without detections. Prints one summary line and exits
0 or 1.
"""
import os
import sys


def read(path):
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) != 6:
                sys.exit(f"{path}:{n}: expected 6 numbers, got {line!r}")
            c, cx, cy, w, h, conf = (float(p) for p in parts)
            rows.append((int(c), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, conf))
    return rows


def iou(a, b):
    w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    h = max(0.0, min(a[4], b[4]) - max(a[2], b[2]))
    inter = w * h
    union = (a[3] - a[1]) * (a[4] - a[2]) + (b[3] - b[1]) * (b[4] - b[2]) - inter
    return inter / union if union > 0 else 0.0


def main():
    args = sys.argv[1:]
    conf_tol, min_iou, outlier_fraction = 2e-4, 0.98, 0.0
    if "--conf-outliers" in args:
        i = args.index("--conf-outliers")
        outlier_fraction = float(args[i + 1])
        del args[i:i + 2]
    if "--conf-tol" in args:
        i = args.index("--conf-tol")
        conf_tol = float(args[i + 1])
        del args[i:i + 2]
    if "--min-iou" in args:
        i = args.index("--min-iou")
        min_iou = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    expected, actual = read(args[0]), read(args[1])
    pairs = sorted(((iou(e, a), i, j) for i, e in enumerate(expected)
                    for j, a in enumerate(actual) if e[0] == a[0]), reverse=True)
    used_e, used_a, worst_iou, worst_conf = set(), set(), 1.0, 0.0
    for o, i, j in pairs:
        if i in used_e or j in used_a or o < min_iou:
            continue
        d = abs(expected[i][5] - actual[j][5])
        if d > conf_tol:
            continue
        used_e.add(i)
        used_a.add(j)
        worst_iou, worst_conf = min(worst_iou, o), max(worst_conf, d)
    # Then, where allowed, the rest on class and IoU alone.
    allowed = int(outlier_fraction * len(expected))
    outliers, worst_outlier = 0, 0.0
    for o, i, j in pairs:
        if outliers >= allowed:
            break
        if i in used_e or j in used_a or o < min_iou:
            continue
        used_e.add(i)
        used_a.add(j)
        outliers += 1
        worst_outlier = max(worst_outlier, abs(expected[i][5] - actual[j][5]))
        worst_iou = min(worst_iou, o)
    unmatched = len(expected) - len(used_e)
    ok = len(expected) == len(actual) and unmatched == 0
    beyond = (f", {outliers} of at most {allowed} beyond the conf tolerance "
              f"(up to {worst_outlier:.2e})" if outlier_fraction > 0 else "")
    print(f"{'PASS' if ok else 'FAIL'}: {len(expected)} expected, {len(actual)} actual, "
          f"{unmatched} unmatched (class, |conf diff| <= {conf_tol:g}, IoU >= {min_iou:g}); "
          f"matched: min IoU {worst_iou:.4f}, max |conf diff| {worst_conf:.2e}{beyond}")
    if not ok:
        for i, e in enumerate(expected):
            if i not in used_e:
                print(f"  unmatched expected: {e}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
