# Sourced by bench/run.sh and bench/fusion.sh from the repository root with
# the script's RUNS argument: the timed and warm-up run counts, the tool and
# shared folders, bench/results/ and its 640x640 random input.
runs=${1:-20}
warmup=3
bin=build/bin
shared=../shared
out=bench/results
mkdir -p "$out"
python3 test/Reference/Inputs/make_input.py "$out/input.npy" 1 3 640 640 7
