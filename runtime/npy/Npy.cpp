//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// The header is a Python dict literal: {'descr': '<f4', 'fortran_order':
// False, 'shape': (1, 3, 640, 640), }. Every field is validated and the data
// size must match the shape exactly.
//
//===----------------------------------------------------------------------===//
#include "runtime/npy/Npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

using namespace irmb::npy;

int64_t Array::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return -1;
  return n;
}

namespace {

/// Parses the shape tuple "(1, 3, 640, 640)" / "(5,)" / "()".
bool parseShape(const std::string &text, std::vector<int64_t> &shape) {
  shape.clear();
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos)
      continue;
    item = item.substr(b, item.find_last_not_of(' ') - b + 1);
    if (item.empty() ||
        item.find_first_not_of("0123456789") != std::string::npos ||
        item.size() > 12)
      return false;
    shape.push_back(std::stoll(item));
  }
  return true;
}

} // namespace

bool irmb::npy::readNpy(const std::string &path, Array &out,
                        std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open the .npy file";
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  return parseNpy(bytes, path, out, error);
}

bool irmb::npy::parseNpy(const std::string &bytes, const std::string &path,
                         Array &out, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = path + ": not a valid .npy file: " + what;
    return false;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return fail("missing the \\x93NUMPY magic");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) |
                (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    return fail("unsupported format version " + std::to_string(major));
  }
  if (offset + headerLen > bytes.size())
    return fail("header longer than the file");
  // numpy writes headers of well under 1 KiB; a longer one would only feed
  // the regular expressions below (recursive in libstdc++) a deep stack.
  if (headerLen > 65536)
    return fail("header of " + std::to_string(headerLen) +
                " bytes (at most 65536)");
  std::string header = bytes.substr(offset, headerLen);
  static const std::regex descrRe("'descr':\\s*'([^']*)'");
  static const std::regex fortranRe("'fortran_order':\\s*(True|False)");
  static const std::regex shapeRe("'shape':\\s*(\\([0-9, ]*\\))");
  std::smatch m;
  if (!std::regex_search(header, m, descrRe))
    return fail("no 'descr' in the header");
  std::string descr = m[1].str();
  size_t itemSize;
  if (descr == "<f4") {
    out.dtype = DType::Float32;
    itemSize = 4;
  } else if (descr == "<f8") {
    out.dtype = DType::Float64;
    itemSize = 8;
  } else if (descr == "<i8") {
    out.dtype = DType::Int64;
    itemSize = 8;
  } else {
    return fail("dtype '" + descr +
                "' is not supported (float32, float64, int64, little-endian)");
  }
  if (!std::regex_search(header, m, fortranRe))
    return fail("no 'fortran_order' in the header");
  if (m[1].str() == "True")
    return fail("Fortran-ordered arrays are not supported (use C order)");
  if (!std::regex_search(header, m, shapeRe) ||
      !parseShape(m[1].str(), out.shape))
    return fail("malformed 'shape' in the header");
  // The element count, overflow-checked: it must match the data exactly.
  uint64_t count = 1;
  bool overflow = out.shape.size() > 64;
  for (int64_t d : out.shape) // every partial product stays below 2^40
    overflow |= __builtin_mul_overflow(count, static_cast<uint64_t>(d),
                                       &count) ||
                count > (uint64_t(1) << 40);
  int64_t n = overflow ? -1 : static_cast<int64_t>(count);
  size_t dataOffset = offset + headerLen;
  if (n < 0 || static_cast<uint64_t>(n) * itemSize != bytes.size() - dataOffset)
    return fail("data size " + std::to_string(bytes.size() - dataOffset) +
                " bytes does not match the shape (" + std::to_string(n) +
                " elements of " + std::to_string(itemSize) + " bytes)");
  const char *data = bytes.data() + dataOffset;
  out.values.resize(n);
  out.ints.clear();
  for (int64_t i = 0; i < n; ++i) {
    if (out.dtype == DType::Float32) {
      std::memcpy(&out.values[i], data + 4 * i, 4);
    } else if (out.dtype == DType::Float64) {
      double d;
      std::memcpy(&d, data + 8 * i, 8);
      out.values[i] = static_cast<float>(d);
    } else {
      int64_t v;
      std::memcpy(&v, data + 8 * i, 8);
      out.ints.push_back(v);
      out.values[i] = static_cast<float>(v);
    }
  }
  return true;
}

bool irmb::npy::writeNpy(const std::string &path,
                         const std::vector<int64_t> &shape, const float *values,
                         std::string &error) {
  std::string dims;
  int64_t n = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    n *= d;
  }
  if (shape.size() > 1)
    dims.erase(dims.size() - 2);
  else if (shape.size() == 1)
    dims.erase(dims.size() - 1);
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad so that the data starts on a 64-byte boundary; end with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) {
      error = path + ": cannot write the .npy file";
      return false;
    }
    out.write("\x93NUMPY\x01\x00", 8);
    char len[2] = {static_cast<char>(header.size() & 0xff),
                   static_cast<char>(header.size() >> 8)};
    out.write(len, 2);
    out << header;
    out.write(reinterpret_cast<const char *>(values), n * sizeof(float));
    if (!out) {
      error = path + ": writing the .npy file failed";
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": cannot move the written file into place";
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}
