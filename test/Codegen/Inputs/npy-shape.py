"""Prints `batch height width` of an NCHW .npy file (stdlib only): the
shape the test scripts compile a model for."""
import ast
import sys

data = open(sys.argv[1], "rb").read(256)
header = data[10:10 + int.from_bytes(data[8:10], "little")].decode()
b, c, h, w = ast.literal_eval(header)["shape"]
print(b, h, w)
