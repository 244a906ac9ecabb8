#!/usr/bin/env bash
# irmb CPU benchmark. First the machine: the CPU (lscpu model name) and its
# FMA peak of one core, measured here (bench/fma-peak.cpp, AVX2 and, where
# the CPU has it, AVX-512). Then for each model at 640x640 batch 1 and 1 and
# 2 threads, in this one run and with random weights: the median latency of
# irmb (compiled .so) and ONNX Runtime (npm onnxruntime-node@1.30.0 on
# ../shared/baselines), timed in three alternating rounds (the median of the
# round medians, so a drifting host slows both alike), PyTorch eager
# (LibTorch, BN folded, the irmb-reference executor), the ratios, and irmb's GFLOP/s (2 x the deployed
# model's multiply-adds, irmb-compile --summary) as a share of the FMA floor
# (the peak of the ISA the model was built for, times the threads).
# One-thread runs (and the FMA probe) of all three systems are pinned to one
# CPU (BENCH_CPU, default the last; see bench/common.sh).
# Usage: bench/run.sh [RUNS] (default 20 runs, in three rounds). MODELS="a b"
# picks models; IRMB_CXXFLAGS (e.g. -mtune=generic) reaches the model build.
# Writes the table to stdout and bench/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh "${1:-}"
if [ ! -d bench/node_modules/onnxruntime-node ]; then
  echo "== installing onnxruntime-node@1.30.0 (npm, --ignore-scripts)" >&2
  (cd bench && npm install --silent --no-audit --no-fund --ignore-scripts \
     --no-save onnxruntime-node@1.30.0 > /dev/null)
fi
median() { sed -n 's/.*median=\([0-9.]*\).*/\1/p' | tail -1; }
rounds=3
per=$(((runs + rounds - 1) / rounds))

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
family=$(lscpu | sed -n 's/^CPU family: *//p' | head -1)
cpumodel=$(lscpu | sed -n 's/^Model: *//p' | head -1)
isa=avx2
grep -q ' avx512f' /proc/cpuinfo && isa=avx512
c++ -O2 -mavx2 -mfma -I. bench/fma-peak.cpp -o "$out/fma-peak-avx2"
peak_avx2=$(on_cpus 1 "$out/fma-peak-avx2" | awk '{print $3}')
peak=$peak_avx2
peaks="AVX2 $peak_avx2 GFLOP/s"
if [ "$isa" = avx512 ]; then
  c++ -O2 -mavx512f -I. bench/fma-peak.cpp -o "$out/fma-peak-avx512"
  peak=$(on_cpus 1 "$out/fma-peak-avx512" | awk '{print $3}')
  peaks="AVX-512 $peak GFLOP/s, $peaks"
fi

pinning="on CPU $bench_cpu"
[ "$bench_cpu" = none ] && pinning="unpinned (no taskset)"
table="$out/latest.md"
{
  echo "CPU: $cpu (family $family model $cpumodel), $(nproc) CPUs; FMA peak of one core: $peaks;" \
       "models built for $isa${IRMB_CXXFLAGS:+ with $IRMB_CXXFLAGS}; medians of $rounds" \
       "alternating rounds of $per runs; 1-thread runs $pinning"
  echo
  echo "| model | threads | irmb ms | ONNX Runtime ms | ORT / irmb | PyTorch eager ms | eager / irmb | irmb GFLOP/s | % of FMA floor |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$table"
head -1 "$table" >&2
for model in ${MODELS:-yolov10n-iRMB yolov10n-C2f_iRMB yolo11n-iEMA yolov10n yolo11n}; do
  yaml="$shared/models/$model.yaml"
  args=()
  if [ "$model" = yolo11n ]; then
    yaml="$shared/models/yolo11.yaml"
    args=(--scale n)
  fi
  gflop=$("$bin/irmb-compile" "$yaml" "${args[@]}" --summary | tail -1 |
            sed -n 's/.* \([0-9.]*\) GFLOPs.*/\1/p')
  echo "== $model ($gflop GFLOP): compiling" >&2
  "$bin/irmb-compile" "$yaml" "${args[@]}" --seed 1 -o "$out/$model.so" 2> /dev/null
  for threads in 1 2; do
    # irmb and ORT alternate in $rounds rounds of $per runs each, and each
    # reports the median of its round medians: on a shared host whose speed
    # drifts over minutes, both then see the same drift.
    irmbs=() orts=()
    for ((r = 0; r < rounds; ++r)); do
      irmbs+=("$(on_cpus "$threads" "$bin/irmb-run" "$out/$model.so" --input "$out/input.npy" \
                   --bench "$per" --warmup "$warmup" --threads "$threads" |
                 median)")
      orts+=("$(on_cpus "$threads" node bench/ort-bench.js "$shared/baselines/$model.onnx" \
                  "$threads" "$per" "$warmup" | median)")
    done
    irmb=$(printf '%s\n' "${irmbs[@]}" | sort -g | sed -n "$((rounds / 2 + 1))p")
    ort=$(printf '%s\n' "${orts[@]}" | sort -g | sed -n "$((rounds / 2 + 1))p")
    eager=$(on_cpus "$threads" "$bin/irmb-reference" "$yaml" "${args[@]}" --seed 1 \
              --input "$out/input.npy" --fold-bn --bench "$((runs / 4 + 1))" \
              --warmup 1 --threads "$threads" 2> /dev/null | median)
    awk -v m="$model" -v t="$threads" -v i="$irmb" -v e="$eager" -v o="$ort" \
        -v g="$gflop" -v p="$peak" \
      'BEGIN { rate = g / (i / 1000);
               printf "| %s | %d | %.1f | %.1f | %.2f | %.1f | %.2f | %.1f | %.0f %% |\n",
                      m, t, i, o, o / i, e, e / i, rate, 100 * rate / (p * t) }' \
      >> "$table"
    echo "   threads=$threads irmb=$irmb (rounds ${irmbs[*]}) ort=$ort" \
         "(rounds ${orts[*]}) eager=$eager" >&2
  done
done
cat "$table"
