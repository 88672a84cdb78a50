#!/usr/bin/env bash
# Installs what is missing (Debian 12), then configures and builds tffreeze (Release) in build/.
# Extra arguments go to CMake's configure step, e.g. -DTFFREEZE_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
build_dir=${TFFREEZE_BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
elif [ $# -gt 0 ]; then
  cmake -S . -B "$build_dir" "$@" >/dev/null
fi
cmake --build "$build_dir" --parallel "$(nproc)"
