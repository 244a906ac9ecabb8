#!/usr/bin/env bash
# Configures (once) and builds irmb into build/ with Ninja against Debian's
# MLIR 22. Set IRMB_BUILD_TYPE to override the Release default.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  echo "== configuring build/"
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE="${IRMB_BUILD_TYPE:-Release}" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir > build-configure.log 2>&1 \
    || { cat build-configure.log; exit 1; }
  rm -f build-configure.log
fi
echo "== building (ninja -C build)"
ninja -C build
