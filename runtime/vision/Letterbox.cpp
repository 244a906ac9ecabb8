//===- Letterbox.cpp - Ultralytics' LetterBox and scale_boxes -------------===//
//
// Every expression follows the Python it replaces: doubles where Python
// computes with floats, float32 where PyTorch computes on float tensors,
// std::nearbyint (ties to even under the default rounding mode) for round().
//
//===----------------------------------------------------------------------===//
#include "runtime/vision/Letterbox.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace irmb::vision {

namespace {

/// Python's round() of a double to an int.
int64_t pyRound(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

} // namespace

void letterbox(const cv::Mat &bgr, int64_t height, int64_t width, float *chw) {
  int64_t h = bgr.rows, w = bgr.cols;
  double r = std::min(static_cast<double>(height) / h,
                      static_cast<double>(width) / w);
  // At least one pixel: an image thinner than 1 / r (say 4000 × 1 into
  // 640 × 640) would round to an empty size, which cv::resize refuses (and
  // Ultralytics' cv2.resize raises on); a one-pixel strip still predicts.
  int64_t newW = std::max<int64_t>(1, pyRound(w * r));
  int64_t newH = std::max<int64_t>(1, pyRound(h * r));
  double dw = (width - newW) / 2.0, dh = (height - newH) / 2.0;
  cv::Mat resized = bgr;
  if (newW != w || newH != h)
    cv::resize(bgr, resized, cv::Size(static_cast<int>(newW),
                                      static_cast<int>(newH)),
               0, 0, cv::INTER_LINEAR);
  int64_t top = pyRound(dh - 0.1), left = pyRound(dw - 0.1);
  // The plane starts as the padding colour; the resized image goes inside
  // (copyMakeBorder's result, without the copy).
  const float pad = 114.0f / 255.0f;
  int64_t plane = height * width;
  std::fill(chw, chw + 3 * plane, pad);
  int64_t rows = std::min(newH, height - top), cols = std::min(newW, width - left);
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t *src = resized.ptr<uint8_t>(static_cast<int>(y));
    float *dst = chw + (top + y) * width + left;
    for (int64_t x = 0; x < cols; ++x) {
      // BGR -> RGB planes, x / 255 as float32 division.
      dst[x] = static_cast<float>(src[3 * x + 2]) / 255.0f;
      dst[plane + x] = static_cast<float>(src[3 * x + 1]) / 255.0f;
      dst[2 * plane + x] = static_cast<float>(src[3 * x]) / 255.0f;
    }
  }
}

void scaleBoxes(int64_t height, int64_t width, int64_t origHeight,
                int64_t origWidth, float *boxes, int64_t count,
                int64_t stride) {
  double gain = std::min(static_cast<double>(height) / origHeight,
                         static_cast<double>(width) / origWidth);
  auto padX = static_cast<float>(pyRound((width - origWidth * gain) / 2 - 0.1));
  auto padY =
      static_cast<float>(pyRound((height - origHeight * gain) / 2 - 0.1));
  auto g = static_cast<float>(gain);
  auto w = static_cast<float>(origWidth), h = static_cast<float>(origHeight);
  for (int64_t i = 0; i < count; ++i) {
    float *b = boxes + i * stride;
    b[0] = std::clamp((b[0] - padX) / g, 0.0f, w);
    b[1] = std::clamp((b[1] - padY) / g, 0.0f, h);
    b[2] = std::clamp((b[2] - padX) / g, 0.0f, w);
    b[3] = std::clamp((b[3] - padY) / g, 0.0f, h);
  }
}

} // namespace irmb::vision
