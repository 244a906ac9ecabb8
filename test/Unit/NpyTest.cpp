//===- NpyTest.cpp - unit tests of the .npy reader and writer -------------===//
//
// Round trips, every supported dtype, and the validation of malformed files.
//
//===----------------------------------------------------------------------===//
#include "runtime/npy/Npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>

using namespace irmb::npy;

namespace {

std::string tempPath(const char *name) { return ::testing::TempDir() + name; }

/// Writes a .npy file with the given header dict and raw data bytes.
void writeRaw(const std::string &path, const std::string &dict,
              const std::string &data) {
  std::string header = dict;
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {static_cast<char>(header.size() & 0xff),
                 static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header << data;
}

TEST(Npy, RoundTripsFloat32) {
  std::string path = tempPath("a.npy"), error;
  std::vector<float> values{1.5f, -2.f, 3.25f, 0.f, 7.f, 8.f};
  ASSERT_TRUE(writeNpy(path, {1, 2, 3}, values.data(), error)) << error;
  Array a;
  ASSERT_TRUE(readNpy(path, a, error)) << error;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.values, values);
  EXPECT_EQ(a.dtype, DType::Float32);
}

TEST(Npy, ReadsFloat64AndInt64) {
  std::string path = tempPath("b.npy"), error;
  double d[2] = {0.5, -1.25};
  writeRaw(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
           std::string(reinterpret_cast<char *>(d), sizeof d));
  Array a;
  ASSERT_TRUE(readNpy(path, a, error)) << error;
  EXPECT_EQ(a.values, (std::vector<float>{0.5f, -1.25f}));
  int64_t i[3] = {1, -2, 300};
  writeRaw(path, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
           std::string(reinterpret_cast<char *>(i), sizeof i));
  ASSERT_TRUE(readNpy(path, a, error)) << error;
  EXPECT_EQ(a.ints, (std::vector<int64_t>{1, -2, 300}));
}

TEST(Npy, RejectsMalformedFiles) {
  std::string path = tempPath("c.npy"), error;
  Array a;
  std::ofstream(path) << "not numpy";
  EXPECT_FALSE(readNpy(path, a, error));
  EXPECT_NE(error.find("magic"), std::string::npos);
  writeRaw(path, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
           "abcd");
  EXPECT_FALSE(readNpy(path, a, error));
  EXPECT_NE(error.find("dtype '>f4'"), std::string::npos);
  writeRaw(path, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
           "abcd");
  EXPECT_FALSE(readNpy(path, a, error));
  EXPECT_NE(error.find("Fortran"), std::string::npos);
  writeRaw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
           "abcd");
  EXPECT_FALSE(readNpy(path, a, error));
  EXPECT_NE(error.find("does not match the shape"), std::string::npos);
  EXPECT_FALSE(readNpy(tempPath("missing.npy"), a, error));
}

} // namespace
