#!/usr/bin/env bash
# Batch throughput: each model compiled for batch 1 and for batch 8, the
# latter image by image (--image-group 1, the default) and with all 8 images
# through every GEMM as one wider N (--image-group 8); 640x640 (IMGSZ=...),
# random weights, timed in this one run at 1 and 2 threads. Prints images/s
# and each batch-8 form's throughput over 8 batch-1 runs; the first line
# names the CPU. Usage: bench/batch.sh [RUNS] (default 20; medians of RUNS);
# MODELS="a b" picks models. Writes the table to stdout and
# bench/results/batch.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh "${1:-}"
median() { sed -n 's/.*median=\([0-9.]*\).*/\1/p' | tail -1; }
imgsz=${IMGSZ:-640}
python3 test/Reference/Inputs/make_input.py "$out/input1.npy" 1 3 "$imgsz" "$imgsz" 7
python3 test/Reference/Inputs/make_input.py "$out/input8.npy" 8 3 "$imgsz" "$imgsz" 7
table="$out/batch.md"
{
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; ${imgsz}x${imgsz}; medians of $runs"
  echo
  echo "| model | threads | batch 1 images/s | batch 8 image by image, images/s | / 8 x batch 1 | batch 8 as one N, images/s | / 8 x batch 1 |"
  echo "|---|---|---|---|---|---|---|"
} > "$table"
for model in ${MODELS:-yolov10n-iRMB yolo11n-iEMA}; do
  yaml="$shared/models/$model.yaml"
  echo "== $model: compiling batch 1 and 8 (image groups 1 and 8)" >&2
  common=(--seed 1 --imgsz "$imgsz")
  "$bin/irmb-compile" "$yaml" "${common[@]}" -o "$out/$model.b1.so" 2> /dev/null
  "$bin/irmb-compile" "$yaml" "${common[@]}" --batch 8 -o "$out/$model.b8g1.so" 2> /dev/null
  "$bin/irmb-compile" "$yaml" "${common[@]}" --batch 8 --image-group 8 \
    -o "$out/$model.b8g8.so" 2> /dev/null
  for threads in 1 2; do
    one=$(on_cpus "$threads" "$bin/irmb-run" "$out/$model.b1.so" --input "$out/input1.npy" \
            --bench "$runs" --warmup "$warmup" --threads "$threads" | median)
    g1=$(on_cpus "$threads" "$bin/irmb-run" "$out/$model.b8g1.so" --input "$out/input8.npy" \
           --bench "$((runs / 4 + 3))" --warmup 1 --threads "$threads" | median)
    g8=$(on_cpus "$threads" "$bin/irmb-run" "$out/$model.b8g8.so" --input "$out/input8.npy" \
           --bench "$((runs / 4 + 3))" --warmup 1 --threads "$threads" | median)
    awk -v m="$model" -v t="$threads" -v a="$one" -v b="$g1" -v c="$g8" \
      'BEGIN { printf "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                      m, t, 1000 / a, 8000 / b, (8000 / b) / (1000 / a),
                      8000 / c, (8000 / c) / (1000 / a) }' >> "$table"
    echo "   threads=$threads batch1=$one batch8(group 1)=$g1 batch8(group 8)=$g8" >&2
  done
done
cat "$table"
