//===- Postprocess.cpp - YOLOv10 two-stage top-k --------------------------===//
//
// irmb_postprocess_v10: Ultralytics' v10postprocess (max_det = K): top-K
// anchors by best class score, then top-K of their flattened class scores;
// boxes xywh -> xyxy. Ties go to the lower index (stable sorts), the order
// the golden files follow wherever scores are separated.
//
//===----------------------------------------------------------------------===//
#include "irmb/irmb.h"

#include <algorithm>
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

extern "C" int irmb_postprocess_v10(const float *raw, int64_t batch,
                                    int64_t channels, int64_t anchors,
                                    int64_t max_det, float *out) {
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
