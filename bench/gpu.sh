#!/usr/bin/env bash
# bench/gpu.sh prepare | run — irmb's CUDA target against PyTorch eager and
# torch.compile (max-autotune) on a lent GPU, in one device call.
#
# The GPU host has nvcc and PyTorch but no MLIR, so the work is split in two:
#
#   prepare (here, after ./test.sh or scripts/build.sh):
#     ULTRALYTICS_GIT=/work/.mirror/THU-MIG+yolov10/repo bench/gpu.sh prepare
#     Writes bench/gpu-build/ (git-ignored), which holds:
#       - the CUDA sources of each seed model (yolov10n-iRMB with the golden
#         weights, yolov10n-C2f_iRMB with random ones) for fp32/fp16 at batch
#         1 and 32, plus fp16/bf16 golden variants (irmb-compile
#         --cuda-sources; one weights.bin per model, linked);
#       - the golden case;
#       - the Ultralytics tree of THU-MIG/yolov10 (never committed).
#
#   run (on the device):
#     device run: command "bash bench/gpu.sh run", carry ["bench/gpu-build"]
#     It then:
#       1. builds every model with nvcc, in parallel;
#       2. builds the runtime, irmb_gpu_bench and irmb-npy-compare from source;
#       3. checks the golden case in fp32 / fp16 / bf16 against the bounds of
#          docs/cuda.md, and the PyTorch model against the same golden raw
#          output;
#       4. times irmb (CUDA graph, device buffers) and PyTorch (eager fp32 and
#          fp16, torch.compile max-autotune fp16) at batch 1 and 32;
#       5. prints a table of medians and ratios last, and copies it and the
#          logs to $OUT.
#     BENCH_RUNS (default 200) sets the timed forwards; TORCH_MODES (default
#     eager-fp32,eager-fp16,compile-fp16) and TORCH_MODELS (default both seed
#     models) trim the PyTorch side when max-autotune compiles would not fit
#     one 10-minute call (run the rest in a second call).
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=bench/gpu-build
MODELS="yolov10n-iRMB yolov10n-C2f_iRMB"
GOLDEN=../shared/golden

prepare() {
  local compile=build/bin/irmb-compile
  [ -x "$compile" ] || { echo "bench/gpu.sh: build first (scripts/build.sh)" >&2; exit 1; }
  [ -n "${ULTRALYTICS_GIT:-}" ] || {
    echo "bench/gpu.sh: set ULTRALYTICS_GIT to a git folder of THU-MIG/yolov10" >&2; exit 1; }
  rm -rf "$STAGE"
  mkdir -p "$STAGE/golden" "$STAGE/models"
  cp "$GOLDEN"/v10n-irmb-head.{input,raw,final}.npy "$GOLDEN"/v10n-irmb-head.safetensors "$STAGE/golden/"
  git --git-dir="$ULTRALYTICS_GIT" archive HEAD ultralytics | tar -x -C "$STAGE"
  cp ../shared/models/yolov10n-iRMB.yaml ../shared/models/yolov10n-C2f_iRMB.yaml "$STAGE/"
  local variants=()
  for model in $MODELS; do
    for precision in fp32 fp16; do
      for batch in 1 32; do variants+=("$model $precision $batch"); done
    done
  done
  variants+=("yolov10n-iRMB fp16 golden" "yolov10n-iRMB bf16 golden")
  for v in "${variants[@]}"; do
    read -r model precision batch <<< "$v"
    local weights=(--seed 1) b=$batch
    if [ "$model" = yolov10n-iRMB ]; then weights=(--weights "$GOLDEN/v10n-irmb-head.safetensors"); fi
    [ "$batch" = golden ] && b=1
    local dir="$STAGE/models/$model.$precision.b$batch"
    echo "prepare: $model $precision batch $batch"
    "$compile" "../shared/models/$model.yaml" "${weights[@]}" --target cuda \
      --precision "$precision" --batch "$b" --cuda-sources "$dir" 2> /dev/null
    # One blob per model: the variants link to it.
    if [ -f "$STAGE/models/$model.weights.bin" ]; then
      cmp -s "$dir/weights.bin" "$STAGE/models/$model.weights.bin" &&
        ln -sf "../$model.weights.bin" "$dir/weights.bin"
    else
      mv "$dir/weights.bin" "$STAGE/models/$model.weights.bin"
      ln -s "../$model.weights.bin" "$dir/weights.bin"
    fi
  done
  # The golden fp32 variant is the batch-1 timing build.
  du -sh "$STAGE"
}

