#!/usr/bin/env bash
# The main job, as far as the project goes today: install, build, print the
# summary of the seed model ../shared/models/yolov10n-iRMB.yaml, then run it
# with its golden Ultralytics weights through the LibTorch reference executor
# and check the detections against the golden output.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh > /dev/null
model=../shared/models/yolov10n-iRMB.yaml
golden=../shared/golden/v10n-irmb-head
echo "== irmb-compile $model --summary"
./build/bin/irmb-compile "$model" --summary
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== irmb-reference $model --weights $golden.safetensors"
./build/bin/irmb-reference "$model" --weights "$golden.safetensors" \
  --input "$golden.input.npy" --raw "$out/raw.npy" --output "$out/final.npy" --threads 2
echo "== against the golden Ultralytics output"
./build/bin/irmb-npy-compare "$golden.raw.npy" "$out/raw.npy"
./build/bin/irmb-npy-compare "$golden.final.npy" "$out/final.npy" --final
