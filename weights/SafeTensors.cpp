//===- SafeTensors.cpp - read .safetensors checkpoints --------------------===//
//
// The header is parsed with llvm::json; every field is checked before any
// data is touched, so a hostile file yields one CheckpointError and no read
// outside the buffer.
//
//===----------------------------------------------------------------------===//
#include "weights/SafeTensors.h"

#include "llvm/Support/JSON.h"
#include <algorithm>
#include <cstring>
#include <fstream>

using namespace irmb::weights;

int64_t CheckpointTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

float irmb::weights::halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f,
           mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float irmb::weights::bfloat16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

/// Bytes per element of a safetensors dtype, or 0 when unsupported.
size_t elementSize(const std::string &dtype) {
  if (dtype == "F32")
    return 4;
  if (dtype == "F16" || dtype == "BF16")
    return 2;
  if (dtype == "I64")
    return 8;
  return 0;
}

/// A non-negative integer JSON value that fits int64.
bool asCount(const llvm::json::Value &v, int64_t &out) {
  std::optional<int64_t> i = v.getAsInteger();
  if (!i || *i < 0)
    return false;
  out = *i;
  return true;
}

} // namespace

Checkpoint irmb::weights::readSafeTensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw CheckpointError(path, "cannot open the weights file");
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  return parseSafeTensors(bytes, path);
}

Checkpoint irmb::weights::parseSafeTensors(const std::string &bytes,
                                           const std::string &path) {
  if (bytes.size() < 8)
    throw CheckpointError(path, "not a safetensors file (shorter than its "
                                "8-byte header length)");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[i]);
  if (headerLen > bytes.size() - 8 || headerLen > (uint64_t(100) << 20))
    throw CheckpointError(path, "header length " + std::to_string(headerLen) +
                                    " exceeds the file (" +
                                    std::to_string(bytes.size()) + " bytes)");
  llvm::Expected<llvm::json::Value> header =
      llvm::json::parse(llvm::StringRef(bytes.data() + 8, headerLen));
  if (!header)
    throw CheckpointError(path, "header is not valid JSON: " +
                                    llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    throw CheckpointError(path, "header is not a JSON object");
  const char *data = bytes.data() + 8 + headerLen;
  uint64_t dataSize = bytes.size() - 8 - headerLen;

  Checkpoint checkpoint;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const auto &kv : *root) {
    std::string key = kv.first.str();
    if (key == "__metadata__")
      continue;
    auto bad = [&](const std::string &what) {
      return CheckpointError(path, "tensor '" + key + "': " + what);
    };
    const llvm::json::Object *info = kv.second.getAsObject();
    if (!info)
      throw bad("entry is not an object");
    std::optional<llvm::StringRef> dtype = info->getString("dtype");
    const llvm::json::Array *shape = info->getArray("shape");
    const llvm::json::Array *offsets = info->getArray("data_offsets");
    if (!dtype || !shape || !offsets)
      throw bad("needs 'dtype', 'shape' and 'data_offsets'");
    CheckpointTensor t;
    t.dtype = dtype->str();
    size_t itemSize = elementSize(t.dtype);
    if (itemSize == 0)
      throw bad("dtype " + t.dtype + " is not supported (F32, F16, BF16, I64)");
    int64_t numel = 1;
    for (const llvm::json::Value &d : *shape) {
      int64_t extent;
      if (!asCount(d, extent) || extent > (int64_t(1) << 32))
        throw bad("shape entries must be non-negative integers");
      t.shape.push_back(extent);
      numel *= extent;
      if (numel > (int64_t(1) << 40))
        throw bad("shape is implausibly large");
    }
    int64_t begin, end;
    if (offsets->size() != 2 || !asCount((*offsets)[0], begin) ||
        !asCount((*offsets)[1], end) || begin > end)
      throw bad("data_offsets must be [begin, end] with begin <= end");
    if (static_cast<uint64_t>(end) > dataSize)
      throw bad("data_offsets [" + std::to_string(begin) + ", " +
                std::to_string(end) + "] run past the data block (" +
                std::to_string(dataSize) + " bytes)");
    if (static_cast<uint64_t>(end - begin) != numel * itemSize)
      throw bad("holds " + std::to_string(end - begin) + " bytes but its " +
                t.dtype + " shape needs " + std::to_string(numel * itemSize));
    ranges.emplace_back(begin, end);
    const char *src = data + begin;
    if (t.dtype == "I64") {
      t.isInt64 = true;
    } else {
      t.values.resize(numel);
      for (int64_t i = 0; i < numel; ++i) {
        if (t.dtype == "F32") {
          std::memcpy(&t.values[i], src + 4 * i, 4);
        } else {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          t.values[i] = t.dtype == "F16" ? halfToFloat(h) : bfloat16ToFloat(h);
        }
      }
    }
    checkpoint.emplace(key, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      throw CheckpointError(path, "two tensors overlap in the data block (at "
                                  "byte " +
                                      std::to_string(ranges[i].first) + ")");
  return checkpoint;
}
