#!/usr/bin/env bash
# Builds the tools, the runtime, the unit tests (the AVX-512 kernel tests
# too: test/Unit runs them where the CPU has AVX-512F), the load test and
# the fuzz replay drivers with sanitizers into build-sanitize/ (GCC, -fsanitize=
# $IRMB_SANITIZE, default address,undefined) and runs the unit tests and a
# representative lit subset there: the frontend and its errors, the
# reference executor, checkpoint and .pt errors, the fuzz regressions, the
# runtime under load, and compiled models of every kernel family with the
# generated code built sanitized too (IRMB_CXXFLAGS). Exits non-zero on any
# failure or sanitizer report. `IRMB_SANITIZE=address,undefined ./test.sh`
# runs this; plain ./test.sh runs it too, after the main suite.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=${IRMB_SANITIZE:-address,undefined}
dir=build-sanitize
if [ ! -f $dir/build.ninja ]; then
  echo "== configuring $dir/ (-fsanitize=$sanitize)"
  # -O1: sanitizer builds compile much faster, and the heavy numerics run in
  # the compiled models (built -O3 with the same sanitizers) and LibTorch.
  cmake -G Ninja -S . -B $dir -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O1 \
    -DIRMB_SANITIZE="$sanitize" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir > $dir-configure.log 2>&1 \
    || { cat $dir-configure.log; exit 1; }
  rm -f $dir-configure.log
fi
echo "== building the sanitized tools and tests (ninja -C $dir)"
ninja -C $dir irmb-compile irmb-run irmb-reference irmb-npy-compare irmb-opt \
  irmb-unittests irmb-kernels-avx512-tests irmb-runtime-load-test \
  $(printf 'irmb-fuzz-replay-%s ' npy pickle pt yaml safetensors image)
# Leaks are checked by the load test (resident memory); LeakSanitizer would
# report the process-lifetime statics of MLIR, LLVM and LibTorch at exit.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons slabs from our
# instrumented inline code that the uninstrumented libMLIR then fills.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allow_user_poisoning=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The compiled models are built with the same sanitizers.
export IRMB_CXXFLAGS="${IRMB_CXXFLAGS:-} -fsanitize=$sanitize -fno-sanitize-recover=all"
echo "== running the sanitized subset"
lit-22 -sv $dir/test/Frontend $dir/test/Unit $dir/test/Fuzz $dir/test/Runtime \
  $dir/test/Reference/checkpoint-errors.test $dir/test/Reference/golden-y11n-iema.test \
  $dir/test/Weights/pt-hostile.test $dir/test/Codegen/irmb-run.test \
  $dir/test/Codegen/golden-yolov10n-iRMB.test $dir/test/Codegen/golden-yolov10n.test \
  $dir/test/Codegen/golden-yolo11n-iEMA.test
