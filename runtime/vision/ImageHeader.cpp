//===- ImageHeader.cpp - image dimensions from the file header ------------===//
//
// JPEG: every start-of-frame marker (C0-CF except DHT C4, JPG C8, DAC CC)
// in the file, whose payload holds precision, height, width; the largest
// counts. PNG: the signature, then IHDR's width and height. Every read is
// bounds-checked. decodeImage accepts JPEG and PNG only, checks that size,
// then decodes with OpenCV.
//
//===----------------------------------------------------------------------===//
#include "runtime/vision/ImageHeader.h"

#include <cstring>
#include <opencv2/imgcodecs.hpp>

namespace irmb::vision {

namespace {
/// The first bytes of every PNG file.
constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
} // namespace

bool declaredImageSize(const uint8_t *d, size_t n, int64_t &width,
                       int64_t &height, int64_t &pixelsPerByte) {
  auto be16 = [&](size_t at) { return (d[at] << 8) | d[at + 1]; };
  auto be32 = [&](size_t at) {
    return (int64_t(d[at]) << 24) | (d[at + 1] << 16) | (d[at + 2] << 8) |
           d[at + 3];
  };
  if (n >= 24 && std::memcmp(d, kPng, 8) == 0 &&
      std::memcmp(d + 12, "IHDR", 4) == 0) {
    width = be32(16);
    height = be32(20);
    pixelsPerByte = 8256;
    return true;
  }
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
    return false;
  // Every start-of-frame marker anywhere in the file, not just where a
  // strict marker walk would find one: decoders resynchronise on garbage
  // and fill bytes, and in entropy-coded data an 0xFF is always followed by
  // 0x00 or a restart marker, so FF Cx can only be a real marker. The
  // largest frame declared is the one that counts.
  bool found = false;
  for (size_t at = 2; at + 9 <= n; ++at) {
    if (d[at] != 0xFF)
      continue;
    uint8_t marker = d[at + 1];
    bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                 marker != 0xC8 && marker != 0xCC;
    if (!frame)
      continue;
    int64_t h = be16(at + 5), w = be16(at + 7);
    // C9-CB and CD-CF: arithmetic coding.
    bool arithmetic = marker >= 0xC9 && marker != 0xCC;
    if (!found || w * h > width * height) {
      width = w;
      height = h;
      pixelsPerByte = arithmetic ? 0 : 512;
    }
    found = true;
  }
  return found;
}

bool decodeImage(const std::vector<uint8_t> &bytes, cv::Mat &image,
                 std::string &error) {
  // Only JPEG and PNG reach OpenCV: it picks a decoder by signature, and
  // the others are not bounded here (their declared sizes are not read)
  // nor hardened (a 133-byte file with "DICM" at offset 128 reached GDCM,
  // whose reader asserts, aborting the process). A file with one of these
  // two signatures goes to that format's decoder, which OpenCV tries
  // before the others.
  const bool jpeg = bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 &&
                    bytes[2] == 0xFF;
  const bool png =
      bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0;
  if (!jpeg && !png) {
    error = "not a JPEG or PNG file (the only image formats irmb reads)";
    return false;
  }
  // Every JPEG has a frame header and every PNG an IHDR: one that declares
  // no size is damaged, and never reaches the decoder unbounded.
  int64_t w = 0, h = 0, perByte = 0;
  if (!declaredImageSize(bytes.data(), bytes.size(), w, h, perByte)) {
    error = std::string("the ") + (jpeg ? "JPEG" : "PNG") +
            " file declares no image size (truncated or damaged)";
    return false;
  }
  if (w < 1 || h < 1 || h > kMaxImagePixels / w) {
    error = "the image declares " + std::to_string(w) + "x" +
            std::to_string(h) + " pixels (at most " +
            std::to_string(kMaxImagePixels) + ")";
    return false;
  }
  int64_t bound =
      2 * perByte * static_cast<int64_t>(bytes.size()) + kMinBoundPixels;
  if (perByte > 0 && w * h > bound) {
    error = "the image declares " + std::to_string(w) + "x" +
            std::to_string(h) + " pixels, more than its " +
            std::to_string(bytes.size()) +
            " bytes can encode (the file is truncated or damaged)";
    return false;
  }
  try {
    image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } catch (const cv::Exception &e) {
    error = "cannot decode the image (" + e.msg + ")";
    return false;
  }
  if (image.empty()) {
    error = "OpenCV decoded no image (damaged, or a variant it does not "
            "decode)";
    return false;
  }
  if (image.type() != CV_8UC3 ||
      static_cast<int64_t>(image.rows) * image.cols > kMaxImagePixels) {
    error = "decoded to an unexpected pixel type or size";
    return false;
  }
  return true;
}

} // namespace irmb::vision
