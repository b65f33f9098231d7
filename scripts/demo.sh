#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install packages, build and
# install CheckSync, then run the high-availability demo (checksync-kv driven
# by redis-benchmark and redis-cli, primary killed, backup takes over), then
# the same with leadership on etcd: a primary, two backups and etcd on
# loopback (the README's three-host layout).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" "$ROOT/build/prefix"
"$ROOT/scripts/kv-failover-demo.sh" "$ROOT/build/prefix"
echo
echo "=== with etcd: primary A, backups B and C ==="
exec "$ROOT/scripts/kv-etcd-demo.sh" "$ROOT/build/prefix"
