//===- ZipArchive.cpp - read the stored zip archive of a .pt file ---------===//
//
// The end-of-central-directory record is searched for in the last 64 KiB +
// 22 bytes, as the format allows a comment of up to 65535 bytes. Sizes and
// offsets of 0xFFFFFFFF are taken from the ZIP64 extra field. Every range is
// checked against the file before it is read.
//
//===----------------------------------------------------------------------===//
#include "weights/ZipArchive.h"

#include "weights/SafeTensors.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/CRC.h"
#include <fstream>

using namespace irmb::weights;

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50,
                   kEndRecord = 0x06054b50, kZip64EndRecord = 0x06064b50,
                   kZip64Locator = 0x07064b50;

/// The largest `.pt` file read (checkpoints of the models irmb compiles are
/// 5–300 MB).
constexpr uint64_t kMaxFileBytes = uint64_t(4) << 30;
/// The most members an archive may have.
constexpr uint64_t kMaxMembers = 1 << 20;

/// Little-endian reads at an offset already checked by the caller.
uint64_t readLE(const std::string &bytes, uint64_t at, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

} // namespace

bool ZipArchive::looksLikeZip(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && magic[0] == 'P' && magic[1] == 'K' &&
         magic[2] == 3 && magic[3] == 4;
}

ZipArchive ZipArchive::open(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw CheckpointError(path, "cannot open the checkpoint");
  std::streamoff length = in.tellg();
  if (length < 0)
    throw CheckpointError(path, "cannot read the checkpoint");
  if (static_cast<uint64_t>(length) > kMaxFileBytes)
    throw CheckpointError(path, "checkpoint larger than 4 GiB");
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), length))
    throw CheckpointError(path, "cannot read the checkpoint");
  return fromBytes(std::move(bytes), path);
}

