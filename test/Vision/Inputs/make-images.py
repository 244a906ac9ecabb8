#!/usr/bin/env python3
"""Writes held-out test images with the standard library only.

usage: make-images.py BUS.jpg OUTDIR

OUTDIR gets: grey.png (8-bit grey), rgb.png (the same pixels as 3 equal
channels), rgba.png (the same with an opaque alpha channel), tiny.png
(1x1), wide.png (2000x24), rotated.jpg (BUS.jpg with an EXIF Orientation
of 6, i.e. shown rotated 90 degrees clockwise), flat.png (4000x4000 of one
grey, about 16 KB: far more pixels than bytes, as a real file can have),
and not-an-image.jpg.
"""
import os
import struct
import sys
import zlib


def png(path, width, height, channels, pixel):
    colour = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows)))
        f.write(chunk(b"IEND", b""))


def grey(x, y):
    return (x * 7 + y * 13 + ((x // 16 + y // 16) % 2) * 90) % 256


def with_exif_orientation(jpeg, orientation):
    """Inserts an APP1 Exif segment with one IFD entry (Orientation)."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + \
        struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + segment + jpeg[2:]


def flat_png(path, width, height):
    rows = (b"\x00" + bytes(width)) * height

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    bus, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    w, h = 96, 64
    png(os.path.join(out, "grey.png"), w, h, 1, lambda x, y: (grey(x, y),))
    png(os.path.join(out, "rgb.png"), w, h, 3, lambda x, y: (grey(x, y),) * 3)
    png(os.path.join(out, "rgba.png"), w, h, 4, lambda x, y: (grey(x, y),) * 3 + (255,))
    png(os.path.join(out, "tiny.png"), 1, 1, 3, lambda x, y: (200, 30, 60))
    png(os.path.join(out, "wide.png"), 2000, 24, 3, lambda x, y: (x % 256, y * 10, 128))
    flat_png(os.path.join(out, "flat.png"), 4000, 4000)
    with open(bus, "rb") as f:
        data = f.read()
    with open(os.path.join(out, "rotated.jpg"), "wb") as f:
        f.write(with_exif_orientation(data, 6))
    with open(os.path.join(out, "not-an-image.jpg"), "wb") as f:
        f.write(b"this is not a JPEG\n")


if __name__ == "__main__":
    main()