run() {
  local out=${OUT:-$STAGE/out} runs=${BENCH_RUNS:-200}
  mkdir -p "$out"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
  echo "== build (nvcc, parallel)"
  ls -d "$STAGE"/models/*/ | xargs -P 8 -I{} sh -c 'sh {}build.sh > {}build.log 2>&1 || { echo "FAILED {}"; cat {}build.log; }'
  nvcc -std=c++17 -O2 -I. -Iruntime/include bench/gpu/irmb_gpu_bench.cu runtime/cpu/Runtime.cpp \
    runtime/cpu/Postprocess.cpp -ldl -o "$STAGE/irmb_gpu_bench"
  g++ -std=c++17 -O2 -I. -Iruntime/include tools/irmb-npy-compare/irmb-npy-compare.cpp \
    runtime/npy/Npy.cpp -o "$STAGE/irmb-npy-compare"
  g++ -std=c++17 -O2 -I. -Iruntime/include tools/irmb-run/irmb-run.cpp runtime/npy/Npy.cpp \
    runtime/cpu/Runtime.cpp runtime/cpu/Postprocess.cpp -ldl -o "$STAGE/irmb-run"

  echo "== correctness (golden v10n-irmb-head, 640x640)"
  local g=$STAGE/golden/v10n-irmb-head cmp=$STAGE/irmb-npy-compare
  "$STAGE/irmb-run" "$STAGE/models/yolov10n-iRMB.fp32.b1/model.so" --input "$g.input.npy" \
    --raw "$out/fp32.raw.npy" --output "$out/fp32.final.npy"
  "$cmp" "$g.raw.npy" "$out/fp32.raw.npy" --boxes-rel-l2 1e-4 --scores-max-abs 2e-4 | sed 's/^/fp32 /'
  "$cmp" "$g.final.npy" "$out/fp32.final.npy" --final --boxes-rel-l2 1e-4 --scores-max-abs 2e-4 | sed 's/^/fp32 /'
  for p in fp16 bf16; do
    "$STAGE/irmb-run" "$STAGE/models/yolov10n-iRMB.$p.bgolden/model.so" --input "$g.input.npy" \
      --raw "$out/$p.raw.npy" --output "$out/$p.final.npy"
  done
  "$cmp" "$g.raw.npy" "$out/fp16.raw.npy" --boxes-rel-l2 5e-3 --scores-max-abs 3e-2 | sed 's/^/fp16 /'
  "$cmp" "$g.final.npy" "$out/fp16.final.npy" --final --scores-max-abs 3e-2 --match-iou 0.95 --min-score 0.3 | sed 's/^/fp16 /'
  "$cmp" "$g.raw.npy" "$out/bf16.raw.npy" --boxes-rel-l2 3e-2 --scores-max-abs 0.15 | sed 's/^/bf16 /'
  "$cmp" "$g.final.npy" "$out/bf16.final.npy" --final --scores-max-abs 0.15 --match-iou 0.85 --min-score 0.4 | sed 's/^/bf16 /'
  "$STAGE/irmb-run" "$STAGE/models/yolov10n-iRMB.fp16.b1/model.so" --input "$g.input.npy" --profile \
    > "$out/profile-fp16-b1.txt" && tail -1 "$out/profile-fp16-b1.txt"

  echo "== timing (CUDA events, median of $runs)"
  : > "$out/results.jsonl"
  for model in $MODELS; do
    for precision in fp32 fp16; do
      for batch in 1 32; do
        "$STAGE/irmb_gpu_bench" "$STAGE/models/$model.$precision.b$batch/model.so" "$model" \
          --runs "$runs" | tee -a "$out/results.jsonl"
      done
    done
  done
  export PYTHONPATH=$STAGE${PYTHONPATH:+:$PYTHONPATH} YOLO_OFFLINE=1 YOLO_VERBOSE=False
  local modes=${TORCH_MODES:-eager-fp32,eager-fp16,compile-fp16}
  for model in ${TORCH_MODELS:-$MODELS}; do
    local extra=()
    [ "$model" = yolov10n-iRMB ] &&
      extra=(--weights "$g.safetensors" --check "$g.input.npy" "$g.raw.npy")
    python3 bench/gpu/torch_bench.py --model "$STAGE/$model.yaml" --name "$model" \
      --modes "$modes" --runs "$runs" "${extra[@]}" 2> "$out/torch-$model.log" |
      tee -a "$out/results.jsonl" ||
      { echo "torch_bench failed:"; tail -20 "$out/torch-$model.log"; }
  done

  echo "== results ($(cut -d, -f1 "$out/device.txt"))"
  python3 - "$out/results.jsonl" <<'EOF' | tee "$out/results.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and "impl" in l]
t = {(r["impl"], r["model"], r["batch"], r["precision"]): r["median_ms"] for r in rows}
print("| model | batch | prec | irmb ms | eager ms | compile ms | eager/irmb | compile/irmb | irmb img/s |")
print("|---|---|---|---|---|---|---|---|---|")
for (impl, model, batch, prec), ms in sorted(t.items()):
    if impl != "irmb":
        continue
    e = t.get(("torch-eager", model, batch, prec))
    c = t.get(("torch-compile", model, batch, prec))
    f = lambda v: f"{v:.3f}" if v else "-"
    r = lambda v: f"{v / ms:.2f}x" if v else "-"
    print(f"| {model} | {batch} | {prec} | {ms:.3f} | {f(e)} | {f(c)} | {r(e)} | {r(c)} | {batch * 1000 / ms:.0f} |")
EOF
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bench/gpu.sh prepare | run" >&2; exit 2 ;;
esac
