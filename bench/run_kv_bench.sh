#!/usr/bin/env bash
# The side-by-side checksync-kv / redis-server benchmark (bench/kv_bench.py):
# installs redis-tools, redis-server and python3-matplotlib if missing, then
# writes bench/results/kv_bench-KEYS.md and kv_bench-KEYS.png.
#   bench/run_kv_bench.sh PREFIX [kv_bench.py options, e.g. --repeats 3 --requests 2000000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=$(cd "${1:?usage: run_kv_bench.sh PREFIX [options]}" && pwd)
shift
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in redis-tools redis-server python3-matplotlib; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's python3 (where python3-matplotlib is installed) if there is one.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
exec "$PY" "$ROOT/bench/kv_bench.py" "$PREFIX" "$ROOT/bench/results" "$@"
