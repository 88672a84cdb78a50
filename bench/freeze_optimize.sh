#!/usr/bin/env bash
# Freeze + optimize at real model sizes, against the I/O floor measured in the same run, plus
# start-up, scaling with width, and executor/OpenCV latency on the optimized (and unoptimized)
# graphs. Prints the markdown recorded in BENCHMARKS.md.
#   bench/freeze_optimize.sh [WORKDIR]      (default /tmp/tffreeze-bench; needs ~4 GB of disk)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh >/dev/null
work=${1:-/tmp/tffreeze-bench}
rm -rf "$work"
mkdir -p "$work"
source bench/common.sh

echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(date -u +%Y-%m-%d); files in the page cache (each input read once before timing)."
echo

run_model() {  # run_model NAME MODEL WIDTH -> one table row
  local name=$1 model=$2 width=$3
  local dir="$work/${model}_x${width}"
  $G "$model" --out "$dir" --width-multiplier "$width" >/dev/null
  read -r -a args <"$dir/freeze.args"
  local inputs
  inputs=$(du -cb "$dir"/model.ckpt.* | tail -1 | cut -f1)
  cat "$dir"/model.ckpt.* >/dev/null
  read -r f_s f_kb < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" -o "$dir/frozen.pb")
  read -r n_s n_kb < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" --optimize --target opencv --no-verify -o "$dir/optimized_noverify.pb")
  read -r o_s o_kb < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" --optimize --target opencv -o "$dir/optimized.pb")
  local out
  out=$(size_of "$dir/optimized.pb")
  local fl
  fl=$(floor "$dir" "$out")
  echo "| $name | $(mb "$inputs") | $(mb "$out") | $fl | $f_s ($(ratio "$f_s" "$fl")×) | $n_s ($(ratio "$n_s" "$fl")×) | $o_s ($(ratio "$o_s" "$fl")×) | $(mb $((f_kb * 1024))) | $(mb $((n_kb * 1024))) ($(ratio $((n_kb * 1024)) "$out")×) | $(mb $((o_kb * 1024))) ($(ratio $((o_kb * 1024)) "$out")×) |"
}

echo "### Freeze + optimize against the I/O floor"
echo
echo "Floor: \`cat\` of the inputs (meta, index, data) plus writing an output of the optimized graph's size."
echo "Times in seconds (ratio to the floor); peak RSS in MiB (ratio to the optimized output's size)."
echo
echo "| model | inputs MiB | output MiB | floor s | freeze s | freeze --optimize --no-verify s | freeze --optimize s | freeze RSS | --no-verify RSS | --optimize RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
run_model inception_v3 inception_v3 1
run_model mobilenet_v1 mobilenet_v1 1
run_model resnet50_v1 resnet50_v1 1
echo
echo "### Scaling with width (MobileNet V1: parameters grow with the square of the width)"
echo
echo "| model | inputs MiB | output MiB | floor s | freeze s | freeze --optimize --no-verify s | freeze --optimize s | freeze RSS | --no-verify RSS | --optimize RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for w in 1 2 4; do run_model "mobilenet_v1 ×$w" mobilenet_v1 "$w"; done
for w in 0.5; do run_model "inception_v3 ×$w" inception_v3 "$w"; done
for w in 2; do run_model "inception_v3 ×$w" inception_v3 "$w"; done

echo
echo "### Start-up"
echo
small="$work/mobilenet_v1_x1/optimized.pb"
startup() {  # median of 21 runs, milliseconds
  for _ in $(seq 21); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
  done | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[11] / 1000 }'
}
echo "| command | median ms (21 runs) |"
echo "| --- | --- |"
echo "| \`tffreeze --version\` | $(startup $B --version) |"
echo "| \`tffreeze inspect\` MobileNet V1, optimized (143 nodes, 16 MiB) | $(startup $B inspect "$small") |"
echo "| \`tffreeze inspect\` ARM DS-CNN (145 nodes) | $(startup $B inspect ../shared/testdata/arm-ml-kws-for-mcu/Pretrained_models/DS_CNN/DS_CNN_S.pb) |"

echo
echo "### Executor vs OpenCV DNN, and what the optimizer buys"
echo
echo "Same input, same thread count, median of 10 runs after 2 warm-ups. *frozen*: \`freeze\` alone (is_training"
echo "conds with constant predicates, unfolded batch norms); *stripped*: training ops and identities removed,"
echo "batch norms not folded; *optimized*: \`freeze --optimize --target opencv\`."
echo
echo "| graph | threads | tffreeze ms | OpenCV DNN ms | ratio | max abs diff |"
echo "| --- | --- | --- | --- | --- | --- |"
bench_graphs() {  # NAME DIR INPUT OUTPUT H
  local name=$1 dir=$2 input=$3 output=$4 h=$5
  $B optimize "$dir/frozen.pb" -o "$dir/stripped.pb" --outputs "$output" \
    --transforms "strip_unused_nodes strip_training_ops remove_nodes(op=Identity) sort_by_execution_order" >/dev/null
  for variant in frozen stripped optimized; do
    build/tffreeze-bench-executor "$name, $variant" "$dir/$variant.pb" "$input" "$output" "$h,$h,3" 10
  done
}
bench_graphs "Inception V3" "$work/inception_v3_x1" batch InceptionV3/Predictions/Reshape_1 299
bench_graphs "MobileNet V1" "$work/mobilenet_v1_x1" input_batch MobilenetV1/Predictions/Softmax 224
bench_graphs "ResNet-50 V1" "$work/resnet50_v1_x1" input_batch predictions/Softmax 224
