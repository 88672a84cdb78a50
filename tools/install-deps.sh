#!/usr/bin/env bash
# Installs the Debian 12 packages tffreeze needs to build and test. Idempotent; run as root
# (or with sudo available). Only packages that are missing are installed.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libprotobuf-dev protobuf-compiler
  libcli11-dev nlohmann-json3-dev libeigen3-dev
  libleveldb-dev libsnappy-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopencv-dev python3-opencv python3-numpy
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
