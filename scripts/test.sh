#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install packages, build, and run
# every test (GoogleTest unit tests, lit plugin/pass/end-to-end tests) via ctest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" "$ROOT/build/prefix"
cd "$ROOT/build"
ctest --output-on-failure -j2
