#!/usr/bin/env bash
# Fusion study: for each seed model at 640x640 batch 1 and one thread, the
# median latency of the compiled .so under every fusion configuration (none,
# each fusion alone, all, all but one), its ratio to `none`, the kernel
# count and the intermediate bytes one image's kernels write (and how many
# of them the configuration avoids against `none`). Random weights; one
# process per configuration, all in this run. Usage: bench/fusion.sh [RUNS]
# (default 20); MODELS="a b" and CONFIGS="none all only:fold-bn without:concat ..."
# narrow the run. Writes the table to stdout and bench/results/fusion.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh "${1:-}"
fusions="window-attention fold-bn ema depthwise conv-epilogue merge-qkv concat"
table="$out/fusion.md"
{
  echo "| model | configuration | kernels | written MiB/image | avoided MiB | ms (median) | none / this |"
  echo "|---|---|---|---|---|---|---|"
} > "$table"
all_configs="none"
for f in $fusions; do all_configs="$all_configs only:$f"; done
all_configs="$all_configs all"
for f in $fusions; do all_configs="$all_configs without:$f"; done
for model in ${MODELS:-yolov10n-iRMB yolov10n-C2f_iRMB yolo11n-iEMA}; do
  base_ms="" base_mib=""
  for config in none ${CONFIGS:-$all_configs}; do
    [ "$config" = none ] && [ -n "$base_ms" ] && continue
    case $config in
      none|all) flags=(--fusion="$config") ;;
      only:*) flags=(--fusion=none --enable-fusion="${config#only:}") ;;
      without:*) flags=(--fusion=all --disable-fusion="${config#without:}") ;;
    esac
    log=$("$bin/irmb-compile" "$shared/models/$model.yaml" --seed 1 "${flags[@]}" \
            -o "$out/fusion.so" 2>&1)
    kernels=$(sed -n 's/.*compiling \([0-9]*\) kernels.*/\1/p' <<< "$log")
    mib=$(sed -n 's/.*kernels write \([0-9.]*\) MiB.*/\1/p' <<< "$log")
    ms=$(on_cpus 1 "$bin/irmb-run" "$out/fusion.so" --input "$out/input.npy" \
           --bench "$runs" --warmup "$warmup" --threads 1 |
         sed -n 's/.*median=\([0-9.]*\).*/\1/p' | tail -1)
    if [ "$config" = none ]; then base_ms=$ms base_mib=$mib; fi
    awk -v m="$model" -v c="$config" -v k="$kernels" -v w="$mib" -v b="$base_mib" \
        -v t="$ms" -v n="$base_ms" \
      'BEGIN { printf "| %s | %s | %d | %.1f | %.1f | %.1f | %.2f |\n", m, c, k, w, b - w, t, n / t }' \
      | tee -a "$table"
  done
done
echo "== table written to $table" >&2
