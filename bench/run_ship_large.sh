#!/usr/bin/env bash
# A large state shipped to a takeover backup on loopback: bench/ship_large.cpp
# builds MB megabytes (default 4096) of persistent objects and checkpoints
# once; `checksync-rt serve --takeover` (default heartbeat 100 ms, timeout
# 500 ms) stores it. Reports the time to acknowledge, the peak RSS of primary
# and backup (VmHWM), the backup's longest silence / largest gap between the
# primary's frames, and whether a takeover happened (it must not: the
# primary is alive throughout).
#   bench/run_ship_large.sh PREFIX [MB]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_ship_large.sh PREFIX [MB]}" && pwd)
MB=${2:-4096}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-ship-large.XXXXXX")
SERVE=""
trap '[ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null; rm -rf "$WORK"' EXIT
CFG="$PREFIX/bin/checksync-config"
clang++-19 -std=c++20 -O2 $("$CFG" --cxxflags) "$ROOT/bench/ship_large.cpp" $("$CFG" --ldflags) \
  -o "$WORK/ship_large"
export CHECKSYNC_SECRET=bench-secret
"$PREFIX/bin/checksync-rt" serve --listen 127.0.0.1:0 --dir "$WORK/store" -v --takeover \
  -- "$WORK/ship_large" > "$WORK/takeover.out" 2> "$WORK/serve.log" &
SERVE=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.05; done
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/serve.log" | cut -d: -f2)
# Holds 3 s after the ack: the backup's peak is read meanwhile.
"$PREFIX/bin/checksync-rt" run --backup "127.0.0.1:$PORT" -- "$WORK/ship_large" "$MB" 3000 \
  > "$WORK/primary.out" &
PRIMARY=$!
until grep -q "durable=" "$WORK/primary.out" 2>/dev/null || ! kill -0 $PRIMARY 2>/dev/null; do
  sleep 0.2
done
BACKUP_RSS=$(awk '/VmHWM/ {print $2, $3}' /proc/$SERVE/status 2>/dev/null || echo "? (exited)")
wait $PRIMARY || true
# The disconnection is logged at once; stop before the (legitimate) takeover.
for _ in $(seq 40); do grep -q "disconnected" "$WORK/serve.log" && break; sleep 0.01; done
kill "$SERVE" 2>/dev/null || true
wait "$SERVE" 2>/dev/null || true
SERVE=""
cat "$WORK/primary.out"
echo "backup_peak_rss=$BACKUP_RSS"
grep -E "stored|disconnected" "$WORK/serve.log" | sed 's/^.*checksync-rt serve: /backup: /'
if grep -q "takeover:" "$WORK/serve.log"; then echo "takeover=YES (false)"; else echo "takeover=no"; fi
