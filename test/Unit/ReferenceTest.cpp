//===- ReferenceTest.cpp - invariants of the reference executor -----------===//
//
// Properties the LibTorch reference must have whatever the weights: each
// batch item equals its own batch-1 run, fused and unfused copies of the same
// weights agree, a window that covers the whole (unpadded) map equals global
// attention while a padded one does not (padded tokens are not masked), and
// random weights are deterministic and keep activations finite.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/IRMBOps.h"
#include "frontend/ImportModel.h"
#include "weights/Weights.h"
#include "reference/ReferenceExecutor.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>

using namespace irmb::frontend;
using namespace irmb::weights;
using irmb::reference::ReferenceExecutor;

namespace {

/// A model built from YAML text with random weights.
struct Model {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  WeightMap weights;

  Model(const std::string &yaml, ImportOptions geometry, uint64_t seed = 1) {
    static int counter = 0;
    std::string path =
        ::testing::TempDir() + "model" + std::to_string(counter++) + ".yaml";
    std::ofstream(path) << yaml;
    ResolvedModel resolved = loadModel(path, {});
    module = importModel(context, resolved, geometry);
    std::remove(path.c_str());
    if (!module)
      throw std::runtime_error("import failed");
    weights = randomWeights(*module, seed);
  }
  at::Tensor run(const at::Tensor &x) const {
    return ReferenceExecutor(*module, weights).run(x);
  }
};

double relativeL2(const at::Tensor &a, const at::Tensor &b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

const char *irmbHead = R"(nc: 7
backbone:
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, C2f_iRMB, [16, True]]
  - [-1, 1, SCDown, [32, 3, 2]]
  - [-1, 1, C2fCIB, [32, True, True]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 1, iRMB, [128]]
  - [-1, 1, PSA, [128]]
head:
  - [[3, 6], 1, v10Detect, [nc]]
)";

TEST(Reference, BatchItemsEqualTheirOwnRuns) {
  Model batch3(irmbHead, {3, 96, 160});
  Model batch1(irmbHead, {1, 96, 160});
  at::manual_seed(0);
  at::Tensor x = at::rand({3, 3, 96, 160});
  at::Tensor all = batch3.run(x);
  ASSERT_TRUE(at::isfinite(all).all().item<bool>());
  for (int64_t i = 0; i < 3; ++i) {
    at::Tensor one = batch1.run(x.slice(0, i, i + 1));
    EXPECT_LT(relativeL2(all.slice(0, i, i + 1), one), 1e-6) << "item " << i;
  }
}

/// Folds every BN that follows a conv (Ultralytics Conv) into the conv, as
/// model.fuse() does, and re-expresses it with an identity BN.
WeightMap foldBatchNorms(const WeightMap &in) {
  WeightMap out = in;
  for (const auto &[key, w] : in) {
    llvm::StringRef k(key);
    if (!k.ends_with(".conv.weight"))
      continue;
    std::string prefix = k.drop_back(strlen(".conv.weight")).str();
    if (!in.count(prefix + ".bn.weight"))
      continue;
    const auto &g = in.at(prefix + ".bn.weight").values;
    const auto &b = in.at(prefix + ".bn.bias").values;
    const auto &m = in.at(prefix + ".bn.running_mean").values;
    const auto &v = in.at(prefix + ".bn.running_var").values;
    WeightTensor weight = w, bias{{w.shape[0]}, {}};
    int64_t per = static_cast<int64_t>(w.values.size()) / w.shape[0];
    for (int64_t o = 0; o < w.shape[0]; ++o) {
      double scale = g[o] / std::sqrt(static_cast<double>(v[o]) + 1e-3);
      for (int64_t i = 0; i < per; ++i)
        weight.values[o * per + i] =
            static_cast<float>(w.values[o * per + i] * scale);
      bias.values.push_back(static_cast<float>(b[o] - m[o] * scale));
    }
    // The fused form as the loader hands it on: folded weight, identity BN
    // carrying the folded bias.
    out[key] = weight;
    out[prefix + ".bn.bias"] = bias;
    int64_t c = w.shape[0];
    out[prefix + ".bn.weight"] = {{c}, std::vector<float>(c, 1.0f)};
    out[prefix + ".bn.running_mean"] = {{c}, std::vector<float>(c, 0.0f)};
    out[prefix + ".bn.running_var"] = {{c},
                                       std::vector<float>(c, 1.0f - 1e-3f)};
  }
  return out;
}

