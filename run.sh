#!/usr/bin/env bash
# The main job, as far as the project goes today: install, build, and print
# the summary of the seed model ../shared/models/yolov10n-iRMB.yaml (layers,
# parameters, GFLOPs) and its model-level irmb IR.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh > /dev/null
model=../shared/models/yolov10n-iRMB.yaml
echo "== irmb-compile $model --summary"
./build/bin/irmb-compile "$model" --summary
echo "== irmb-compile $model --emit=irmb (the iRMB layer)"
./build/bin/irmb-compile "$model" --emit=irmb | grep 'irmb.mmb'
