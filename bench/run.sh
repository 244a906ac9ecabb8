#!/usr/bin/env bash
# irmb CPU benchmark: for each seed model at 640x640 batch 1 and 1 and 2
# threads, the median latency of irmb (compiled .so), PyTorch eager (LibTorch,
# BN folded, the irmb-reference executor) and ONNX Runtime (npm
# onnxruntime-node@1.30.0 on ../shared/baselines), all with random weights,
# in this one run, and the ratios. Usage: bench/run.sh [RUNS] (default 20).
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
table="$out/latest.md"
{
  echo "| model | threads | irmb ms | PyTorch eager ms | ONNX Runtime ms | eager / irmb | ORT / irmb |"
  echo "|---|---|---|---|---|---|---|"
} > "$table"
for model in yolov10n yolov10n-iRMB yolov10n-C2f_iRMB; do
  echo "== $model: compiling" >&2
  "$bin/irmb-compile" "$shared/models/$model.yaml" --seed 1 -o "$out/$model.so" 2> /dev/null
  for threads in 1 2; do
    irmb=$("$bin/irmb-run" "$out/$model.so" --input "$out/input.npy" \
             --bench "$runs" --warmup "$warmup" --threads "$threads" | median)
    eager=$("$bin/irmb-reference" "$shared/models/$model.yaml" --seed 1 \
              --input "$out/input.npy" --fold-bn --bench "$((runs / 4 + 1))" \
              --warmup 1 --threads "$threads" 2> /dev/null | median)
    ort=$(node bench/ort-bench.js "$shared/baselines/$model.onnx" "$threads" \
            "$runs" "$warmup" | median)
    awk -v m="$model" -v t="$threads" -v i="$irmb" -v e="$eager" -v o="$ort" \
      'BEGIN { printf "| %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f |\n", m, t, i, e, o, e / i, o / i }' \
      >> "$table"
    echo "   threads=$threads irmb=$irmb eager=$eager ort=$ort" >&2
  done
done
cat "$table"
