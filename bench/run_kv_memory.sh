#!/usr/bin/env bash
# Memory, store size and resume time: checksync-kv against redis-server for
# the same keys. Loads `redis-benchmark -t set -n 2*KEYS -r KEYS -d 100 -P 16`
# into checksync-kv checkpointing every 100 ms to `checksync-rt serve`, waits
# until the backup holds the last epoch and has compacted, then reports the
# peak RSS (VmHWM) of server and backup, the store's size on disk, and the
# time until `checksync-rt resume --from STORE` of a new server answers with
# every key. Then the same keys into redis-server: RSS, `SAVE`'s RDB size,
# and a restart's load time.
#   bench/run_kv_memory.sh PREFIX [KEYS]   (default 1000000)
set -euo pipefail
PREFIX=$(cd "${1:?usage: run_kv_memory.sh PREFIX [KEYS]}" && pwd)
KEYS=${2:-1000000}
RT="$PREFIX/bin/checksync-rt"
KV="$PREFIX/bin/checksync-kv"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-kv-memory.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
export CHECKSYNC_SECRET=bench-secret
unset CHECKSYNC_DIR CHECKSYNC_BACKUP

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1000); do redis-cli -p "$1" ping >/dev/null 2>&1 && return; sleep 0.01; done
  echo "nothing answers on port $1" >&2; exit 1
}
mb() { awk -v k="$2" '$1 == k":" {printf "%d", $2 / 1024}' "/proc/$1/status"; }
now() { date +%s.%N; }
load() { redis-benchmark -p "$1" -t set -n $((2 * KEYS)) -r "$KEYS" -d 100 -P 16 -q > /dev/null; }
dbsize() { redis-cli -p "$1" dbsize; }

# checksync-kv with a backup.
"$RT" serve --listen 127.0.0.1:0 --dir "$WORK/backup" 2> "$WORK/serve.log" &
SERVE=$!; PIDS+=("$SERVE")
for _ in $(seq 500); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.01; done
BPORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/serve.log" | cut -d: -f2)
KPORT=$(free_port)
"$RT" run --backup "127.0.0.1:$BPORT" -- "$KV" --port "$KPORT" --checkpoint-ms 100 \
  > "$WORK/kv.log" 2>&1 &
PRIMARY=$!; PIDS+=("$PRIMARY")
wait_port "$KPORT"
load "$KPORT"
N=$(dbsize "$KPORT")
sleep 3 # the last epochs shipped, stored and compacted
echo "keys=$N"
echo "checksync-kv: rss_mb=$(mb $PRIMARY VmRSS) peak_rss_mb=$(mb $PRIMARY VmHWM)"
echo "backup (serve): rss_mb=$(mb $SERVE VmRSS) peak_rss_mb=$(mb $SERVE VmHWM)"
kill -9 "$PRIMARY"
sleep 0.5
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
echo "store_bytes=$(du -sb "$WORK/backup" | cut -f1) ($(ls "$WORK/backup" | grep -c csk) files)"
RPORT=$(free_port)
T0=$(now)
"$RT" resume --from "$WORK/backup" --dir "$WORK/resumed" -- "$KV" --port "$RPORT" \
  > "$WORK/resume.log" 2>&1 &
RESUMED=$!; PIDS+=("$RESUMED")
wait_port "$RPORT"
T1=$(now)
[ "$(dbsize "$RPORT")" = "$N" ] || { echo "resumed with $(dbsize "$RPORT") keys, not $N" >&2; exit 1; }
echo "resume_s=$(echo "$T1 - $T0" | bc) resumed_peak_rss_mb=$(mb $RESUMED VmHWM)"
kill "$RESUMED"

# redis-server, the same keys.
RDIR="$WORK/redis"; mkdir "$RDIR"
PORT=$(free_port)
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$RDIR" --save "" --appendonly no \
  --daemonize no > "$WORK/redis.log" 2>&1 &
REDIS=$!; PIDS+=("$REDIS")
wait_port "$PORT"
load "$PORT"
RN=$(dbsize "$PORT")
echo "redis-server: keys=$RN rss_mb=$(mb $REDIS VmRSS) peak_rss_mb=$(mb $REDIS VmHWM)"
redis-cli -p "$PORT" save > /dev/null
kill "$REDIS"; wait "$REDIS" 2>/dev/null || true
echo "rdb_bytes=$(stat -c %s "$RDIR/dump.rdb")"
T0=$(now)
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$RDIR" --save "" --appendonly no \
  --daemonize no > "$WORK/redis2.log" 2>&1 &
REDIS=$!; PIDS+=("$REDIS")
until [ "$(redis-cli -p "$PORT" dbsize 2>/dev/null)" = "$RN" ]; do sleep 0.01; done
T1=$(now)
echo "redis_load_s=$(echo "$T1 - $T0" | bc)"
