//===- Annotate.cpp - detections as Ultralytics' label files and pictures -===//
//
// irmb_write_txt: Results.save_txt(save_conf=True), the normalised xywh
// computed in float32 as Results.boxes.xywhn does, each number printed with
// %g of its double value as Python's "%g" % float does. irmb_draw_file:
// boxes in Ultralytics' colour palette, with "name score" labels on a
// filled background. Both write to a temporary file renamed into place.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb_vision.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <unistd.h>

namespace {

int fail(const std::string &message) {
  irmb_set_last_error(message.c_str());
  return -1;
}

/// A temporary name beside `path` (same folder, so rename is atomic),
/// unique per process and call.
std::string temporaryFor(const std::string &path) {
  static std::atomic<unsigned> counter{0};
  return path + ".irmb-tmp-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++);
}

/// Ultralytics' default colour palette (hex RGB), indexed by class.
cv::Scalar classColour(int cls) {
  static const unsigned kPalette[] = {
      0xFF3838, 0xFF9D97, 0xFF701F, 0xFFB21D, 0xCFD231, 0x48F90A, 0x92CC17,
      0x3DDB86, 0x1A9334, 0x00D4BB, 0x2C99A8, 0x00C2FF, 0x344593, 0x6473FF,
      0x0018EC, 0x8438FF, 0x520085, 0xCB38FF, 0xFF95C8, 0xFF37C7};
  unsigned rgb = kPalette[static_cast<unsigned>(cls) % 20];
  return cv::Scalar(rgb & 0xFF, (rgb >> 8) & 0xFF, (rgb >> 16) & 0xFF); // BGR
}

} // namespace

extern "C" {

int irmb_write_txt(const irmb_detections *r, const char *path, int append) {
  if (!r || !path)
    return fail("irmb_write_txt: no result or path");
  if (r->count == 0)
    return 0; // Ultralytics writes no label file for an empty result
  if (r->orig_width < 1 || r->orig_height < 1 || !r->items)
    return fail(std::string(path) + ": the result has no image size");
  std::string before;
  if (append)
    if (FILE *old = std::fopen(path, "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, old)) > 0)
        before.append(buf, n);
      std::fclose(old);
    }
  std::string tmp = temporaryFor(path);
  FILE *f = std::fopen(tmp.c_str(), "w");
  if (!f)
    return fail(std::string(path) + ": cannot write the label file");
  if (!before.empty() && std::fwrite(before.data(), 1, before.size(), f) !=
                             before.size()) {
    std::fclose(f);
    std::remove(tmp.c_str());
    return fail(std::string(path) + ": cannot write the label file");
  }
  auto w = static_cast<float>(r->orig_width),
       h = static_cast<float>(r->orig_height);
  bool ok = true;
  for (int64_t i = 0; i < r->count && ok; ++i) {
    const irmb_detection &d = r->items[i];
    float cx = (d.x1 + d.x2) / 2, cy = (d.y1 + d.y2) / 2, bw = d.x2 - d.x1,
          bh = d.y2 - d.y1;
    ok = std::fprintf(f, "%g %g %g %g %g %g\n", static_cast<double>(d.cls),
                      static_cast<double>(cx / w), static_cast<double>(cy / h),
                      static_cast<double>(bw / w), static_cast<double>(bh / h),
                      static_cast<double>(d.conf)) > 0;
  }
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path) != 0) {
    std::remove(tmp.c_str());
    return fail(std::string(path) + ": cannot write the label file");
  }
  return 0;
}

int irmb_draw_file(const char *image_path, const irmb_detections *r,
                   const char *const *names, int num_names,
                   const char *out_path) {
  if (!image_path || !r || !out_path || (r->count > 0 && !r->items))
    return fail("irmb_draw_file: no image, result or output path");
  try {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    cv::Mat image = cv::imread(image_path, cv::IMREAD_COLOR);
    if (image.empty())
      return fail(std::string(image_path) + ": cannot read the image");
    // Ultralytics' Annotator line width: max(round(sum(shape) / 2 * 0.003), 2).
    int lw = std::max(
        static_cast<int>(std::nearbyint((image.rows + image.cols + 3) / 2.0 *
                                        0.003)),
        2);
    int thickness = std::max(lw - 1, 1);
    double scale = lw / 3.0;
    for (int64_t i = 0; i < r->count; ++i) {
      const irmb_detection &d = r->items[i];
      cv::Scalar colour = classColour(d.cls);
      cv::Point p1(static_cast<int>(d.x1), static_cast<int>(d.y1)),
          p2(static_cast<int>(d.x2), static_cast<int>(d.y2));
      cv::rectangle(image, p1, p2, colour, lw, cv::LINE_AA);
      std::string name = d.cls >= 0 && d.cls < num_names && names &&
                                 names[d.cls]
                             ? names[d.cls]
                             : std::to_string(d.cls);
      char score[16];
      std::snprintf(score, sizeof score, " %.2f", static_cast<double>(d.conf));
      std::string label = name + score;
      int baseline = 0;
      cv::Size text = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, scale,
                                      thickness, &baseline);
      bool outside = p1.y - text.height >= 3;
      cv::Point q(p1.x + text.width,
                  outside ? p1.y - text.height - 3 : p1.y + text.height + 3);
      cv::rectangle(image, p1, q, colour, cv::FILLED, cv::LINE_AA);
      cv::putText(image, label,
                  cv::Point(p1.x, outside ? p1.y - 2 : p1.y + text.height + 2),
                  cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255),
                  thickness, cv::LINE_AA);
    }
    // Encode in memory (format from the extension), then write whole.
    std::string out = out_path;
    size_t dot = out.rfind('.');
    std::string ext = dot == std::string::npos ? ".jpg" : out.substr(dot);
    std::vector<uint8_t> bytes;
    if (!cv::imencode(ext, image, bytes))
      return fail(out + ": cannot encode an image as '" + ext + "'");
    std::string tmp = temporaryFor(out);
    FILE *f = std::fopen(tmp.c_str(), "wb");
    if (!f)
      return fail(out + ": cannot write the image");
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok || std::rename(tmp.c_str(), out.c_str()) != 0) {
      std::remove(tmp.c_str());
      return fail(out + ": cannot write the image");
    }
    return 0;
  } catch (const std::exception &e) {
    return fail(std::string(image_path) + ": " + e.what());
  }
}

} // extern "C"
