#!/usr/bin/env bash
# Full checkpoint and resume of N small objects; medians over REPS runs. The
# resumes alternate between the same build and a newer build (-DFULL_CHECKPOINT_V2:
# a widened and an added field), so resume across builds is measured side by side.
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
clang++-19 -std=c++20 -O2 -DFULL_CHECKPOINT_V2 $("$CFG" --cxxflags) "$ROOT/bench/full_checkpoint.cpp" \
  $("$CFG" --ldflags) -o "$WORK/full_checkpoint_v2"
for i in $(seq "$REPS"); do
  "$PREFIX/bin/checksync-rt" resume --from "$WORK/d" --dir "$WORK/r$i" -- "$WORK/full_checkpoint" resume \
    >> "$WORK/resume.txt"
  CHECKSYNC_LOG_LEVEL=warning "$PREFIX/bin/checksync-rt" resume --from "$WORK/d" --dir "$WORK/v$i" -- \
    "$WORK/full_checkpoint_v2" resume >> "$WORK/resume_v2.txt"
done
cat "$WORK/resume.txt" "$WORK/resume_v2.txt"
median() { sed -E 's/resume_ms=([0-9.]+).*/\1/' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
same=$(median "$WORK/resume.txt")
v2=$(median "$WORK/resume_v2.txt")
python3 -c "print(f'resume_ms_median=$same resume_across_builds_ms_median=$v2 ratio={$v2/$same:.2f}')"
