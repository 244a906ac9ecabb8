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
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
  }();
  (void)quiet;
  // The decoding irmb_predict_files does, then its letterbox.
  std::vector<uint8_t> bytes(data, data + size);
  cv::Mat image;
  std::string error;
  if (!irmb::vision::decodeImage(bytes, image, error))
    return 0;
  std::vector<float> chw(3 * 64 * 96);
  irmb::vision::letterbox(image, 64, 96, chw.data());
  return 0;
}