TEST(Reference, FusedAndUnfusedWeightsAgree) {
  Model model(irmbHead, {2, 128, 96});
  at::manual_seed(1);
  at::Tensor x = at::rand({2, 3, 128, 96});
  at::Tensor unfused = model.run(x);
  at::Tensor fused =
      ReferenceExecutor(*model.module, foldBatchNorms(model.weights)).run(x);
  EXPECT_LT(relativeL2(fused, unfused), 1e-5);
}

/// One iRMB on an 8x8 map with the given window.
std::string windowModel(int64_t window) {
  return "backbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n"
         "  - [-1, 1, iRMB, [16, True, True, 1.0, 'bn_2d', 'relu', True, 3, "
         "1, 1, 0.0, 8, " +
         std::to_string(window) + "]]\nhead: []\n";
}

TEST(Reference, WindowPaddingIsNotMasked) {
  at::manual_seed(2);
  at::Tensor x = at::rand({1, 3, 16, 16});
  at::Tensor global = Model(windowModel(0), {1, 16, 16}).run(x);
  at::Tensor whole = Model(windowModel(8), {1, 16, 16}).run(x);
  at::Tensor padded = Model(windowModel(9), {1, 16, 16}).run(x);
  // An unpadded window covering the map is global attention.
  EXPECT_LT(relativeL2(whole, global), 1e-6);
  // One padded row/column of zero tokens joins every softmax.
  EXPECT_GT(relativeL2(padded, global), 1e-4);
}

TEST(Reference, RandomWeightsAreDeterministicAndFinite) {
  Model a(irmbHead, {1, 64, 64}, 7), b(irmbHead, {1, 64, 64}, 7),
      c(irmbHead, {1, 64, 64}, 8);
  EXPECT_EQ(a.weights.at("model.5.qk.conv.weight").values,
            b.weights.at("model.5.qk.conv.weight").values);
  EXPECT_NE(a.weights.at("model.5.qk.conv.weight").values,
            c.weights.at("model.5.qk.conv.weight").values);
  at::Tensor y = a.run(at::rand({1, 3, 64, 64}));
  EXPECT_TRUE(at::isfinite(y).all().item<bool>());
  EXPECT_EQ(y.size(1), 4 + 7);
}

TEST(Reference, V10PostprocessBreaksTiesTowardLowerIndex) {
  // Two anchors, two classes; anchor 1 ties anchor 0 on class 0.
  at::Tensor raw = at::zeros({1, 6, 3});
  raw[0][4] = at::tensor({0.9f, 0.9f, 0.1f});
  raw[0][5] = at::tensor({0.2f, 0.3f, 0.95f});
  raw[0][2] = at::tensor({2.f, 4.f, 6.f}); // widths tell the anchors apart
  raw[0][3] = at::tensor({2.f, 4.f, 6.f});
  at::Tensor out = irmb::reference::v10Postprocess(raw, 3);
  ASSERT_EQ(out.size(1), 3);
  EXPECT_FLOAT_EQ(out[0][0][4].item<float>(), 0.95f); // anchor 2, class 1
  EXPECT_FLOAT_EQ(out[0][1][2].item<float>(), 1.f);   // anchor 0 first
  EXPECT_FLOAT_EQ(out[0][2][2].item<float>(), 2.f);   // then anchor 1
  EXPECT_FLOAT_EQ(out[0][1][5].item<float>(), 0.f);
}

} // namespace
