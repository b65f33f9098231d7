#!/usr/bin/env bash
# Shipping throughput on loopback: a backup (`checksync-rt serve`, storing to
# a temporary directory with fsync) and a primary that checkpoints its whole
# heap every round (bench/ship_throughput.cpp). Reports medians.
#   bench/run_ship_throughput.sh PREFIX [OBJECTS] [ROUNDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_ship_throughput.sh PREFIX [OBJECTS] [ROUNDS]}" && pwd)
N=${2:-200000}
ROUNDS=${3:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-ship.XXXXXX")
SERVE=""
trap '[ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null; rm -rf "$WORK"' EXIT
CFG="$PREFIX/bin/checksync-config"
clang++-19 -std=c++20 -O2 $("$CFG" --cxxflags) "$ROOT/bench/ship_throughput.cpp" $("$CFG" --ldflags) \
  -o "$WORK/ship"
export CHECKSYNC_SECRET=bench-secret
"$PREFIX/bin/checksync-rt" serve --listen 127.0.0.1:0 --dir "$WORK/store" 2> "$WORK/serve.log" &
SERVE=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.05; done
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/serve.log" | cut -d: -f2)
"$PREFIX/bin/checksync-rt" run --backup "127.0.0.1:$PORT" -- "$WORK/ship" "$N" "$ROUNDS"
