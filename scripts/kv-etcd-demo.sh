#!/usr/bin/env bash
# High availability with etcd on loopback: the README's three-host layout
# (primary A, backups B and C, etcd) with checksync-kv as the program.
#   1. etcd, then `serve --coordinator --takeover` on B and C, then the
#      primary on A (`run --coordinator`, shipping to B and C with
#      --quorum 1, checksync-kv --sync: a write is acknowledged once a backup
#      has it; the election picks the backup with the newest state),
#   2. redis-cli --pipe writes 5,000 known keys,
#   3. kill -9 of the primary: the backup with the newest state wins the
#      leader key in etcd and resumes checksync-kv, shipping to the other,
#   4. every acknowledged key is checked on the new primary; host A rejoins
#      as a backup and is caught up.
#   scripts/kv-etcd-demo.sh PREFIX
set -euo pipefail
PREFIX=$(cd "${1:?usage: kv-etcd-demo.sh PREFIX}" && pwd)
RT="$PREFIX/bin/checksync-rt"
KV="$PREFIX/bin/checksync-kv"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-etcd-demo.XXXXXX")
PIDS=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
EC=$(free_port) EP=$(free_port)
SA=$(free_port) SB=$(free_port) SC=$(free_port)   # serve ports of hosts A, B, C
KA=$(free_port) KB=$(free_port) KC=$(free_port)   # checksync-kv ports
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for k in "$KA" "$KB" "$KC"; do pkill -9 -f -- "--port $k --sync" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export CHECKSYNC_SECRET="demo-$RANDOM$RANDOM" ETCDCTL_API=3
E="etcd://127.0.0.1:$EC"
etcdctl() { command etcdctl --endpoints "127.0.0.1:$EC" "$@"; }

echo "== 1. etcd on 127.0.0.1:$EC; backups B and C; primary A"
etcd --name demo --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$EC" \
  --advertise-client-urls "http://127.0.0.1:$EC" --listen-peer-urls "http://127.0.0.1:$EP" \
  --initial-advertise-peer-urls "http://127.0.0.1:$EP" --initial-cluster "demo=http://127.0.0.1:$EP" \
  --log-level warn > "$WORK/etcd.log" 2>&1 &
PIDS+=($!)
disown $! # no "Killed" job notices at cleanup
for _ in $(seq 100); do etcdctl endpoint health > /dev/null 2>&1 && break; sleep 0.1; done
serve() { # host own-serve-port own-kv-port other-serve-ports
  "$RT" serve --listen "127.0.0.1:$2" --dir "$WORK/$1" --coordinator "$E" --service demo \
    --takeover --lease-ms 500 --quorum 1 --ship-to "$4" --program-log "$WORK/$1.program.log" \
    -- "$KV" --port "$3" --sync > /dev/null 2>> "$WORK/$1.log" &
  PIDS+=($!)
  disown $!
}
serve B "$SB" "$KB" "127.0.0.1:$SA,127.0.0.1:$SC"
serve C "$SC" "$KC" "127.0.0.1:$SA,127.0.0.1:$SB"
echo "   B: checksync-rt serve --listen 127.0.0.1:$SB --coordinator $E --service demo --takeover --lease-ms 500 --quorum 1 --ship-to A,C -- checksync-kv --port $KB --sync"
echo "   C: the same with --listen 127.0.0.1:$SC --ship-to A,B, kv port $KC"
sleep 0.3
echo "   A: checksync-rt run --backup B,C --quorum 1 --coordinator $E --service demo --lease-ms 500 -- checksync-kv --port $KA --sync"
"$RT" run --backup "127.0.0.1:$SB,127.0.0.1:$SC" --quorum 1 --coordinator "$E" --service demo \
  --lease-ms 500 -- "$KV" --port "$KA" --sync > "$WORK/A.log" 2>&1 &
PRIMARY=$!
PIDS+=("$PRIMARY")
disown "$PRIMARY"
for _ in $(seq 200); do [ "$(redis-cli -p "$KA" set probe 1 2>/dev/null)" = OK ] && break; sleep 0.05; done
echo "   leader key: $(etcdctl get /checksync/demo/leader --print-value-only)"

echo "== 2. redis-cli --pipe: 5,000 known keys on A"
for i in $(seq 1 5000); do printf 'SET demo:%d value-%d\n' "$i" "$i"; done > "$WORK/known.cmds"
redis-cli -p "$KA" --pipe < "$WORK/known.cmds" | tail -n 1 | sed 's/^/   /'

echo "== 3. kill -9 the primary (A)"
kill -9 "$PRIMARY"
T0=$(date +%s%N)
NEW=""
while [ -z "$NEW" ]; do
  for k in "$KB" "$KC"; do
    [ "$(redis-cli -p "$k" get demo:1 2>/dev/null)" = value-1 ] && NEW=$k && break
  done
  [ $(( ($(date +%s%N) - T0) / 1000000 )) -gt 20000 ] && { echo "no new primary within 20 s" >&2; cat "$WORK"/*.log >&2; exit 1; }
  [ -z "$NEW" ] && sleep 0.005
done
T1=$(date +%s%N)
grep -h -E "won the leadership|takeover:|holds newer state" "$WORK/B.log" "$WORK/C.log" | cut -d' ' -f4- | sed 's/^/   /'
echo "   new primary answering on port $NEW $(( (T1 - T0) / 1000000 )) ms after the kill"
echo "   leader key: $(etcdctl get /checksync/demo/leader --print-value-only)"

echo "== 4. every acknowledged key is on the new primary; A rejoins as a backup"
for i in $(seq 1 5000); do echo "GET demo:$i"; done | redis-cli -p "$NEW" > "$WORK/got"
for i in $(seq 1 5000); do echo "value-$i"; done > "$WORK/want"
missing=$(diff "$WORK/want" "$WORK/got" | grep -c '^<' || true)
echo "   known keys missing or wrong: $missing of 5000"
serve A "$SA" "$KA" "127.0.0.1:$SB,127.0.0.1:$SC"
redis-cli -p "$NEW" set after-failover 1 > /dev/null
for _ in $(seq 100); do
  etcdctl get /checksync/demo/backups/127.0.0.1:$SA --print-value-only | grep -qv '"durable":0' && break
  sleep 0.1
done
echo "   leader key: $(etcdctl get /checksync/demo/leader --print-value-only)"
echo "   registered backups:"
etcdctl get --prefix /checksync/demo/backups/ --print-value-only | sed 's/^/     /'
if [ "$missing" -ne 0 ]; then
  echo "== FAILED: acknowledged keys were lost"
  exit 1
fi
echo "== state intact after the failover; the new primary ships to A and the other backup"
