#!/usr/bin/env bash
# Executor latency next to OpenCV DNN (same graphs, inputs and threads, one run); see
# bench/executor_vs_opencv.cc. Prints the markdown table recorded in BENCHMARKS.md.
#   bench/executor_vs_opencv.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh >/dev/null
echo "$(nproc) cores; $(date -u +%Y-%m-%d); median of ${1:-10} runs after 2 warm-up runs"
echo
build/tffreeze-bench-executor "${1:-10}" ../shared/testdata/arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb
