//===- ImageHeader.cpp - image dimensions from the file header ------------===//
//
// JPEG: markers from SOI on, each FFxx with a big-endian length, until a
// start-of-frame (C0-CF except DHT C4, JPG C8, DAC CC) whose payload holds
// precision, height, width. PNG: the signature, then IHDR's width and
// height. Every read is bounds-checked.
//
//===----------------------------------------------------------------------===//
#include "runtime/vision/ImageHeader.h"

#include <cstring>

namespace irmb::vision {

bool declaredImageSize(const uint8_t *d, size_t n, int64_t &width,
                       int64_t &height) {
  auto be16 = [&](size_t at) { return (d[at] << 8) | d[at + 1]; };
  auto be32 = [&](size_t at) {
    return (int64_t(d[at]) << 24) | (d[at + 1] << 16) | (d[at + 2] << 8) |
           d[at + 3];
  };
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 24 && std::memcmp(d, kPng, 8) == 0 &&
      std::memcmp(d + 12, "IHDR", 4) == 0) {
    width = be32(16);
    height = be32(20);
    return true;
  }
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
    return false;
  size_t at = 2;
  while (at + 4 <= n) {
    if (d[at] != 0xFF) {
      ++at; // entropy-coded data or padding between markers
      continue;
    }
    uint8_t marker = d[at + 1];
    if (marker == 0xFF) {
      ++at; // fill byte
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      at += 2; // markers without a length
      continue;
    }
    size_t length = be16(at + 2);
    bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                 marker != 0xC8 && marker != 0xCC;
    if (frame) {
      if (at + 9 > n || length < 7)
        return false;
      height = be16(at + 5);
      width = be16(at + 7);
      return true;
    }
    at += 2 + length;
  }
  return false;
}

} // namespace irmb::vision
