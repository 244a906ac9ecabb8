#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 (ASan + UBSan, build-fuzz/),
# seeds their corpora and runs each for SECONDS (default 60):
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: npy pickle pt yaml
#                                             safetensors image
# A crash, a sanitizer report, an input slower than 1 s or above 2 GB of
# memory stops that target, keeps the input in build-fuzz/findings/ and
# makes the script exit 1 (fix it, then commit the input to
# fuzz/regressions/<target>/, which the normal suite replays).
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS=-runs=10000000);
# FUZZ_TIMEOUT is the per-input limit in seconds (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(npy pickle pt yaml safetensors image)
if [ ! -f build-fuzz/build.ninja ]; then
  echo "== configuring build-fuzz/ (clang-22, libFuzzer, ASan + UBSan)"
  cmake -G Ninja -S . -B build-fuzz -DIRMB_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir > build-fuzz-configure.log 2>&1 \
    || { cat build-fuzz-configure.log; exit 1; }
  rm -f build-fuzz-configure.log
fi
echo "== building the fuzz targets (ninja -C build-fuzz)"
ninja -C build-fuzz $(printf 'irmb-fuzz-%s ' "${targets[@]}") > build-fuzz/ninja.log 2>&1 \
  || { tail -30 build-fuzz/ninja.log; exit 1; }
if [ ! -d build-fuzz/corpus ]; then
  python3 fuzz/make-seeds.py ../shared build-fuzz/corpus
fi
mkdir -p build-fuzz/findings
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs from
# the instrumented inline code of our sources, and the uninstrumented
# libMLIR then writes there: a false report, not a bug.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0}
status=0
for t in "${targets[@]}"; do
  # Inputs no longer than the seeds need: shorter inputs, more executions.
  dict=() maxlen=16384
  case $t in
    yaml) dict=(-dict=fuzz/yaml.dict) maxlen=8192 ;;
    pickle) dict=(-dict=fuzz/pickle.dict) maxlen=16384 ;;
    pt) dict=(-dict=fuzz/pickle.dict) maxlen=32768 ;;
    image) maxlen=65536 ;;
  esac
  mkdir -p "build-fuzz/corpus/$t" "fuzz/regressions/$t"
  echo "== irmb-fuzz-$t for ${seconds}s"
  log="build-fuzz/fuzz-$t.log"
  if ./build-fuzz/bin/irmb-fuzz-$t "build-fuzz/corpus/$t" "fuzz/regressions/$t" \
       "${dict[@]}" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 \
       -max_len=$maxlen -print_final_stats=1 \
       -artifact_prefix="build-fuzz/findings/$t-" ${FUZZ_FLAGS:-} > "$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "$log" | tail -3
  else
    echo "FINDING in $t:"; grep -E "ERROR|SUMMARY|Test unit written|timeout|out-of-memory" "$log" | head -8
    status=1
  fi
done
exit $status
