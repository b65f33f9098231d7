#!/usr/bin/env bash
# High-availability demo with checksync-kv, driven by Redis's own tools:
#   1. a backup (`checksync-rt serve --takeover`) and a primary checksync-kv
#      (--sync: a write is acknowledged only once the backup has it durably),
#   2. redis-benchmark loads 100k keys, redis-cli --pipe writes 20,000 known
#      keys (every one acknowledged),
#   3. kill -9 of the primary,
#   4. the backup takes over and serves; redis-cli checks every acknowledged
#      known key; failover time and checkpoint sizes are printed.
#   scripts/kv-failover-demo.sh PREFIX
set -euo pipefail
PREFIX=$(cd "${1:?usage: kv-failover-demo.sh PREFIX}" && pwd)
RT="$PREFIX/bin/checksync-rt"
KV="$PREFIX/bin/checksync-kv"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-kv-demo.XXXXXX")
SERVE="" PRIMARY=""
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port) P2=$(free_port)
cleanup() {
  [ -n "$PRIMARY" ] && kill -9 "$PRIMARY" 2>/dev/null || true
  [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null || true
  pkill -f "checksync-kv --port $P2" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export CHECKSYNC_SECRET="demo-$RANDOM$RANDOM"

echo "== 1. backup: checksync-rt serve --takeover (resumes checksync-kv on port $P2 if the primary dies)"
"$RT" serve --listen 127.0.0.1:0 --dir "$WORK/backup" --takeover --timeout 300 \
  -- "$KV" --port "$P2" > "$WORK/takeover.log" 2> "$WORK/serve.log" &
SERVE=$!
for _ in $(seq 200); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.02; done
BP=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/serve.log" | cut -d: -f2)
echo "   primary: checksync-rt run --backup 127.0.0.1:$BP -- checksync-kv --port $P1 --sync"
"$RT" run --backup "127.0.0.1:$BP" -- "$KV" --port "$P1" --sync > "$WORK/primary.log" 2>&1 &
PRIMARY=$!
disown "$PRIMARY" # no "Killed" job notice from the shell when it is killed below
for _ in $(seq 200); do redis-cli -p "$P1" ping > /dev/null 2>&1 && break; sleep 0.02; done

echo "== 2. load: redis-benchmark (SET, 100k random keys, 100-byte values, pipeline 16)"
# Bounded: redis-benchmark retries forever (at full CPU) if the server dies.
timeout 120 redis-benchmark -p "$P1" -t set -n 200000 -r 100000 -d 100 -P 16 -q 2>/dev/null | tr '\r' '\n' | grep "requests per second" | tail -n 1 | sed 's/^/   /' || true
kill -0 "$PRIMARY" 2>/dev/null || { echo "the primary died during the load:" >&2; cat "$WORK/primary.log" >&2; exit 1; }
for i in $(seq 1 20000); do printf 'SET demo:%d value-%d\n' "$i" "$i"; done > "$WORK/known.cmds"
echo "   redis-cli --pipe: 20,000 known keys"
redis-cli -p "$P1" --pipe < "$WORK/known.cmds" | tail -n 1 | sed 's/^/   /'
echo "   keys on the primary: $(redis-cli -p "$P1" dbsize)"

echo "== 3. kill -9 the primary"
kill -9 "$PRIMARY"
while kill -0 "$PRIMARY" 2>/dev/null; do sleep 0.001; done
PRIMARY=""
T0=$(date +%s%N)
until redis-cli -p "$P2" ping > /dev/null 2>&1; do sleep 0.005; done
T1=$(date +%s%N)
grep -E "takeover:|failover:" "$WORK/serve.log" | sed 's/^/   /'
echo "   checksync-kv answering on port $P2 $(( (T1 - T0) / 1000000 )) ms after the kill"

echo "== 4. every acknowledged key is there (redis-cli on the backup)"
for i in $(seq 1 20000); do echo "GET demo:$i"; done | redis-cli -p "$P2" > "$WORK/got"
for i in $(seq 1 20000); do echo "value-$i"; done > "$WORK/want"
missing=$(diff "$WORK/want" "$WORK/got" | grep -c '^<' || true)
echo "   keys on the backup: $(redis-cli -p "$P2" dbsize); known keys missing or wrong: $missing of 20000"
echo "   checkpoint store on the backup: $(du -sh "$WORK/backup" | cut -f1)"
"$RT" inspect "$WORK/backup" | sed -n '1,/^types:/p' | grep -E "epoch|bytes" | sed 's/^/   /'
if [ "$missing" -ne 0 ]; then
  echo "== FAILED: acknowledged keys were lost"
  exit 1
fi
echo "== state intact: the backup serves every acknowledged key"
