#!/usr/bin/env bash
# The README's second command: build and run the whole test suite. Real TensorFlow fixtures are
# read from ../shared/testdata (or $TFFREEZE_TESTDATA); tests needing them fail when CI=true and
# they are missing, and are skipped, visibly, elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
rm -rf "${TFFREEZE_BUILD_DIR:-build}/tests/tmp"  # files the previous run left for inspection
ctest --test-dir "${TFFREEZE_BUILD_DIR:-build}" --output-on-failure --parallel "$(nproc)"
