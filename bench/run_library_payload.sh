#!/usr/bin/env bash
# Encoded size vs logical payload (string-heavy and container-heavy), and
# resume throughput; resume medians over REPS runs.
#   bench/run_library_payload.sh PREFIX [N_STRINGS=200000] [N_SERIES=20000] [REPS=5]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_library_payload.sh PREFIX [N_STRINGS] [N_SERIES] [REPS]}" && pwd)
NS=${2:-200000}
NC=${3:-20000}
REPS=${4:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CFG="$PREFIX/bin/checksync-config"
clang++-19 -std=c++20 -O2 $("$CFG" --cxxflags) "$ROOT/bench/library_payload.cpp" $("$CFG" --ldflags) \
  -o "$WORK/library_payload"
for shape in strings containers; do
  n=$NS; [ "$shape" = containers ] && n=$NC
  CHECKSYNC_DIR="$WORK/$shape" "$WORK/library_payload" write "$shape" "$n" | tee "$WORK/$shape.txt"
  size=$(stat -c %s "$(ls "$WORK/$shape"/ckpt-*.csk | tail -n 1)")
  payload=$(sed -E 's/.*logical_payload=([0-9]+).*/\1/' "$WORK/$shape.txt")
  python3 -c "print(f'shape=$shape checkpoint_bytes=$size logical_payload=$payload ratio={$size/$payload:.3f}')"
  for i in $(seq "$REPS"); do
    "$PREFIX/bin/checksync-rt" resume --from "$WORK/$shape" --dir "$WORK/r$shape$i" -- "$WORK/library_payload" resume
  done > "$WORK/$shape.resume"
  sort -t= -k2 -n <(sed -E 's/resume_ms=([0-9.]+).*/\1/' "$WORK/$shape.resume") | \
    awk -v n="$n" -v s="$shape" '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "shape=%s resume_ms_median=%s objects_per_s=%.0f\n", s, m, n/(m/1000)}'
done
