//===- ShapeInferenceTest.cpp - unit tests of the shared shape math -------===//
//
// The PyTorch / Ultralytics size formulas on odd sizes, strides, dilations
// and the iRMB ConvNormAct padding rule.
//
//===----------------------------------------------------------------------===//
#include "dialects/IRMB/IR/ShapeInference.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace irmb;

namespace {

TEST(ShapeInference, Autopad) {
  EXPECT_EQ(autopad(1, 1), 0);
  EXPECT_EQ(autopad(3, 1), 1);
  EXPECT_EQ(autopad(7, 1), 3);
  EXPECT_EQ(autopad(3, 2), 2);
}

TEST(ShapeInference, MMBPaddingIsCeilOfHalfDifference) {
  EXPECT_EQ(mmbPadding(1, 1), 0);
  EXPECT_EQ(mmbPadding(3, 1), 1);
  EXPECT_EQ(mmbPadding(3, 2), 1);
  EXPECT_EQ(mmbPadding(5, 1), 2);
  EXPECT_EQ(mmbPadding(5, 2), 2);
  EXPECT_EQ(mmbPadding(1, 2), 0);
}

TEST(ShapeInference, ConvOutputExtent) {
  EXPECT_EQ(convOutputExtent(640, 3, 2, 1, 1), 320);
  EXPECT_EQ(convOutputExtent(81, 3, 2, 1, 1), 41); // ceil(H/2)
  EXPECT_EQ(convOutputExtent(20, 3, 1, 1, 2), 18);
  EXPECT_EQ(convOutputExtent(2, 7, 1, 0, 1), 0);
}

TEST(ShapeInference, ConcatAndDetect) {
  MLIRContext ctx;
  auto emit = [&] { return emitError(UnknownLoc::get(&ctx)); };
  SmallVector<int64_t> a{2, 8, 10, 12}, b{2, 4, 10, 12}, c{2, 4, 5, 6};
  FailureOr<Shape> cat = inferConcatShape({a, b}, 1, emit);
  ASSERT_TRUE(succeeded(cat));
  EXPECT_EQ(ArrayRef<int64_t>(*cat), ArrayRef<int64_t>({2, 12, 10, 12}));
  ctx.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  EXPECT_TRUE(failed(inferConcatShape({a, c}, 1, emit)));
  FailureOr<Shape> det = inferDetectShape({a, c}, 3, emit);
  ASSERT_TRUE(succeeded(det));
  EXPECT_EQ(ArrayRef<int64_t>(*det), ArrayRef<int64_t>({2, 7, 150}));
}

} // namespace
