//===- irmb-npy-compare.cpp - compare model outputs with tolerances -------===//
//
// irmb-npy-compare EXPECTED.npy ACTUAL.npy [--final] [--boxes-rel-l2 T]
//                  [--scores-max-abs T] [--scores-max-fraction F]
//                  [--separation S] [--match-iou I --min-score M]
// irmb-npy-compare --layers EXPECTED_DIR ACTUAL_DIR [--rel-l2 T]
//
// Raw predictions [B, 4 + nc, A]: relative L2 error of the box rows and the
// largest absolute error of the score rows (DESIGN.md "Numerics"); with
// --scores-max-fraction, at most the fraction F of the scores may exceed
// the score tolerance (for ill-conditioned models, where two correct fp32
// evaluations already differ that much: docs/checkpoints.md). With
// --final, v10 outputs [B, K, 6]: every row whose score is separated from
// both neighbours by more than S must have the same label, a score within
// the score tolerance and box corners within 10x the box tolerance relative
// to the row's largest coordinate. With --match-iou (reduced precision, where
// near-ties may swap places), every expected row scoring at least M must
// instead have a row anywhere in the actual output with the same label, a
// box of IoU >= I and a score within the score tolerance.
// With --layers, every layerNN.npy of EXPECTED_DIR (Ultralytics' per-layer
// outputs) against the same file of ACTUAL_DIR by relative L2 error, naming
// the first layer that disagrees. Prints the measurements; exits 1 when a
// tolerance is exceeded.
//
//===----------------------------------------------------------------------===//
#include "runtime/npy/Npy.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

using irmb::npy::Array;

namespace {

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(2);
}

Array load(const std::string &path) {
  Array a;
  std::string error;
  if (!irmb::npy::readNpy(path, a, error))
    die(error);
  return a;
}

/// Relative L2 distance of two arrays of equal shape.
double relativeL2(const Array &e, const Array &a) {
  double diff2 = 0, norm2 = 0;
  for (size_t i = 0; i < e.values.size(); ++i) {
    double d = static_cast<double>(a.values[i]) - e.values[i];
    diff2 += d * d;
    norm2 += static_cast<double>(e.values[i]) * e.values[i];
  }
  return std::sqrt(diff2 / std::fmax(norm2, 1e-30));
}

