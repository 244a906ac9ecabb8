# Sourced by bench/run.sh, layers.sh, fusion.sh and batch.sh from the
# repository root with the script's RUNS argument: the timed and warm-up run
# counts, the tool and shared folders, bench/results/ and its 640x640 random
# input, and `on_cpus THREADS CMD...`, which runs a one-thread command pinned
# to one CPU.
runs=${1:-20}
warmup=3
bin=build/bin
shared=../shared
out=bench/results
mkdir -p "$out"
python3 test/Reference/Inputs/make_input.py "$out/input.npy" 1 3 640 640 7

# The CPU every one-thread run is pinned to (BENCH_CPU, default the last CPU
# this process may run on: its affinity list, not nproc, which follows
# OMP_NUM_THREADS), or "none" without taskset. On a VM the vCPUs need not be
# equally fast: on the Zen 5 host of docs/benchmarks.md (session 20) both
# irmb and ONNX Runtime ran 13–25 % slower on CPU 0 than on CPU 1, and a
# process landed on either, so unpinned one-thread rounds of the same build
# read 36 or 46 ms.
if command -v taskset > /dev/null; then
  bench_cpu=${BENCH_CPU:-$(taskset -pc $$ | sed 's/.*: *//; s/.*[,-]//')}
else
  bench_cpu=none
fi
on_cpus() {
  local threads=$1
  shift
  if [ "$threads" = 1 ] && [ "$bench_cpu" != none ]; then
    taskset -c "$bench_cpu" "$@"
  else
    "$@"
  fi
}
