#!/usr/bin/env bash
# check-model.sh MODEL.yaml INPUT.npy PREFIX [irmb-compile options...]
# Compiles MODEL for INPUT's shape, runs it, runs irmb-reference with the same
# options and compares the raw outputs with the generated-kernel tolerances.
# $COMPILE_FLAGS go to irmb-compile only (e.g. "--target cuda --cuda-emulate");
# $TOLERANCES replace the default "--boxes-rel-l2 1e-4 --scores-max-abs 2e-4".
set -euo pipefail
model=$1 input=$2 prefix=$3
shift 3
shape=$(python3 "$(dirname "$0")/npy-shape.py" "$input")
read -r batch height width <<< "$shape"
read -r -a compile_flags <<< "${COMPILE_FLAGS:-}"
read -r -a tolerances <<< "${TOLERANCES:---boxes-rel-l2 1e-4 --scores-max-abs 2e-4}"
irmb-compile "$model" "$@" "${compile_flags[@]}" --batch "$batch" \
  --imgsz "$height,$width" -o "$prefix.so"
irmb-run "$prefix.so" --input "$input" --raw "$prefix.compiled.npy"
irmb-reference "$model" "$@" --input "$input" --raw "$prefix.reference.npy" 2> /dev/null
irmb-npy-compare "$prefix.reference.npy" "$prefix.compiled.npy" "${tolerances[@]}"
