//===- FuzzTarget.h - what every irmb fuzz target shares --------*- C++ -*-===//
//
// Each fuzz/Fuzz*.cpp defines LLVMFuzzerTestOneInput over one reader. Built
// with -DIRMB_FUZZ=ON (clang, libFuzzer, ASan + UBSan) they are fuzzers;
// in the normal build the same sources link with ReplayMain.cpp into
// irmb-fuzz-replay-<name>, which runs given inputs once each, so the
// committed regression inputs are replayed by the normal test suite.
//
// A reader's documented failure (an exception carrying a message) is the
// expected outcome for a bad input; anything else — a crash, a sanitizer
// report, an exception of another kind, a hang or a huge allocation — is a
// finding.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_FUZZ_FUZZTARGET_H
#define IRMB_FUZZ_FUZZTARGET_H

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace irmb::fuzz {

/// The input as a string.
inline std::string bytesOf(const uint8_t *data, size_t size) {
  return std::string(reinterpret_cast<const char *>(data), size);
}

} // namespace irmb::fuzz

#endif // IRMB_FUZZ_FUZZTARGET_H
