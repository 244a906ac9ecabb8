#!/usr/bin/env bash
# Installs irmb's build and test dependencies from Debian, quietly and only
# when something is missing: MLIR/LLVM 22 (shared libraries, tablegen, lit,
# FileCheck), yaml-cpp, GoogleTest, LibTorch (the reference executor), CMake,
# Ninja, lld, ccache, python3 (test helpers), clang-22 with its OpenMP
# (the micro-kernel assembly test builds models with clang too), OpenCV
# (irmb_vision: image decoding, LetterBox, drawing), pybind11 + numpy
# (the Python module) and libclang-rt-22-dev (libFuzzer and the sanitizer
# runtimes of scripts/fuzz.sh).
set -euo pipefail
packages=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
          libyaml-cpp-dev libgtest-dev libtorch-dev cmake ninja-build lld ccache
          g++ python3 clang-22 libomp-22-dev libclang-rt-22-dev libopencv-dev pybind11-dev
          python3-dev python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" > /dev/null
fi
