#!/usr/bin/env bash
# irmb against ONNX Runtime layer by layer: for one model (default
# yolo11n) at THREADS threads (default 1), irmb's per-kernel times
# (irmb-run --profile) and ORT's per-node kernel times (its profiler,
# bench/ort-layers.js) summed per Ultralytics layer `model.N`, side by
# side with the difference, so the layers where irmb loses stand out.
# ORT's layout reorders and other nodes outside a layer are layer -1;
# profiling costs ORT a few per cent (its total is a little above ort-bench.js).
# Usage: bench/layers.sh [RUNS] (default 20). MODEL=yolov10n THREADS=2.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh "${1:-}"
model=${MODEL:-yolo11n}
threads=${THREADS:-1}
if [ ! -d bench/node_modules/onnxruntime-node ]; then
  echo "== installing onnxruntime-node@1.30.0 (npm, --ignore-scripts)" >&2
  (cd bench && npm install --silent --no-audit --no-fund --ignore-scripts \
     --no-save onnxruntime-node@1.30.0 > /dev/null)
fi
yaml="$shared/models/$model.yaml"
args=()
if [ "$model" = yolo11n ]; then
  yaml="$shared/models/yolo11.yaml"
  args=(--scale n)
fi
echo "== $model: compiling" >&2
"$bin/irmb-compile" "$yaml" "${args[@]}" --seed 1 -o "$out/$model.so" 2> /dev/null
echo "== timing irmb ($runs runs) and ONNX Runtime ($runs runs, profiled)" >&2
on_cpus "$threads" "$bin/irmb-run" "$out/$model.so" --input "$out/input.npy" --threads "$threads" \
    --profile --bench "$runs" --warmup "$warmup" |
  awk -v runs="$runs" 'NF == 6 && $1 ~ /^model_/ { print "irmb", $2, $4 / runs }' > "$out/layers-irmb.txt"
on_cpus "$threads" node bench/ort-layers.js "$shared/baselines/$model.onnx" "$threads" "$runs" |
  awk '{ print "ort", $2, $3 }' > "$out/layers-ort.txt"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1); $model, $threads thread(s), ms per forward"
cat "$out/layers-irmb.txt" "$out/layers-ort.txt" | awk '
  { t[$1, $2] += $3; seen[$2] = 1 }
  END {
    printf "%6s %9s %9s %9s\n", "layer", "irmb", "ORT", "irmb-ORT"
    n = 0
    for (l in seen) keys[++n] = l + 0
    for (i = 1; i <= n; ++i)            # insertion sort (portable awk)
      for (j = i; j > 1 && keys[j - 1] > keys[j]; --j) {
        k = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = k
      }
    for (i = 1; i <= n; ++i) {
      l = keys[i]; a = t["irmb", l] + 0; b = t["ort", l] + 0
      printf "%6d %9.3f %9.3f %+9.3f\n", l, a, b, a - b
      sa += a; sb += b
    }
    printf "%6s %9.3f %9.3f %+9.3f\n", "total", sa, sb, sa - sb
  }'
