#!/usr/bin/env bash
# TF 2 SavedModels: how long `tffreeze freeze` takes on the real fixtures (flatten the signature,
# freeze its variables, write the graph) next to two floors measured in the same run (starting
# the binary; reading the model's files and writing the output's bytes), and the executor's
# latency on the Keras LSTM in its three forms (While kept, v1 loop, unrolled).
# Prints the markdown recorded in BENCHMARKS.md.
#   bench/tf2_saved_models.sh [RUNS]   (default 20 runs per measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh >/dev/null
runs=${1:-20}
B=build/tffreeze
data=${TFFREEZE_TESTDATA:-../shared/testdata}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Mean milliseconds of a command over $runs runs (output discarded).
mean_ms() {
  local t0 t1
  "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }  # warm the page cache
  t0=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v n="$runs" 'BEGIN { printf "%.1f", (b - a) / 1e6 / n }'
}
io_floor() {  # read every file of the model, write OUT_BYTES
  cat $(find "$1" -type f) >/dev/null
  head -c "$2" /dev/zero >"$work/floor.out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

echo "$(nproc) cores, $(date -u +%Y-%m-%d), mean of $runs runs each; files in the page cache."
echo
startup=$(mean_ms $B --version)
echo "| SavedModel | files | nodes (graph + functions) -> frozen | freeze (ms) | start-up floor (ms) | I/O floor (ms) | freeze / start-up |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
while IFS="|" read -r name rel; do
  dir="$data/$rel"
  [ -d "$dir" ] || { echo "| $name | missing | | | | | |"; continue; }
  $B freeze "$dir" -o "$work/out.pb" >/dev/null
  bytes=$(du -sb "$dir" | cut -f1)
  before=$($B inspect "$dir" --json | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["node_count"] + j["function_node_count"])')
  after=$($B inspect "$work/out.pb" --json | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["node_count"] + j["function_node_count"])')
  t=$(mean_ms $B freeze "$dir" -o "$work/out.pb")
  f=$(mean_ms io_floor "$dir" "$(stat -c %s "$work/out.pb")")
  echo "| $name | $(awk -v b="$bytes" 'BEGIN { printf "%.0f KB", b / 1024 }') | $before -> $after | $t | $startup | $f | $(ratio "$t" "$startup") |"
done <<'LIST'
half_plus_two_tf2_cpu|tensorflow-serving/tensorflow_serving/servables/tensorflow/testdata/saved_model_half_plus_two_tf2_cpu/00000123
tfjs-node int64_multiply|tensorflow-tfjs/tfjs-node/test_objects/saved_model/int64_multiply
Keras Dense (SciSharp)|scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/simple_model_from_auto_compile
Keras Conv1D (SciSharp)|scisharp-tensorflow-net/tools/TensorFlowNET.Benchmarks/Leak/TestModel/saved_model
Keras LSTM, 95 functions (SciSharp)|scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential
TFX Keras + tf.Transform|tensorflow-tfx/tfx/components/testdata/trainer/keras/Format-Serving
LIST

echo
lstm="$data/scisharp-tensorflow-net/test/TensorFlowNET.Keras.UnitTest/Assets/lstm_from_sequential"
$B freeze "$lstm" -o "$work/kept.pb" >/dev/null
$B freeze "$lstm" --lower-loops -o "$work/v1.pb" >/dev/null
$B freeze "$lstm" --optimize --target tflite -o "$work/unrolled.pb" >/dev/null
/usr/bin/python3 -c "import numpy as np; np.save('$work/x.npy', np.random.RandomState(0).rand(8, 5, 3).astype(np.float32))"
echo "| Keras LSTM (batch 8, 5 steps) | nodes | executor latency (ms) |"
echo "| --- | --- | --- |"
for form in kept v1 unrolled; do
  nodes=$($B inspect "$work/$form.pb" --json | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["node_count"] + j["function_node_count"])')
  ms=$($B run "$work/$form.pb" -i "input_1=$work/x.npy" --repeat 2000 | awk '/^latency/ { print $2 }')
  case $form in kept) label="StatelessWhile kept (functions)";; v1) label="--lower-loops (v1 frame)";; unrolled) label="--target tflite (unrolled, TensorLists lowered)";; esac
  echo "| $label | $nodes | $ms |"
done
