//===- Predict.cpp - images in, detections out ----------------------------===//
//
// Implements irmb_predict_images / irmb_predict_files of irmb_vision.h: the
// images are letterboxed into batches of the compiled batch size (the last
// batch padded with grey images whose results are dropped), the model runs
// once per batch, then the head's post-processing (v10 top-k then
// score > conf, or NMS) and scale_boxes per image.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb_vision.h"
#include "runtime/vision/ImageHeader.h"
#include "runtime/vision/Letterbox.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <functional>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

namespace {

/// The most images one call takes, and the largest decoded image (pixels).
constexpr int64_t kMaxImages = 1 << 20;
constexpr int64_t kMaxPixels = irmb::vision::kMaxImagePixels;

int fail(const std::string &message) {
  irmb_set_last_error(message.c_str());
  return -1;
}

bool validOptions(const irmb_predict_options *o, std::string &why) {
  if (!o) {
    why = "no options";
    return false;
  }
  if (!(o->conf >= 0.0f && o->conf <= 1.0f)) {
    why = "conf must be in [0, 1]";
    return false;
  }
  if (!(o->iou >= 0.0 && o->iou <= 1.0)) {
    why = "iou must be in [0, 1]";
    return false;
  }
  if (o->max_det < 1 || o->max_det > 100000) {
    why = "max_det must be in [1, 100000]";
    return false;
  }
  return true;
}

/// Silences OpenCV's own log lines ("[ WARN:0] ... can't open/read file"):
/// failures are reported once, through irmb_last_error().
void quietOpenCv() {
  static bool done = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
  }();
  (void)done;
}

/// A source of decoded BGR images: fills `image` with image `i`, or
/// returns false with irmb_last_error() set.
using ImageSource = std::function<bool(int64_t i, cv::Mat &image)>;

/// Runs `count` images from `source` through the model, decoding one batch
/// at a time.
int predict(irmb_model *model, int64_t count, const ImageSource &source,
            const irmb_predict_options *options, irmb_detections *results) {
  irmb_info info;
  if (irmb_get_info(model, &info) != 0)
    return -1;
  const int64_t batch = info.input_shape[0], channels = info.input_shape[1],
                height = info.input_shape[2], width = info.input_shape[3];
  const int64_t outC = info.output_shape[1], anchors = info.output_shape[2];
  if (channels != 3)
    return fail("the model takes " + std::to_string(channels) +
                "-channel input; images need a 3-channel model");
  const int64_t plane = channels * height * width;
  std::vector<float> input(static_cast<size_t>(batch * plane));
  std::vector<float> raw(static_cast<size_t>(batch * outC * anchors));
  const int64_t maxDet = options->max_det;
  const int64_t k = info.is_v10 ? std::min<int64_t>(maxDet, anchors) : maxDet;
  std::vector<float> rows(static_cast<size_t>(batch * k * 6));
  std::vector<int64_t> counts(static_cast<size_t>(batch));
  std::vector<cv::Mat> images(static_cast<size_t>(batch));
  for (int64_t start = 0; start < count; start += batch) {
    int64_t n = std::min(batch, count - start);
    for (int64_t i = 0; i < batch; ++i) {
      float *x = input.data() + i * plane;
      if (i < n) {
        if (!source(start + i, images[i]))
          return -1;
        irmb::vision::letterbox(images[i], height, width, x);
      } else {
        std::fill(x, x + plane, 114.0f / 255.0f);
      }
    }
    if (irmb_run(model, input.data(), raw.data()) != 0)
      return -1;
    for (size_t j = 0; j < raw.size(); ++j)
      if (!std::isfinite(raw[j]))
        return fail("the model produced a non-finite output for image " +
                    std::to_string(start + static_cast<int64_t>(
                                               j / (outC * anchors))) +
                    " (weights or input it cannot compute with); no "
                    "detections reported");
    if (info.is_v10) {
      if (irmb_postprocess_v10(raw.data(), batch, outC, anchors, k,
                               rows.data()) != 0)
        return fail("v10 post-processing failed");
      for (int64_t i = 0; i < batch; ++i) {
        // Rows are sorted by score: keep the prefix with score > conf.
        float *r = rows.data() + i * k * 6;
        int64_t kept = 0;
        for (int64_t j = 0; j < k; ++j)
          if (r[j * 6 + 4] > options->conf) {
            std::copy(r + j * 6, r + j * 6 + 6, r + kept * 6);
            ++kept;
          }
        counts[i] = kept;
      }
    } else if (irmb_postprocess_nms(raw.data(), batch, outC, anchors,
                                    options->conf, options->iou, maxDet,
                                    rows.data(), counts.data()) != 0) {
      return fail("NMS failed");
    }
    for (int64_t i = 0; i < n; ++i) {
      const cv::Mat &image = images[i];
      float *r = rows.data() + i * k * 6;
      irmb::vision::scaleBoxes(height, width, image.rows, image.cols, r,
                               counts[i], 6);
      irmb_detections &out = results[start + i];
      out.orig_height = image.rows;
      out.orig_width = image.cols;
      out.count = counts[i];
      out.items = static_cast<irmb_detection *>(
          std::calloc(static_cast<size_t>(std::max<int64_t>(counts[i], 1)),
                      sizeof(irmb_detection)));
      if (!out.items)
        return fail("out of memory for the detections");
      for (int64_t j = 0; j < counts[i]; ++j) {
        const float *row = r + j * 6;
        out.items[j] = {row[0], row[1], row[2], row[3], row[4],
                        static_cast<int>(row[5])};
      }
    }
  }
  return 0;
}

