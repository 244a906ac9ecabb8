//===- BuildLibrary.cpp - the host compiler driver ------------------------===//
//
// Temporary build folders and the compiler command (BuildLibrary.h).
//
//===----------------------------------------------------------------------===//
#include "codegen/common/BuildLibrary.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace irmb::codegen {

std::vector<BuildFile> withEmbeddedFiles(std::vector<BuildFile> files,
                                         const EmbeddedFile *table) {
  for (const EmbeddedFile *f = table; f->name; ++f)
    files.push_back({f->name, f->text, std::strlen(f->text)});
  return files;
}

std::string buildLibrary(const std::vector<BuildFile> &files,
                         const std::string &command,
                         const std::string &compiler,
                         const std::string &outputPath) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/irmb-build-XXXXXX";
  if (!mkdtemp(tmpl))
    return "cannot create a temporary build folder";
  fs::path dir(tmpl);
  for (const BuildFile &f : files)
    std::ofstream(dir / f.name, std::ios::binary).write(f.data, f.size);
  std::string tmpOut = fs::absolute(outputPath + ".tmp").string();
  std::string line = command;
  for (size_t at = line.find("{out}"); at != std::string::npos;
       at = line.find("{out}"))
    line.replace(at, 5, "'" + tmpOut + "'");
  line = "cd '" + dir.string() + "' && " + line + " > build.log 2>&1";
  if (std::system(line.c_str()) != 0) {
    std::ifstream log(dir / "build.log");
    std::string text, last;
    while (std::getline(log, text))
      if (!text.empty() && last.find("error") == std::string::npos)
        last = text;
    std::remove(tmpOut.c_str());
    if (last.empty())
      last = "no output";
    return compiler + " failed (" + last + "); sources and build.log kept in " +
           dir.string();
  }
  std::error_code ec;
  fs::rename(tmpOut, outputPath, ec);
  if (ec)
    return "cannot write '" + outputPath + "': " + ec.message();
  if (std::getenv("IRMB_KEEP_BUILD"))
    std::fprintf(stderr, "irmb-compile: sources kept in %s\n",
                 dir.string().c_str());
  else
    fs::remove_all(dir, ec);
  return "";
}

} // namespace irmb::codegen
