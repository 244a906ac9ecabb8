#!/usr/bin/env bash
# Batch throughput: each model compiled for batch 1 and batch 8 (640x640,
# random weights), timed in this one run at 1 and 2 threads; prints images/s
# of both and the batch-8 gain over 8 batch-1 runs (the GEMM kernels take
# the images of a group of up to 8 as one wider N). The first line names the
# CPU. Usage: bench/batch.sh [RUNS] (default 20; medians of RUNS); MODELS="a b"
# picks models. Writes the table to stdout and bench/results/batch.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh "${1:-}"
median() { sed -n 's/.*median=\([0-9.]*\).*/\1/p' | tail -1; }
python3 test/Reference/Inputs/make_input.py "$out/input8.npy" 8 3 640 640 7
table="$out/batch.md"
{
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; medians of $runs"
  echo
  echo "| model | threads | batch 1 ms | batch 1 images/s | batch 8 ms | batch 8 images/s | batch 8 / 8 x batch 1 |"
  echo "|---|---|---|---|---|---|---|"
} > "$table"
for model in ${MODELS:-yolov10n-iRMB yolo11n-iEMA}; do
  yaml="$shared/models/$model.yaml"
  echo "== $model: compiling batch 1 and 8" >&2
  "$bin/irmb-compile" "$yaml" --seed 1 -o "$out/$model.b1.so" 2> /dev/null
  "$bin/irmb-compile" "$yaml" --seed 1 --batch 8 -o "$out/$model.b8.so" 2> /dev/null
  for threads in 1 2; do
    one=$("$bin/irmb-run" "$out/$model.b1.so" --input "$out/input.npy" \
            --bench "$runs" --warmup "$warmup" --threads "$threads" | median)
    eight=$("$bin/irmb-run" "$out/$model.b8.so" --input "$out/input8.npy" \
              --bench "$((runs / 4 + 3))" --warmup 1 --threads "$threads" | median)
    awk -v m="$model" -v t="$threads" -v a="$one" -v b="$eight" \
      'BEGIN { printf "| %s | %d | %.1f | %.2f | %.1f | %.2f | %.2f |\n",
                      m, t, a, 1000 / a, b, 8000 / b, (8000 / b) / (1000 / a) }' \
      >> "$table"
    echo "   threads=$threads batch1=$one batch8=$eight" >&2
  done
done
cat "$table"
