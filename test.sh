#!/usr/bin/env bash
# Installs every dependency (apt-get, idempotent), configures and builds irmb
# into build/ (tools in build/bin/), then runs all tests (lit + FileCheck
# suites and the GoogleTest unit tests), a short fuzzing run of every
# reader (build-fuzz/, clang-22) and the sanitized subset (build-sanitize/,
# IRMB_SANITIZE, default address,undefined). Exits non-zero on any failure.
# `./test.sh --quick`: the same install and build, then only the quick
# subset (ninja check-irmb-quick: dialect, frontend, passes, unit tests,
# fuzz replay and one compiled model, about a minute); the full suite is
# what CI runs.
set -euo pipefail
cd "$(dirname "$0")"
case "${1:-}" in
  "") ;;
  --quick) quick=1 ;;
  *) echo "usage: ./test.sh [--quick]" >&2; exit 2 ;;
esac
./scripts/install-deps.sh
./scripts/build.sh
if [ -n "${quick:-}" ]; then
  echo "== running the quick subset (ninja check-irmb-quick)"
  exec ninja -C build check-irmb-quick
fi
echo "== running tests"
# The CUDA tests need nvcc (not a GPU); GPU-executing tests skip where
# nvidia-smi finds no device. Say so up front rather than skip quietly.
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
if [ -x "$nvcc" ] || command -v nvcc > /dev/null; then
  echo "CUDA: nvcc found: the CUDA build tests run"
else
  echo "CUDA: WARNING: no nvcc (set NVCC or install the CUDA toolkit in /usr/local/cuda):" \
       "the nvcc build tests are UNSUPPORTED (the emulated CUDA tests still run)"
fi
if nvidia-smi -L > /dev/null 2>&1; then
  echo "CUDA: a GPU answers nvidia-smi: the device tests run"
else
  echo "CUDA: no GPU: test/Cuda/device-golden.test is UNSUPPORTED (needs a device)"
fi
set +e
lit-22 -sv build/test | tee build/lit.log
status=${PIPESTATUS[0]}
set -e
passed=$(grep -E '^\s*Passed' build/lit.log | grep -oE '[0-9]+' | head -1 || true)
failed=$(grep -E '^\s*Failed' build/lit.log | grep -oE '[0-9]+' | head -1 || true)
unsupported=$(grep -E '^\s*Unsupported' build/lit.log | grep -oE '[0-9]+' | head -1 || true)
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${unsupported:-0} unsupported"
# What failed, said again at the very end: CI keeps only the tail of the log.
summary=()
# The failing tests (and any sanitizer report) of a lit log, on one line.
lit_failures() {
  grep -E '^(FAIL|XPASS|UNRESOLVED|TIMEOUT): |^FAILED:|ERROR: ' "$1" | head -20 |
    sed 's/ ([0-9]* of [0-9]*)$//' | tr '\n' ' ' || true
}
if [ "$status" != 0 ]; then
  summary+=("lit (exit $status): $(lit_failures build/lit.log)")
fi
# Hostile input: every reader fuzzed for IRMB_FUZZ_SECONDS (default 60) on
# its corpus, then the sanitized build's subset (docs/reliability.md).
# IRMB_TEST_QUICK=1 skips both while iterating.
if [ -z "${IRMB_TEST_QUICK:-}" ]; then
  echo "== fuzzing each reader for ${IRMB_FUZZ_SECONDS:-60} s (scripts/fuzz.sh)"
  # A fixed seed, and 5 s per input: a slow shared CI machine under ASan
  # must not turn a 0.9 s input into a spurious hang (the 1 s bound is
  # scripts/fuzz.sh's default for real runs).
  if ! FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-5} FUZZ_FLAGS="${FUZZ_FLAGS:--seed=1}" \
      ./scripts/fuzz.sh "${IRMB_FUZZ_SECONDS:-60}" 2>&1 | tee build/fuzz.log; then
    status=1
    summary+=("fuzz: $(grep -E '^FINDING|ERROR|SUMMARY|Test unit written' build/fuzz.log \
      | head -20 | tr '\n' ' ' || true)(build/fuzz.log has the rest)")
  fi
  echo "== sanitizers: ${IRMB_SANITIZE:-address,undefined} (scripts/sanitize.sh)"
  if ! ./scripts/sanitize.sh 2>&1 | tee build/sanitize.log; then
    status=1
    summary+=("sanitizers: $(lit_failures build/sanitize.log)")
  fi
fi
if [ "$status" != 0 ]; then
  echo "== FAILED:"
  printf '  %s\n' "${summary[@]}"
else
  echo "== all passed"
fi
exit "$status"
