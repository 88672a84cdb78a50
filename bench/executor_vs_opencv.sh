#!/usr/bin/env bash
# Executor latency next to OpenCV DNN on the real ARM DS-CNN keyword spotter (cut at its
# features, `Reshape_1`), frozen as is and optimized for OpenCV. The generated Inception V3,
# MobileNet V1 and ResNet-50 are in bench/freeze_optimize.sh.
#   bench/executor_vs_opencv.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh >/dev/null
runs=${1:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=../shared/testdata/arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb
build/tffreeze freeze "$model" --outputs labels_softmax --replace-input Reshape_1=float32[1,49,10,1] -o "$work/cut.pb" >/dev/null
build/tffreeze optimize "$work/cut.pb" --target opencv -o "$work/optimized.pb" >/dev/null
echo "$(nproc) cores; $(date -u +%Y-%m-%d); median of $runs runs after 2 warm-up runs"
echo
echo "| graph | threads | tffreeze ms | OpenCV DNN ms | ratio | max abs diff |"
echo "| --- | --- | --- | --- | --- | --- |"
build/tffreeze-bench-executor "DS-CNN S (ARM KWS), frozen" "$work/cut.pb" Reshape_1 labels_softmax 49,10,1 "$runs"
build/tffreeze-bench-executor "DS-CNN S (ARM KWS), optimized" "$work/optimized.pb" Reshape_1 labels_softmax 49,10,1 "$runs"
