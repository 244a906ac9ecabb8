//===- BuildLibrary.h - the host compiler driver ----------------*- C++ -*-===//
//
// Builds a generated library: writes its sources into a fresh temporary
// folder, runs the host compiler (or nvcc) there, and renames the output
// into place only when the build succeeded. Each target's headers reach the
// build folder from a table of embedded files (irmb_embed_files in
// codegen/CMakeLists.txt).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_CODEGEN_COMMON_BUILDLIBRARY_H
#define IRMB_CODEGEN_COMMON_BUILDLIBRARY_H

#include <cstddef>
#include <string>
#include <vector>

namespace irmb::codegen {

/// A file of a generated library's build folder.
struct BuildFile {
  std::string name;
  const char *data;
  size_t size;
};

/// One file embedded into irmb-compile at build time: its name and text.
/// Tables of them end with a null name.
struct EmbeddedFile {
  const char *name, *text;
};

/// `files` followed by every file of the null-terminated `table`.
std::vector<BuildFile> withEmbeddedFiles(std::vector<BuildFile> files,
                                         const EmbeddedFile *table);

/// Writes `files` into a fresh /tmp/irmb-build-* folder and runs `command`
/// there through the shell, output to build.log, with `{out}` replaced by a
/// temporary output path that is renamed to `outputPath` on success (so
/// the library appears only when the build succeeded). The folder is
/// removed unless the build failed or $IRMB_KEEP_BUILD is set. Returns ""
/// or the error: `compiler` failed, the log's last line, where the sources
/// are.
std::string buildLibrary(const std::vector<BuildFile> &files,
                         const std::string &command,
                         const std::string &compiler,
                         const std::string &outputPath);

} // namespace irmb::codegen

#endif // IRMB_CODEGEN_COMMON_BUILDLIBRARY_H
