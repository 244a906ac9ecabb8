//===- ReplayMain.cpp - run fuzz inputs once, without libFuzzer -----------===//
//
// irmb-fuzz-replay-<name> FILE|DIR...: feeds each file (and every file of
// each folder, dotfiles skipped) to the target's LLVMFuzzerTestOneInput and
// prints `replayed N inputs`. A crash or an
// escaping exception ends the process with a failure, which is how the
// normal test suite keeps every committed regression input fixed.
//
//===----------------------------------------------------------------------===//
#include "fuzz/FuzzTarget.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>
#include <iterator>
#include <string>

int main(int argc, char **argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (std::filesystem::is_directory(argv[i], ec)) {
      for (const auto &e : std::filesystem::directory_iterator(argv[i]))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          files.push_back(e.path().string());
    } else {
      files.push_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());
  int replayed = 0;
  for (const std::string &file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "error: %s: cannot open\n", file.c_str());
      return 2;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                           bytes.size());
    ++replayed;
  }
  std::printf("replayed %d inputs\n", replayed);
  return 0;
}
