#!/usr/bin/env bash
# Installs the Debian 12 packages tffreeze needs to build and test. Idempotent; run as root
# (or with sudo available). Only packages that are missing are installed.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libprotobuf-dev protobuf-compiler
  libcli11-dev nlohmann-json3-dev libeigen3-dev
  libopenblas-openmp-dev libdnnl-dev  # the executor's matrix products (src/runtime/gemm.cc)
  libleveldb-dev libsnappy-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopencv-dev python3-opencv python3-numpy
  libonnx-dev python3-onnx  # ONNX's schema, checker and shape inference (ONNX export)
  clang libclang-rt-14-dev libomp-dev  # clang's runtimes: libFuzzer, ASan, UBSan (tools/fuzz.sh)
  pybind11-dev python3-dev python3-pytest  # the Python module (python/) and its pytest suite
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js runs TensorFlow.js, the tests' independent oracle (tools/tfjs).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi
# TensorFlow.js's pure-JS CPU backend, pinned by tools/tfjs/package-lock.json.
tfjs_dir="$(dirname "$0")/tfjs"
if [ ! -d "$tfjs_dir/node_modules/@tensorflow/tfjs-converter" ]; then
  echo "install-deps: npm ci in tools/tfjs"
  (cd "$tfjs_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# onnxruntime's CPU library inside its Node.js package, pinned by tools/onnxruntime/package-lock.json.
# --ignore-scripts: its install script fetches GPU parts from a host this machine does not reach.
ort_dir="$(dirname "$0")/onnxruntime"
if [ ! -d "$ort_dir/node_modules/onnxruntime-node/bin" ]; then
  echo "install-deps: npm ci --ignore-scripts in tools/onnxruntime"
  (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
