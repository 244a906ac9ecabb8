//===- FuzzImage.cpp - fuzz the image decoding path -----------------------===//
//
// Any byte string as an image file through what irmb_predict_files does
// with it before the model: the declared-size check, OpenCV's decoder
// (IMREAD_COLOR, EXIF applied), the type and size checks, then LetterBox
// into a 64 x 96 input.
//
//===----------------------------------------------------------------------===//
#include "fuzz/FuzzTarget.h"
#include "runtime/vision/ImageHeader.h"
#include "runtime/vision/Letterbox.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
  }();
  (void)quiet;
  // The header check irmb_predict_files makes before decoding.
  int64_t w = 0, h = 0;
  if (irmb::vision::declaredImageSize(data, size, w, h) &&
      (w < 1 || h < 1 || h > (int64_t(1) << 27) / w))
    return 0;
  std::vector<uint8_t> bytes(data, data + size);
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } catch (const cv::Exception &) {
    return 0;
  }
  // The checks irmb_predict_files makes before letterboxing.
  if (image.empty() || image.type() != CV_8UC3 ||
      static_cast<int64_t>(image.rows) * image.cols > (int64_t(1) << 27))
    return 0;
  std::vector<float> chw(3 * 64 * 96);
  irmb::vision::letterbox(image, 64, 96, chw.data());
  return 0;
}
