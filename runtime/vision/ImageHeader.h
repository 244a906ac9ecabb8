//===- ImageHeader.h - image dimensions from the file header ----*- C++ -*-===//
//
// The width and height a JPEG (largest SOFn marker) or PNG (IHDR) file
// declares, read before decoding, so that a tiny file claiming a gigapixel
// image is refused before the decoder allocates and fills it, and so is a
// file too small to hold the pixels it declares (201 bytes claiming
// 1280 × 63568: half a second of decoding). decodeImage reads JPEG and PNG
// only, refuses one whose size it cannot read, and is the whole path from
// file bytes to a BGR image that irmb_predict_files and the image fuzzer
// share.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_RUNTIME_VISION_IMAGEHEADER_H
#define IRMB_RUNTIME_VISION_IMAGEHEADER_H

#include <cstddef>
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace irmb::vision {

/// True, with the declared size, for a JPEG or PNG header; false when the
/// format is another one or the header is too short to tell.
/// `pixelsPerByte` is the most pixels each byte of such a file can encode
/// (0: no bound): PNG's deflate expands at most 1032:1 and a pixel takes
/// at least one bit (8256); a Huffman-coded JPEG spends at least one bit on
/// every 8×8 block of its first component (512). Arithmetic-coded JPEGs
/// can go below a bit per block and get no bound.
bool declaredImageSize(const uint8_t *data, size_t size, int64_t &width,
                       int64_t &height, int64_t &pixelsPerByte);

/// The most pixels an image may have (declared or decoded).
constexpr int64_t kMaxImagePixels = int64_t(1) << 27;

/// Slack on the pixels-per-byte bound: twice the bound, plus this many
/// pixels for headers that outweigh a tiny image's data.
constexpr int64_t kMinBoundPixels = int64_t(1) << 16;

/// Decodes a JPEG or PNG `bytes` as cv2.imread does (IMREAD_COLOR: EXIF
/// orientation applied, grey and 4-channel files made 3-channel BGR) into a
/// CV_8UC3 `image`, refusing any other format, an unreadable header, and a
/// declared or decoded size above kMaxImagePixels or above what the file's
/// bytes can encode, before the decoder allocates it. On failure returns
/// false and sets `error` (without the file name; irmb_predict_files puts
/// "PATH: cannot read the image: " before it).
bool decodeImage(const std::vector<uint8_t> &bytes, cv::Mat &image,
                 std::string &error);

} // namespace irmb::vision

#endif // IRMB_RUNTIME_VISION_IMAGEHEADER_H
