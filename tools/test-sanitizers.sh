#!/usr/bin/env bash
# The whole test suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/): every kernel, parser and mutated-input test runs with bounds checking. The Python
# module is built instrumented too, and ctest's python.pytest runs the pytest suite against it
# (LD_PRELOAD of ASan's runtime into Debian's python3, leak checks off for the interpreter; see
# CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
export TFFREEZE_BUILD_DIR=build-asan
# -O1 without debug info keeps the instrumented build fast; ASan still reports file:line via symbols.
tools/build.sh -DTFFREEZE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rm -rf build-asan/tests/tmp
ctest --test-dir build-asan --output-on-failure --parallel "$(nproc)"
