#!/usr/bin/env bash
# Checkpoint cost of an LRU cache indexed by list iterators vs. by keys
# (bench/lru_iterators.cpp), alternating, medians over REPS runs each.
#   bench/run_lru_iterators.sh PREFIX [N=100000] [ROUNDS=50] [GETS=1000] [REPS=5]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_lru_iterators.sh PREFIX [N] [ROUNDS] [GETS] [REPS]}" && pwd)
N=${2:-100000}
ROUNDS=${3:-50}
GETS=${4:-1000}
REPS=${5:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CFG="$PREFIX/bin/checksync-config"
clang++-19 -std=c++20 -O2 $("$CFG" --cxxflags) "$ROOT/bench/lru_iterators.cpp" $("$CFG" --ldflags) \
  -o "$WORK/lru_iterators"
for i in $(seq "$REPS"); do
  for mode in iterators keys; do
    rm -rf "$WORK/d"
    CHECKSYNC_DIR="$WORK/d" "$WORK/lru_iterators" "$mode" "$N" "$ROUNDS" "$GETS"
  done
done > "$WORK/runs"
for mode in iterators keys; do
  grep "mode=$mode " "$WORK/runs" | python3 -c '
import sys, statistics
rows = [dict(kv.split("=") for kv in line.split()) for line in sys.stdin]
med = lambda k: statistics.median(float(r[k]) for r in rows)
print("mode=%s runs=%d kb_per_checkpoint=%.0f pause_us_per_checkpoint=%.0f seconds=%.3f" % (
    rows[0]["mode"], len(rows), med("kb_per_checkpoint"), med("pause_us_per_checkpoint"), med("seconds")))'
done
echo "(N=$N ROUNDS=$ROUNDS GETS=$GETS)"
