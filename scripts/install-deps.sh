#!/usr/bin/env bash
# Installs the Debian 12 packages CheckSync needs to build and test.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(clang-19 llvm-19-dev libclang-19-dev llvm-19-tools cmake ninja-build python3
          libmimalloc-dev libmsgpack-cxx-dev libxxhash-dev libcli11-dev libgtest-dev libssl-dev libzstd-dev nlohmann-json3-dev libasio-dev libcpp-httplib-dev
          libclang-rt-19-dev redis-tools redis-server etcd-server etcd-client)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
