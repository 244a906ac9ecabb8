#!/usr/bin/env bash
# fusion-configs.sh MODEL.yaml INPUT.npy PREFIX [irmb-compile options...]
# Runs irmb-reference once, then compiles MODEL with every fusion
# configuration (none, each fusion alone, all) for INPUT's shape and checks
# each against the reference with the generated-kernel tolerances. Prints
# one line per configuration and fails on the first mismatch.
set -euo pipefail
model=$1 input=$2 prefix=$3
shift 3
shape=$(python3 "$(dirname "$0")/npy-shape.py" "$input")
read -r batch height width <<< "$shape"
irmb-reference "$model" "$@" --input "$input" --raw "$prefix.reference.npy" 2> /dev/null
for config in none window-attention fold-bn ema depthwise conv-epilogue merge-qkv concat all; do
  case $config in
    none|all) flags=(--fusion="$config") ;;
    *) flags=(--fusion=none --enable-fusion="$config") ;;
  esac
  irmb-compile "$model" "$@" "${flags[@]}" --batch "$batch" \
    --imgsz "$height,$width" -o "$prefix.$config.so" 2> /dev/null
  irmb-run "$prefix.$config.so" --input "$input" --raw "$prefix.$config.npy"
  echo "config $config: $(irmb-npy-compare "$prefix.reference.npy" \
    "$prefix.$config.npy" --boxes-rel-l2 1e-4 --scores-max-abs 2e-4 | tr '\n' ' ')"
done
