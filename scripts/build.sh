#!/usr/bin/env bash
# Configures, builds and installs CheckSync into PREFIX (default: build/prefix).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
PREFIX=${1:-$BUILD/prefix}
CC=clang-19 CXX=clang++-19 cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build "$BUILD"
cmake --install "$BUILD" >/dev/null
echo "== installed CheckSync into $PREFIX"
