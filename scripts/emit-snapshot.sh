#!/usr/bin/env bash
# Writes what irmb-compile emits for every model in ../shared/models into
# DIR (default build/emit-snapshot): the fused IRMB IR, the primitive IR,
# the C++ (--emit=cpp: AVX2, AVX-512, AVX2 unfused) and the CUDA source
# (--emit=cu, fp32 and fp16),
# each model at scale n and 640x640 with --seed 1. A refactor that must not
# change behaviour is checked by snapshotting before and after and diffing:
#   scripts/emit-snapshot.sh /tmp/before; (edit, build); scripts/emit-snapshot.sh /tmp/after
#   diff -r /tmp/before /tmp/after
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/emit-snapshot}
bin=${IRMB_BIN:-build/bin}
mkdir -p "$dir"
for yaml in ../shared/models/*.yaml; do
  model=$(basename "$yaml" .yaml)
  args=(--seed 1)
  case "$model" in yolo11|yolov8) args+=(--scale n) ;; esac
  for emit in irmb primitive; do
    "$bin/irmb-compile" "$yaml" "${args[@]}" --emit=$emit > "$dir/$model.$emit"
  done
  "$bin/irmb-compile" "$yaml" "${args[@]}" --target cuda --emit=cu > "$dir/$model.cu"
  "$bin/irmb-compile" "$yaml" "${args[@]}" --target cuda --precision fp16 --emit=cu \
      > "$dir/$model.fp16.cu"
  "$bin/irmb-compile" "$yaml" "${args[@]}" --fusion=none --cpu avx2 --emit=cpp \
      > "$dir/$model.unfused.avx2.cpp"
  for cpu in avx2 avx512; do
    "$bin/irmb-compile" "$yaml" "${args[@]}" --cpu $cpu --emit=cpp > "$dir/$model.$cpu.cpp"
  done
done
echo "emit-snapshot: $(ls "$dir" | wc -l) files in $dir"
