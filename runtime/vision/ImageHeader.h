//===- ImageHeader.h - image dimensions from the file header ----*- C++ -*-===//
//
// The width and height a JPEG (largest SOFn marker) or PNG (IHDR) file
// declares, read before decoding, so that a tiny file claiming a gigapixel
// image is refused before the decoder allocates and fills it. Other
// formats report "unknown" and rely on OpenCV's own limit.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_RUNTIME_VISION_IMAGEHEADER_H
#define IRMB_RUNTIME_VISION_IMAGEHEADER_H

#include <cstddef>
#include <cstdint>

namespace irmb::vision {

/// True, with the declared size, for a JPEG or PNG header; false when the
/// format is another one or the header is too short to tell.
bool declaredImageSize(const uint8_t *data, size_t size, int64_t &width,
                       int64_t &height);

} // namespace irmb::vision

#endif // IRMB_RUNTIME_VISION_IMAGEHEADER_H
