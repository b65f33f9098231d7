#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install packages, build and
# install CheckSync, then run the failover demo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" "$ROOT/build/prefix"
exec "$ROOT/scripts/failover-demo.sh" "$ROOT/build/prefix"
