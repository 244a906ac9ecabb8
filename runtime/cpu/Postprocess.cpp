//===- Postprocess.cpp - YOLOv10 top-k and Ultralytics NMS ---------------===//
//
// irmb_postprocess_v10: Ultralytics' v10postprocess (max_det = K): top-K
// anchors by best class score, then top-K of their flattened class scores;
// boxes xywh -> xyxy. Ties go to the lower index (stable sorts), the order
// the golden files follow wherever scores are separated.
// irmb_postprocess_nms: Ultralytics' non_max_suppression (best class only,
// torchvision.ops.nms on class-offset boxes), in float32 where PyTorch
// computes in float32 and comparing IoU in double as torchvision does.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <numeric>
#include <vector>

/// Indices of the `count` largest values, descending, ties to lower index.
static std::vector<int64_t> topK(const float *values, int64_t n,
                                 int64_t count) {
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int64_t a, int64_t b) { return values[a] > values[b]; });
  idx.resize(count);
  return idx;
}

static int postprocessV10(const float *raw, int64_t batch, int64_t channels,
                          int64_t anchors, int64_t max_det, float *out) {
  int64_t nc = channels - 4, k = std::min(max_det, anchors);
  if (!raw || !out || nc < 1 || k < 1)
    return -1;
  for (int64_t b = 0; b < batch; ++b) {
    const float *p = raw + b * channels * anchors; // [4 + nc, A]
    std::vector<float> best(anchors);
    for (int64_t a = 0; a < anchors; ++a) {
      float m = p[4 * anchors + a];
      for (int64_t c = 1; c < nc; ++c)
        m = std::max(m, p[(4 + c) * anchors + a]);
      best[a] = m;
    }
    std::vector<int64_t> first = topK(best.data(), anchors, k);
    std::vector<float> scores(k * nc);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < nc; ++c)
        scores[r * nc + c] = p[(4 + c) * anchors + first[r]];
    std::vector<int64_t> second = topK(scores.data(), k * nc, k);
    float *o = out + b * k * 6;
    for (int64_t r = 0; r < k; ++r) {
      int64_t a = first[second[r] / nc];
      float cx = p[a], cy = p[anchors + a], w = p[2 * anchors + a],
            h = p[3 * anchors + a];
      o[r * 6 + 0] = cx - w / 2;
      o[r * 6 + 1] = cy - h / 2;
      o[r * 6 + 2] = cx + w / 2;
      o[r * 6 + 3] = cy + h / 2;
      o[r * 6 + 4] = scores[second[r]];
      o[r * 6 + 5] = static_cast<float>(second[r] % nc);
    }
  }
  return 0;
}

static int postprocessNms(const float *raw, int64_t batch, int64_t channels,
                          int64_t anchors, float conf, double iou,
                          int64_t max_det, float *out, int64_t *counts) {
  constexpr int64_t kMaxNms = 30000;  // Ultralytics' max_nms
  constexpr float kMaxWh = 7680.0f;   // class offset of the boxes
  int64_t nc = channels - 4;
  if (!raw || !out || !counts || nc < 1 || max_det < 1 || anchors < 1)
    return -1;
  for (int64_t b = 0; b < batch; ++b) {
    const float *p = raw + b * channels * anchors; // [4 + nc, A]
    // Candidates: the best class of each anchor, score > conf (the first
    // maximum wins, as torch.max does).
    struct Candidate {
      float box[4], score;
      int64_t cls, anchor;
    };
    std::vector<Candidate> cand;
    for (int64_t a = 0; a < anchors; ++a) {
      float best = p[4 * anchors + a];
      int64_t cls = 0;
      bool nan = std::isnan(best);
      for (int64_t c = 1; c < nc; ++c) {
        float v = p[(4 + c) * anchors + a];
        nan |= std::isnan(v);
        if (v > best) {
          best = v;
          cls = c;
        }
      }
      // torch's amax propagates NaN, and NaN > conf is false: such an
      // anchor is never a candidate.
      if (nan || !(best > conf))
        continue;
      float cx = p[a], cy = p[anchors + a], hw = p[2 * anchors + a] / 2,
            hh = p[3 * anchors + a] / 2;
      cand.push_back({{cx - hw, cy - hh, cx + hw, cy + hh}, best, cls, a});
    }
    // Descending score, ties to the lower anchor; at most max_nms.
    std::stable_sort(cand.begin(), cand.end(),
                     [](const Candidate &x, const Candidate &y) {
                       return x.score > y.score;
                     });
    if (static_cast<int64_t>(cand.size()) > kMaxNms)
      cand.resize(kMaxNms);
    // torchvision.ops.nms on class-offset boxes, in float as it computes.
    size_t n = cand.size();
    std::vector<float> ox1(n), oy1(n), ox2(n), oy2(n), area(n);
    for (size_t i = 0; i < n; ++i) {
      float off = static_cast<float>(cand[i].cls) * kMaxWh;
      ox1[i] = cand[i].box[0] + off;
      oy1[i] = cand[i].box[1] + off;
      ox2[i] = cand[i].box[2] + off;
      oy2[i] = cand[i].box[3] + off;
      area[i] = (ox2[i] - ox1[i]) * (oy2[i] - oy1[i]);
    }
    std::vector<char> suppressed(n, 0);
    float *o = out + b * max_det * 6;
    int64_t kept = 0;
    for (size_t i = 0; i < n && kept < max_det; ++i) {
      if (suppressed[i])
        continue;
      const Candidate &c = cand[i];
      float *row = o + kept * 6;
      row[0] = c.box[0];
      row[1] = c.box[1];
      row[2] = c.box[2];
      row[3] = c.box[3];
      row[4] = c.score;
      row[5] = static_cast<float>(c.cls);
      ++kept;
      for (size_t j = i + 1; j < n; ++j) {
        if (suppressed[j])
          continue;
        float w = std::max(0.0f, std::min(ox2[i], ox2[j]) -
                                     std::max(ox1[i], ox1[j]));
        float h = std::max(0.0f, std::min(oy2[i], oy2[j]) -
                                     std::max(oy1[i], oy1[j]));
        float inter = w * h;
        float overlap = inter / (area[i] + area[j] - inter);
        if (static_cast<double>(overlap) > iou) // torchvision compares in double
          suppressed[j] = 1;
      }
    }
    counts[b] = kept;
  }
  return 0;
}

// The C entry points: no exception (std::bad_alloc) crosses them.
extern "C" int irmb_postprocess_v10(const float *raw, int64_t batch,
                                    int64_t channels, int64_t anchors,
                                    int64_t max_det, float *out) {
  try {
    return postprocessV10(raw, batch, channels, anchors, max_det, out);
  } catch (const std::exception &e) {
    irmb_set_last_error((std::string("irmb_postprocess_v10: ") + e.what()).c_str());
    return -1;
  }
}

extern "C" int irmb_postprocess_nms(const float *raw, int64_t batch,
                                    int64_t channels, int64_t anchors,
                                    float conf, double iou, int64_t max_det,
                                    float *out, int64_t *counts) {
  try {
    return postprocessNms(raw, batch, channels, anchors, conf, iou, max_det,
                          out, counts);
  } catch (const std::exception &e) {
    irmb_set_last_error((std::string("irmb_postprocess_nms: ") + e.what()).c_str());
    return -1;
  }
}
