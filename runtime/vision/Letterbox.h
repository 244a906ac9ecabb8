//===- Letterbox.h - Ultralytics' LetterBox and scale_boxes -----*- C++ -*-===//
//
// The geometry of fitting an image into the compiled input size exactly as
// Ultralytics' LetterBox(new_shape, auto=False, stride=32) does (Python
// round-half-even on doubles, cv2.resize INTER_LINEAR only when the size
// changes, 114 padding split as round(d - 0.1) / round(d + 0.1)), the CHW
// float input it produces (BGR->RGB, x / 255 in float32), and scale_boxes,
// which maps boxes back to the original image and clips them.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_RUNTIME_VISION_LETTERBOX_H
#define IRMB_RUNTIME_VISION_LETTERBOX_H

#include <cstdint>
#include <opencv2/core.hpp>

namespace irmb::vision {

/// Writes the letterboxed `bgr` image (CV_8UC3) into `chw`, a [3, height,
/// width] float32 RGB plane set in [0, 1].
void letterbox(const cv::Mat &bgr, int64_t height, int64_t width, float *chw);

/// Ultralytics' scale_boxes(img1_shape=(height, width), boxes, img0_shape)
/// in place on `count` rows of x1, y1, x2, y2 (`stride` floats apart),
/// then clip_boxes to the original `origHeight` x `origWidth`.
void scaleBoxes(int64_t height, int64_t width, int64_t origHeight,
                int64_t origWidth, float *boxes, int64_t count,
                int64_t stride);

} // namespace irmb::vision

#endif // IRMB_RUNTIME_VISION_LETTERBOX_H
