#!/usr/bin/env bash
# The main job: install, build, compile the seed model
# ../shared/models/yolov10n-iRMB.yaml with its golden Ultralytics weights into
# a self-contained CPU library, run it on the golden input, check the result
# against the golden output, and time it next to PyTorch eager (LibTorch).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh > /dev/null
model=../shared/models/yolov10n-iRMB.yaml
golden=../shared/golden/v10n-irmb-head
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== irmb-compile $model --summary"
./build/bin/irmb-compile "$model" --summary | tail -1
echo "== irmb-compile $model --weights $golden.safetensors -o yolov10n-iRMB.so"
./build/bin/irmb-compile "$model" --weights "$golden.safetensors" -o "$out/yolov10n-iRMB.so"
echo "== irmb-run (detections against the golden Ultralytics output)"
./build/bin/irmb-run "$out/yolov10n-iRMB.so" --input "$golden.input.npy" \
  --raw "$out/raw.npy" --output "$out/final.npy"
./build/bin/irmb-npy-compare "$golden.raw.npy" "$out/raw.npy" \
  --boxes-rel-l2 1e-4 --scores-max-abs 2e-4
./build/bin/irmb-npy-compare "$golden.final.npy" "$out/final.npy" --final \
  --boxes-rel-l2 1e-4 --scores-max-abs 2e-4
echo "== latency, 640x640 batch 1, all cores"
irmb=$(./build/bin/irmb-run "$out/yolov10n-iRMB.so" --input "$golden.input.npy" \
         --bench 20 --warmup 3 | tail -1)
eager=$(./build/bin/irmb-reference "$model" --weights "$golden.safetensors" \
          --input "$golden.input.npy" --fold-bn --bench 5 --warmup 1 2> /dev/null | tail -1)
echo "irmb:          $irmb"
echo "PyTorch eager: $eager"
