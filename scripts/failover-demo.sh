#!/usr/bin/env bash
# The failover demo, against an installed CheckSync prefix:
#   1. compile examples/ledger as a user would (checksync-config),
#   2. run it with checkpoints going to a directory,
#   3. kill -9 it mid-flight,
#   4. resume it with `checksync-rt resume` and check the state is the one of
#      the last durable round (same digest, money conserved).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${1:?usage: failover-demo.sh PREFIX}
PREFIX=$(cd "$PREFIX" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/checksync-demo.XXXXXX")
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

CFG="$PREFIX/bin/checksync-config"
echo "== 1. compile the ledger service with the CheckSync plugin"
echo "   clang++-19 -std=c++20 -O2 \$(checksync-config --cxxflags) ledger.cpp \$(checksync-config --ldflags)"
clang++-19 -std=c++20 -O2 $("$CFG" --cxxflags) "$ROOT/examples/ledger/ledger.cpp" \
  $("$CFG" --ldflags) -o "$WORK/ledger"

echo "== 2. run it; checkpoints go to CHECKSYNC_DIR=$WORK/ckpt"
CHECKSYNC_DIR="$WORK/ckpt" "$WORK/ledger" --accounts 5000 --delay-ms 20 > "$WORK/primary.log" 2>&1 &
PID=$!
disown "$PID" # no "Killed" job notice from the shell when it is killed below
sleep 1.5
echo "== 3. kill -9 the service"
kill -9 "$PID"
while kill -0 "$PID" 2>/dev/null; do sleep 0.001; done
PID=""
tail -n 3 "$WORK/primary.log" | sed 's/^/   primary| /'
"$PREFIX/bin/checksync-rt" inspect "$WORK/ckpt" | sed 's/^/   inspect| /'

echo "== 4. resume it from the checkpoint directory"
"$PREFIX/bin/checksync-rt" resume --from "$WORK/ckpt" -- "$WORK/ledger" --rounds 3 --delay-ms 0 \
  > "$WORK/resumed.log" 2>&1
sed 's/^/   resumed| /' "$WORK/resumed.log"

line=$(grep '^resumed at round' "$WORK/resumed.log")
round=$(echo "$line" | sed -E 's/resumed at round ([0-9]+):.*/\1/')
got=$(echo "$line" | sed -E 's/.*digest ([0-9a-f]+).*/\1/')
want=$(grep -E "^round $round: " "$WORK/primary.log" | sed -E 's/.*digest ([0-9a-f]+).*/\1/')
last_durable=$(grep -E '^round [0-9]+ durable' "$WORK/primary.log" | tail -n 1 | cut -d' ' -f2)
if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$round" -ge "${last_durable:-0}" ] \
   && echo "$line" | grep -q "total 5000000"; then
  echo "== state intact: resumed at round $round (last acknowledged: ${last_durable:-none}), digest $got, money conserved"
else
  echo "== FAILED: resumed round $round digest $got, expected digest ${want:-?} (last durable ${last_durable:-none})"
  exit 1
fi
