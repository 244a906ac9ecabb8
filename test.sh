#!/usr/bin/env bash
# Installs every dependency (apt-get, idempotent), configures and builds irmb
# into build/ (tools in build/bin/), then runs all tests (lit + FileCheck
# suites and the GoogleTest unit tests). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh
echo "== running tests"
set +e
lit-22 -sv build/test | tee build/lit.log
status=${PIPESTATUS[0]}
set -e
passed=$(grep -E '^\s*Passed' build/lit.log | grep -oE '[0-9]+' | head -1 || true)
failed=$(grep -E '^\s*Failed' build/lit.log | grep -oE '[0-9]+' | head -1 || true)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
