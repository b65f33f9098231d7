#!/usr/bin/env bash
# Full checkpoint and resume of N small objects; medians over REPS runs.
#   bench/run_full_checkpoint.sh PREFIX [N=1000000] [REPS=5]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_full_checkpoint.sh PREFIX [N] [REPS]}" && pwd)
N=${2:-1000000}
REPS=${3:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CFG="$PREFIX/bin/checksync-config"
clang++-19 -std=c++20 -O2 $("$CFG" --cxxflags) "$ROOT/bench/full_checkpoint.cpp" $("$CFG" --ldflags) \
  -o "$WORK/full_checkpoint"
CHECKSYNC_DIR="$WORK/d" "$WORK/full_checkpoint" write "$N" "$REPS" | tee "$WORK/write.txt"
file=$(ls "$WORK/d"/ckpt-*.csk | tail -n 1)
size=$(stat -c %s "$file")
raw=$(sed -E 's/.*raw_bytes=([0-9]+).*/\1/' "$WORK/write.txt")
python3 -c "print(f'checkpoint_bytes=$size raw_object_bytes=$raw ratio={$size/$raw:.3f}')"
"$PREFIX/bin/checksync-rt" inspect "$WORK/d" | sed -n '3,4p'
for i in $(seq "$REPS"); do
  "$PREFIX/bin/checksync-rt" resume --from "$WORK/d" --dir "$WORK/r$i" -- "$WORK/full_checkpoint" resume
done | tee "$WORK/resume.txt"
sort -t= -k2 -n <(sed -E 's/resume_ms=([0-9.]+).*/\1/' "$WORK/resume.txt") | \
  awk '{a[NR]=$1} END {print "resume_ms_median=" a[int((NR+1)/2)]}'
