#!/usr/bin/env python3
"""make_input.py OUT.npy B C H W [SEED]: a float32 [B, C, H, W] .npy of
deterministic pseudo-random values in [0, 1) (stdlib only)."""
import random
import struct
import sys
from array import array

out, b, c, h, w = sys.argv[1], *map(int, sys.argv[2:6])
rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 0)
values = array("f", (rng.random() for _ in range(b * c * h * w)))
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d, %d), }" % (b, c, h, w)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(values.tobytes())
