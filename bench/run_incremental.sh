#!/usr/bin/env bash
# Write-barrier cost (instrumented vs the same code without the plugin),
# incremental checkpoint pause/bytes versus dirty objects and heap size, and
# the pause for string-heavy entries with and without background encoding.
#   bench/run_incremental.sh PREFIX
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_incremental.sh PREFIX}" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CFG="$PREFIX/bin/checksync-config"
CXX="clang++-19 -std=c++20 -O2"
$CXX $("$CFG" --cxxflags) "$ROOT/bench/barrier_store.cpp" $("$CFG" --ldflags) -o "$WORK/store_cs"
# Without the plugin: the attributes are ignored, nothing is instrumented.
$CXX -I"$PREFIX/include" -Wno-unknown-attributes "$ROOT/bench/barrier_store.cpp" \
  $("$CFG" --ldflags) -o "$WORK/store_plain"
echo "== write barrier: ns per iteration (2 stores + 1 load), median of 5"
for n in 1000 4000000; do
  iters=50000000; [ "$n" -gt 1000 ] && iters=20000000
  plain=$(CHECKSYNC_ALLOW_UNINSTRUMENTED=1 "$WORK/store_plain" "$n" "$iters" 2>/dev/null | sed -E 's/.*median=([0-9.]+).*/\1/')
  cs=$("$WORK/store_cs" "$n" "$iters" | sed -E 's/.*median=([0-9.]+).*/\1/')
  python3 -c "p=$plain; c=$cs; print(f'objects=$n plain={p:.3f}ns checksync={c:.3f}ns slowdown={(c/p-1)*100:+.1f}% barrier={(c-p)/2:.3f}ns/store')"
done
$CXX $("$CFG" --cxxflags) "$ROOT/bench/pause_vs_dirty.cpp" $("$CFG" --ldflags) -o "$WORK/pause"
echo "== incremental checkpoints: pause and bytes vs dirty objects (1 GB heap), and vs heap size"
echo "   (compaction off: it runs on another thread and, on a 2-core machine, competes with the"
echo "   measured thread; the last line keeps the default compaction on for comparison)"
NOCOMPACT="env CHECKSYNC_COMPACT_AFTER=0 CHECKSYNC_COMPACT_RATIO=0"
$NOCOMPACT CHECKSYNC_DIR="$WORK/d1" "$WORK/pause" 1024 50 100 1000 10000 100000
for mb in 128 512; do
  rm -rf "$WORK/d2"
  $NOCOMPACT CHECKSYNC_DIR="$WORK/d2" "$WORK/pause" "$mb" 50 10000
done
rm -rf "$WORK/d1"
echo "   with default compaction:"
CHECKSYNC_DIR="$WORK/d1" "$WORK/pause" 1024 50 10000
$CXX $("$CFG" --cxxflags) "$ROOT/bench/pause_kv_entries.cpp" $("$CFG" --ldflags) -o "$WORK/kv_entries"
echo "== checksync-kv-like entries (two strings each): pause while writes race the background"
echo "   encoding, then the same with the encoding inside checkpoint() (CHECKSYNC_BACKGROUND_ENCODE=0)"
for enc in 1 0; do
  for args in "1000000 30 45000" "1000000 30 10000" "100000 30 10000"; do
    rm -rf "$WORK/d3"
    $NOCOMPACT CHECKSYNC_BACKGROUND_ENCODE=$enc CHECKSYNC_DIR="$WORK/d3" "$WORK/kv_entries" $args
  done
done
