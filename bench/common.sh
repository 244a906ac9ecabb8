# Sourced by bench/run.sh, bench/layers.sh and bench/fusion.sh from the
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

# The CPU every one-thread run is pinned to (BENCH_CPU, default the last
# online CPU). On a VM the vCPUs need not be equally fast: on the Zen 5 host
# of docs/benchmarks.md (session 20) both irmb and ONNX Runtime ran 13–25 %
# slower on CPU 0 than on CPU 1, and a process landed on either, so
# unpinned one-thread rounds of the same build read 36 or 46 ms.
bench_cpu=${BENCH_CPU:-$(($(nproc) - 1))}
on_cpus() {
  local threads=$1
  shift
  if [ "$threads" = 1 ] && command -v taskset > /dev/null; then
    taskset -c "$bench_cpu" "$@"
  else
    "$@"
  fi
}