/// Compares every layerNN.npy of two folders.
int compareLayers(const std::string &expectedDir, const std::string &actualDir,
                  double tol) {
  int compared = 0;
  for (int i = 0; i < 1000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/layer%02d.npy", i);
    Array e, a;
    std::string error;
    if (!irmb::npy::readNpy(expectedDir + name, e, error))
      break;
    a = load(actualDir + name);
    if (a.shape != e.shape) {
      std::printf("layer %d: shapes differ\nFAIL\n", i);
      return 1;
    }
    double rel = relativeL2(e, a);
    std::printf("layer %02d: rel L2 %.3e\n", i, rel);
    if (rel > tol) {
      std::printf("first disagreeing layer: %d (tol %.1e)\nFAIL\n", i, tol);
      return 1;
    }
    ++compared;
  }
  std::printf("%d layers agree\n%s\n", compared, compared ? "PASS" : "FAIL");
  return compared ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc >= 4 && std::string(argv[1]) == "--layers") {
    double tol = 1e-5;
    if (argc == 6 && std::string(argv[4]) == "--rel-l2")
      tol = std::strtod(argv[5], nullptr);
    return compareLayers(argv[2], argv[3], tol);
  }
  std::string expectedPath, actualPath;
  bool final = false;
  double boxTol = 1e-5, scoreTol = 2e-5, separation = 1e-4, matchIou = 0,
         minScore = 0.25, maxFraction = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() {
      if (i + 1 >= argc)
        die(arg + " expects a value");
      return std::strtod(argv[++i], nullptr);
    };
    if (arg == "--final")
      final = true;
    else if (arg == "--boxes-rel-l2")
      boxTol = value();
    else if (arg == "--scores-max-abs")
      scoreTol = value();
    else if (arg == "--scores-max-fraction")
      maxFraction = value();
    else if (arg == "--separation")
      separation = value();
    else if (arg == "--match-iou")
      matchIou = value();
    else if (arg == "--min-score")
      minScore = value();
    else if (expectedPath.empty())
      expectedPath = arg;
    else if (actualPath.empty())
      actualPath = arg;
    else
      die("unexpected argument '" + arg + "'");
  }
  if (actualPath.empty())
    die("usage: irmb-npy-compare EXPECTED.npy ACTUAL.npy [--final] "
        "[--boxes-rel-l2 T] [--scores-max-abs T] [--scores-max-fraction F] "
        "[--separation S] "
        "[--match-iou I --min-score M]");
  Array e = load(expectedPath), a = load(actualPath);
  if (e.shape != a.shape || e.shape.size() != 3)
    die("shapes differ or are not rank 3");
  int64_t b = e.shape[0], rows = e.shape[1], cols = e.shape[2];
  bool ok = true;
  if (!final) {
    double diff2 = 0, norm2 = 0, scoreErr = 0;
    int64_t scores = 0, beyond = 0;
    for (int64_t n = 0; n < b; ++n)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t i = (n * rows + r) * cols + c;
          double d = static_cast<double>(a.values[i]) - e.values[i];
          if (r < 4) {
            diff2 += d * d;
            norm2 += static_cast<double>(e.values[i]) * e.values[i];
          } else {
            scoreErr = std::fmax(scoreErr, std::fabs(d));
            ++scores;
            beyond += std::fabs(d) > scoreTol;
          }
        }
    double rel = std::sqrt(diff2 / std::fmax(norm2, 1e-30));
    std::printf("boxes rel L2 %.3e (tol %.1e), scores max abs %.3e (tol "
                "%.1e)\n",
                rel, boxTol, scoreErr, scoreTol);
    ok = rel <= boxTol && scoreErr <= scoreTol;
    if (maxFraction > 0) {
      double fraction = scores ? static_cast<double>(beyond) / scores : 0.0;
      std::printf("scores beyond %.1e: %.4f of %lld (at most %.4f)\n",
                  scoreTol, fraction, (long long)scores, maxFraction);
      ok = rel <= boxTol && fraction <= maxFraction;
    }
  } else if (matchIou > 0) {
    if (cols != 6)
      die("--final expects [B, K, 6]");
    int64_t checked = 0, bad = 0;
    auto iou = [](const float *p, const float *q) {
      double w = std::fmin(p[2], q[2]) - std::fmax(p[0], q[0]);
      double h = std::fmin(p[3], q[3]) - std::fmax(p[1], q[1]);
      double inter = std::fmax(w, 0.0) * std::fmax(h, 0.0);
      double area =
          (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]);
      return inter / std::fmax(area - inter, 1e-12);
    };
    for (int64_t n = 0; n < b; ++n)
      for (int64_t r = 0; r < rows; ++r) {
        const float *er = &e.values[(n * rows + r) * 6];
        if (er[4] < minScore)
          continue;
        ++checked;
        bool found = false;
        for (int64_t q = 0; q < rows && !found; ++q) {
          const float *ar = &a.values[(n * rows + q) * 6];
          found = ar[5] == er[5] && std::fabs(ar[4] - er[4]) <= scoreTol &&
                  iou(er, ar) >= matchIou;
        }
        if (!found && bad++ < 5)
          std::printf("detection %lld of item %lld has no match: [%g %g %g %g "
                      "%g %g]\n",
                      (long long)r, (long long)n, er[0], er[1], er[2], er[3],
                      er[4], er[5]);
      }
    std::printf("detections scoring >= %g: %lld checked, %lld unmatched "
                "(IoU >= %g)\n",
                minScore, (long long)checked, (long long)bad, matchIou);
    ok = bad == 0 && checked > 0;
  } else {
    if (cols != 6)
      die("--final expects [B, K, 6]");
    int64_t checked = 0, bad = 0;
    for (int64_t n = 0; n < b; ++n)
      for (int64_t r = 0; r < rows; ++r) {
        const float *er = &e.values[(n * rows + r) * 6];
        const float *ar = &a.values[(n * rows + r) * 6];
        bool separated =
            (r == 0 || std::fabs(er[4] - er[4 - 6]) > separation) &&
            (r + 1 == rows || std::fabs(er[4] - er[4 + 6]) > separation);
        if (!separated)
          continue;
        ++checked;
        bool rowOk = er[5] == ar[5] && std::fabs(er[4] - ar[4]) <= scoreTol;
        // Box corners relative to the box's own extent (coordinates near 0
        // would make a per-value relative test meaningless).
        double scale = 1.0;
        for (int k = 0; k < 4; ++k)
          scale = std::fmax(scale, std::fabs(er[k]));
        for (int k = 0; k < 4; ++k)
          rowOk &= std::fabs(er[k] - ar[k]) <= 10 * boxTol * scale;
        if (!rowOk && bad++ < 5)
          std::printf("row %lld of item %lld differs: expected [%g %g %g %g "
                      "%g %g], got [%g %g %g %g %g %g]\n",
                      (long long)r, (long long)n, er[0], er[1], er[2], er[3],
                      er[4], er[5], ar[0], ar[1], ar[2], ar[3], ar[4], ar[5]);
      }
    std::printf("final rows: %lld separated rows checked, %lld differ\n",
                (long long)checked, (long long)bad);
    ok = bad == 0 && checked > 0;
  }
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