ZipArchive ZipArchive::fromBytes(std::string bytes, const std::string &path) {
  ZipArchive zip;
  zip.filePath = path;
  zip.bytes = std::move(bytes);
  if (zip.bytes.size() > kMaxFileBytes)
    throw CheckpointError(path, "checkpoint larger than 4 GiB");
  const std::string &b = zip.bytes;
  const uint64_t n = b.size();
  auto fail = [&](const std::string &what) -> CheckpointError {
    return CheckpointError(path, "zip archive: " + what);
  };
  auto need = [&](uint64_t at, uint64_t len, const char *what) {
    if (at > n || len > n - at)
      throw fail(std::string(what) + " at offset " + std::to_string(at) +
                 " runs past the end of the file (" + std::to_string(n) +
                 " bytes; truncated?)");
  };

  // End of central directory.
  if (n < 22)
    throw fail("too short for a zip file");
  uint64_t end = UINT64_MAX;
  uint64_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (uint64_t at = n - 22 + 1; at-- > lowest;)
    if (readLE(b, at, 4) == kEndRecord && at + 22 + readLE(b, at + 20, 2) == n) {
      end = at;
      break;
    }
  if (end == UINT64_MAX)
    throw fail("no end-of-central-directory record (not a zip file, or "
               "truncated)");
  uint64_t entries = readLE(b, end + 10, 2);
  uint64_t cdSize = readLE(b, end + 12, 4);
  uint64_t cdOffset = readLE(b, end + 16, 4);
  if (end >= 20 && readLE(b, end - 20, 4) == kZip64Locator) {
    uint64_t at = readLE(b, end - 20 + 8, 8);
    need(at, 56, "the ZIP64 end record");
    if (readLE(b, at, 4) != kZip64EndRecord)
      throw fail("bad ZIP64 end-record signature at offset " +
                 std::to_string(at));
    entries = readLE(b, at + 32, 8);
    cdSize = readLE(b, at + 40, 8);
    cdOffset = readLE(b, at + 48, 8);
  }
  if (entries == 0)
    throw fail("the archive has no members");
  if (entries > kMaxMembers)
    throw fail(std::to_string(entries) + " members (more than " +
               std::to_string(kMaxMembers) + ")");
  need(cdOffset, cdSize, "the central directory");

  // Central directory entries.
  uint64_t at = cdOffset;
  for (uint64_t i = 0; i < entries; ++i) {
    need(at, 46, "a central-directory entry");
    if (readLE(b, at, 4) != kCentralHeader)
      throw fail("bad central-directory signature at offset " +
                 std::to_string(at));
    uint64_t flags = readLE(b, at + 8, 2), method = readLE(b, at + 10, 2);
    uint32_t crc = static_cast<uint32_t>(readLE(b, at + 16, 4));
    uint64_t compSize = readLE(b, at + 20, 4), size = readLE(b, at + 24, 4);
    uint64_t nameLen = readLE(b, at + 28, 2), extraLen = readLE(b, at + 30, 2),
             commentLen = readLE(b, at + 32, 2);
    uint64_t local = readLE(b, at + 42, 4);
    need(at + 46, nameLen + extraLen + commentLen, "a member name");
    std::string name = b.substr(at + 46, nameLen);
    // ZIP64 extra field: the 0xFFFFFFFF fields, in this order.
    uint64_t extra = at + 46 + nameLen, extraEnd = extra + extraLen;
    while (extra + 4 <= extraEnd) {
      uint64_t id = readLE(b, extra, 2), len = readLE(b, extra + 2, 2);
      if (extra + 4 + len > extraEnd)
        throw fail("member '" + name + "': extra field runs past its entry");
      if (id == 1) {
        uint64_t p = extra + 4, stop = p + len;
        auto take = [&](uint64_t &field) {
          if (field != 0xFFFFFFFFu)
            return;
          if (p + 8 > stop)
            throw fail("member '" + name + "': short ZIP64 extra field");
          field = readLE(b, p, 8);
          p += 8;
        };
        take(size);
        take(compSize);
        take(local);
      }
      extra += 4 + len;
    }
    if (flags & 1)
      throw fail("member '" + name + "' is encrypted");
    if (method != 0 || compSize != size)
      throw fail("member '" + name + "' is compressed (method " +
                 std::to_string(method) +
                 "); torch.save stores members uncompressed");
    need(local, 30, "the local header of a member");
    if (readLE(b, local, 4) != kLocalHeader)
      throw fail("member '" + name + "': bad local-header signature at offset " +
                 std::to_string(local));
    uint64_t data = local + 30 + readLE(b, local + 26, 2) +
                    readLE(b, local + 28, 2);
    need(data, size, ("member '" + name + "'").c_str());
    if (name.empty() || !zip.members.emplace(name, Member{data, size, crc}).second)
      throw fail("duplicate or empty member name '" + name + "'");
    if (i == 0) {
      size_t slash = name.find('/');
      zip.topFolder = slash == std::string::npos ? "" : name.substr(0, slash);
    }
    at += 46 + nameLen + extraLen + commentLen;
  }
  return zip;
}

const ZipArchive::Member &ZipArchive::member(const std::string &name) const {
  std::string full = topFolder.empty() ? name : topFolder + "/" + name;
  auto it = members.find(full);
  if (it == members.end())
    throw CheckpointError(filePath, "zip archive has no member '" + full + "'");
  return it->second;
}

bool ZipArchive::contains(const std::string &name) const {
  return members.count(topFolder.empty() ? name : topFolder + "/" + name) != 0;
}

uint64_t ZipArchive::size(const std::string &name) const {
  return member(name).size;
}

std::string_view ZipArchive::read(const std::string &name) const {
  const Member &m = member(name);
  std::string_view data(bytes.data() + m.dataOffset, m.size);
  if (verified.count(name))
    return data;
  uint32_t crc = llvm::crc32(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(data.data()), data.size()));
  if (crc != m.crc)
    throw CheckpointError(filePath, "zip member '" + name +
                                        "' is damaged (CRC-32 mismatch)");
  verified.insert(name);
  return data;
}
