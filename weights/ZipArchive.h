//===- ZipArchive.h - read the stored zip archive of a .pt file -*- C++ -*-===//
//
// PyTorch's `torch.save` writes a zip archive whose members are all stored
// (not compressed), with ZIP64 records, under one top folder. ZipArchive
// reads such a file as untrusted input: the end-of-central-directory record
// (and its ZIP64 form), every central-directory entry and local header,
// checked against the file's size before anything is read; members must be
// stored, and a member's CRC-32 is verified when it is read. Errors are
// CheckpointError naming the file and the member.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_WEIGHTS_ZIPARCHIVE_H
#define IRMB_WEIGHTS_ZIPARCHIVE_H

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace irmb::weights {

/// A whole zip file in memory and the index of its members.
class ZipArchive {
public:
  /// Reads and indexes `path`. Throws CheckpointError.
  static ZipArchive open(const std::string &path);

  /// Indexes the archive held in `bytes` (`path` names it in errors).
  static ZipArchive fromBytes(std::string bytes, const std::string &path);

  /// True when the first bytes of `path` are a zip local-file header.
  static bool looksLikeZip(const std::string &path);

  /// The folder every member sits under (`best` for `best/data.pkl`), taken
  /// from the first member as torch.load does; empty for a flat archive.
  const std::string &prefix() const { return topFolder; }

  /// True when `prefix()/name` is a member.
  bool contains(const std::string &name) const;

  /// The bytes of `prefix()/name`, CRC-checked. Throws CheckpointError when
  /// the member is missing or damaged.
  std::string_view read(const std::string &name) const;

  /// The size in bytes of `prefix()/name` (throws when missing).
  uint64_t size(const std::string &name) const;

  /// The file's path, for messages.
  const std::string &path() const { return filePath; }

  /// The file's size in bytes.
  uint64_t fileSize() const { return bytes.size(); }

private:
  struct Member {
    uint64_t dataOffset = 0, size = 0;
    uint32_t crc = 0;
  };
  const Member &member(const std::string &name) const;

  std::string filePath, bytes, topFolder;
  std::map<std::string, Member> members; ///< by full name
  mutable std::set<std::string> verified; ///< members whose CRC was checked
};

} // namespace irmb::weights

#endif // IRMB_WEIGHTS_ZIPARCHIVE_H
