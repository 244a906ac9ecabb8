//===- FrontendTest.cpp - unit tests of the YAML frontend arithmetic ------===//
//
// Python rounding, make_divisible, scale guessing, YAML scalar resolution,
// literal_eval and parse_model on small in-memory models, checked against
// the values Ultralytics computes (ultralytics-semantics.md §2).
//
//===----------------------------------------------------------------------===//
#include "frontend/ParseModel.h"
#include "frontend/PyValue.h"

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>

using namespace irmb::frontend;

namespace {

TEST(PythonNumbers, RoundIsHalfToEven) {
  EXPECT_EQ(pythonRound(0.5), 0);
  EXPECT_EQ(pythonRound(1.5), 2);
  EXPECT_EQ(pythonRound(2.5), 2);
  EXPECT_EQ(pythonRound(3 * 0.33), 1);
  EXPECT_EQ(pythonRound(6 * 0.33), 2);
  EXPECT_EQ(pythonRound(2 * 0.5), 1);
  EXPECT_EQ(pythonRound(3 * 0.5), 2);
  EXPECT_EQ(pythonRound(5 * 0.5), 2);
  EXPECT_EQ(pythonRound(3 * 0.67), 2);
  EXPECT_EQ(pythonRound(6 * 0.67), 4);
}

TEST(PythonNumbers, MakeDivisibleRoundsUp) {
  EXPECT_EQ(makeDivisible(64 * 0.25, 8), 16);
  EXPECT_EQ(makeDivisible(1024 * 0.25, 8), 256);
  EXPECT_EQ(makeDivisible(100 * 0.25, 8), 32);
  EXPECT_EQ(makeDivisible(768 * 0.75, 8), 576);
  EXPECT_EQ(makeDivisible(1, 8), 8);
}

TEST(ScaleGuess, FollowsUltralyticsFileNames) {
  EXPECT_EQ(guessScaleFromPath("models/yolov10n-iRMB.yaml"), "n");
  EXPECT_EQ(guessScaleFromPath("yolo11n-iEMA.yaml"), "n");
  EXPECT_EQ(guessScaleFromPath("/x/yolov8s.yaml"), "s");
  EXPECT_EQ(guessScaleFromPath("yolov10b.yaml"), "b");
  EXPECT_EQ(guessScaleFromPath("yolo11.yaml"), "");
  EXPECT_EQ(guessScaleFromPath("yolov8.yaml"), "");
}

TEST(YamlScalars, ResolveAsPyYAML) {
  EXPECT_EQ(resolvePlainScalar("None", {}).kind, PyValue::Kind::Str);
  EXPECT_EQ(resolvePlainScalar("null", {}).kind, PyValue::Kind::None);
  EXPECT_EQ(resolvePlainScalar("True", {}).kind, PyValue::Kind::Bool);
  EXPECT_EQ(resolvePlainScalar("yes", {}).kind, PyValue::Kind::Bool);
  EXPECT_EQ(resolvePlainScalar("-1", {}).intValue, -1);
  EXPECT_EQ(resolvePlainScalar("0.25", {}).kind, PyValue::Kind::Float);
  // YAML 1.1 floats need a dot: 1e-3 stays a string (literal_eval reads it).
  EXPECT_EQ(resolvePlainScalar("1e-3", {}).kind, PyValue::Kind::Str);
  EXPECT_EQ(resolvePlainScalar("nearest", {}).kind, PyValue::Kind::Str);
}

TEST(LiteralEval, ReadsPythonLiterals) {
  PyValue v;
  ASSERT_TRUE(literalEval("None", {}, v));
  EXPECT_EQ(v.kind, PyValue::Kind::None);
  ASSERT_TRUE(literalEval("1e-3", {}, v));
  EXPECT_DOUBLE_EQ(v.floatValue, 1e-3);
  ASSERT_TRUE(literalEval("[1, (2, 3), 'a']", {}, v));
  EXPECT_EQ(v.repr(), "[1, [2, 3], 'a']");
  EXPECT_FALSE(literalEval("nearest", {}, v));
  EXPECT_FALSE(literalEval("nn.ReLU()", {}, v));
}

TEST(PyValueRepr, MatchesPython) {
  EXPECT_EQ(PyValue::real(0.25).repr(), "0.25");
  EXPECT_EQ(PyValue::real(1.0).repr(), "1.0");
  EXPECT_EQ(PyValue::real(1e-5).repr(), "1e-05");
  EXPECT_EQ(PyValue::boolean(false).repr(), "False");
  EXPECT_EQ(PyValue::str("nearest").repr(), "'nearest'");
}

/// Writes `text` to a temporary YAML file named `name` and parses it.
ResolvedModel parseText(const std::string &name, const std::string &text,
                        ParseOptions options = {}) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  ResolvedModel model = loadModel(path, options);
  std::remove(path.c_str());
  return model;
}

const char *tinyModel = R"(nc: 80
scales:
  n: [0.33, 0.25, 1024]
  m: [0.67, 0.75, 768]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 6, C3k2, [256, False, 0.25]]
  - [-1, 1, Conv, [80, 3, 2]]
head:
  - [[-1, 1], 1, Concat, [1]]
  - [[1, 3], 1, Detect, [nc]]
)";

TEST(ParseModel, AppliesDepthWidthAndInsertion) {
  ResolvedModel m = parseText("tiny.yaml", tinyModel);
  ASSERT_EQ(m.scale, "n");
  ASSERT_EQ(m.warnings.size(), 1u); // no scale in the name: first key
  EXPECT_EQ(m.layers[0].args[1].intValue, 16);
  EXPECT_EQ(m.layers[1].repeats, 2);
  EXPECT_EQ(PyValue::list(m.layers[1].args).repr(), "[16, 64, 2, False, 0.25]");
  // The nc quirk: a raw width equal to nc is not scaled.
  EXPECT_EQ(m.layers[2].outChannels, 80);
  EXPECT_EQ(m.layers[3].outChannels, 144);
  EXPECT_EQ(PyValue::list(m.layers[4].args).repr(), "[80, [64, 144]]");
  EXPECT_TRUE(m.hasC3k2);
}

TEST(ParseModel, ForcesC3kAtLargeScales) {
  ParseOptions options;
  options.scale = "m";
  ResolvedModel m = parseText("tiny.yaml", tinyModel, options);
  EXPECT_EQ(PyValue::list(m.layers[1].args).repr(), "[48, 192, 4, True, 0.25]");
}

TEST(ParseModel, NcOverrideChangesTheQuirk) {
  ParseOptions options;
  options.nc = 2;
  ResolvedModel m = parseText("tiny.yaml", tinyModel, options);
  EXPECT_EQ(m.layers[2].outChannels, 24);
  EXPECT_EQ(m.layers[4].args[0].intValue, 2);
}

TEST(ParseModel, ReportsErrorsWithPositions) {
  try {
    parseText("bad.yaml", "backbone:\n  - [-1, 1, Conv, [64, 3, 2]]\n"
                          "head:\n  - [-1, 1, Nope, []]\n");
    FAIL() << "expected an error";
  } catch (const FrontendError &e) {
    EXPECT_EQ(e.loc.line, 4);
    EXPECT_EQ(e.loc.column, 13);
    EXPECT_NE(e.message.find("unknown module 'Nope'"), std::string::npos);
  }
}

} // namespace