/// Clears `results` so a failed call leaves nothing to free twice.
void clear(irmb_detections *results, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    results[i] = {0, 0, 0, nullptr};
}

/// What both entry points do around predict(): check the arguments, clear
/// the results, keep every exception inside, and free on failure.
int guardedPredict(const char *name, irmb_model *model, const void *inputs,
                   int64_t count, const irmb_predict_options *options,
                   irmb_detections *results, const ImageSource &source) {
  std::string why;
  if (!model || !inputs || !results || count < 1 || count > kMaxImages)
    return fail(std::string(name) + ": no model, images or results, or a "
                                    "count outside [1, 2^20]");
  if (!validOptions(options, why))
    return fail(std::string(name) + ": " + why);
  clear(results, count);
  try {
    int rc = predict(model, count, source, options, results);
    if (rc != 0)
      irmb_detections_free(results, count);
    return rc;
  } catch (const std::exception &e) {
    irmb_detections_free(results, count);
    return fail(std::string(name) + ": " + e.what());
  }
}

} // namespace

extern "C" {

void irmb_predict_options_default(irmb_predict_options *options) {
  if (options)
    *options = {0.25f, 0.7, 300};
}

int irmb_predict_images(irmb_model *model, const irmb_image *images,
                        int64_t count, const irmb_predict_options *options,
                        irmb_detections *results) {
  return guardedPredict(
      "irmb_predict_images", model, images, count, options, results,
      [&](int64_t i, cv::Mat &image) {
        const irmb_image &im = images[i];
        if (!im.data || im.height < 1 || im.width < 1 ||
            im.height > kMaxPixels / im.width || im.row_bytes < 3 * im.width) {
          fail("image " + std::to_string(i) +
               ": not a BGR uint8 image (size " + std::to_string(im.height) +
               "x" + std::to_string(im.width) + ", row_bytes " +
               std::to_string(im.row_bytes) + ")");
          return false;
        }
        image = cv::Mat(static_cast<int>(im.height), static_cast<int>(im.width),
                        CV_8UC3, const_cast<uint8_t *>(im.data),
                        static_cast<size_t>(im.row_bytes));
        return true;
      });
}

int irmb_predict_files(irmb_model *model, const char *const *paths,
                       int64_t count, const irmb_predict_options *options,
                       irmb_detections *results) {
  quietOpenCv();
  return guardedPredict(
      "irmb_predict_files", model, paths, count, options, results,
      [&](int64_t i, cv::Mat &image) {
        std::string path = paths[i] ? paths[i] : "";
        std::ifstream in(path, std::ios::binary);
        if (!in) {
          fail(path + ": cannot open the image (" + std::strerror(errno) +
               ")");
          return false;
        }
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
        std::string error;
        if (!irmb::vision::decodeImage(bytes, image, error)) {
          fail(path + ": cannot read the image: " + error);
          return false;
        }
        return true;
      });
}

void irmb_detections_free(irmb_detections *results, int64_t count) {
  if (!results)
    return;
  for (int64_t i = 0; i < count; ++i) {
    std::free(results[i].items);
    results[i] = {0, 0, 0, nullptr};
  }
}

} // extern "C"
