#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install packages, build and
# install CheckSync, then run the high-availability demo (checksync-kv driven
# by redis-benchmark and redis-cli, primary killed, backup takes over).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" "$ROOT/build/prefix"
exec "$ROOT/scripts/kv-failover-demo.sh" "$ROOT/build/prefix"
