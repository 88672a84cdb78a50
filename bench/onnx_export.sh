#!/usr/bin/env bash
# ONNX export at real model sizes: export time next to freeze time (one run, files in the page
# cache), then the latency of the same model in onnxruntime (our .onnx), our executor (the
# optimized TF graph), OpenCV DNN's ONNX importer (our .onnx) and its TF importer (the optimized
# TF graph), on the same input and thread count. Prints the markdown recorded in BENCHMARKS.md.
#   bench/onnx_export.sh [RUNS] [WORKDIR]      (default 20 runs, /tmp/tffreeze-bench-onnx)
#   MODELS="mobilenet_v1" bench/onnx_export.sh   (some of the models only)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh >/dev/null
runs=${1:-20}
work=${2:-/tmp/tffreeze-bench-onnx}
read -r -a models <<<"${MODELS:-inception_v3 mobilenet_v1 resnet50_v1}"
rm -rf "$work"
mkdir -p "$work"
B=build/tffreeze
T=/usr/bin/time

measure() { $T -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }; cat "$work/time.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "$(nproc) cores, $(date -u +%Y-%m-%d); onnxruntime-node $(node -p "require('./tools/onnxruntime/node_modules/onnxruntime-node/package.json').version"), OpenCV $(/usr/bin/python3 -c 'import cv2; print(cv2.__version__)')"
echo
echo "| model | freeze s | freeze --optimize s | ... -o .onnx s | --inputs-as-nchw s | export / freeze | peak RSS MiB (onnx) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
declare -A input_of
for model in "${models[@]}"; do
  dir="$work/$model"
  build/tffreeze-modelgen "$model" --out "$dir" >/dev/null
  read -r -a args <"$dir/freeze.args"
  input=$(grep -o -- '--replace-input [^=]*' "$dir/freeze.args" | cut -d' ' -f2)
  input_of[$model]=$input
  cat "$dir"/model.ckpt.* >/dev/null
  read -r f_s _ < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" -o "$dir/frozen.pb")
  read -r o_s _ < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" --optimize -o "$dir/optimized.pb")
  read -r x_s x_kb < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" --optimize -o "$dir/model.onnx")
  read -r n_s _ < <(measure $B freeze "$dir/model.ckpt.meta" "${args[@]}" --optimize -o "$dir/nchw.onnx" --inputs-as-nchw "$input")
  # For OpenCV's ONNX importer: --target opencv (its measured rules); refused where they reject a node.
  $B freeze "$dir/model.ckpt.meta" "${args[@]}" --optimize --target opencv -o "$dir/opencv.onnx" --inputs-as-nchw "$input" \
    >/dev/null 2>"$dir/opencv_export.err" || true
  echo "| $model | $f_s | $o_s | $x_s | $n_s | $(ratio "$x_s" "$f_s") | $((x_kb / 1024)) |"
done
echo
echo "Latency, median (OpenCV) or mean (onnxruntime, tffreeze) of $runs runs after a warm-up, ms:"
echo
echo "| model | threads | onnxruntime (.onnx) | tffreeze (.pb) | OpenCV ONNX importer (.onnx --target opencv, NCHW input) | OpenCV TF importer (.pb) | tffreeze / onnxruntime |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for model in "${models[@]}"; do
  dir="$work/$model"
  input=${input_of[$model]}
  shape=$($B inspect "$dir/optimized.pb" --json | /usr/bin/python3 -c 'import json,sys; print(",".join(str(d) for d in json.load(sys.stdin)["inputs"][0]["shape"]))')
  /usr/bin/python3 -c "import numpy as np; np.random.seed(1); x=np.random.rand($shape).astype(np.float32); np.save('$dir/x.npy', x); np.save('$dir/x_nchw.npy', np.ascontiguousarray(x.transpose(0,3,1,2)))"
  for threads in 1 2; do
    ort=$(node tools/onnxruntime/run_onnx.js "$dir/model.onnx" "$work/ort" "$input=$dir/x.npy" --threads "$threads" --repeat "$runs" | awk '/latency_ms/ { printf "%.1f", $2 }')
    ours=$(OMP_NUM_THREADS=$threads $B run "$dir/optimized.pb" -i "$input=$dir/x.npy" --repeat "$runs" | awk '/^latency:/ { printf "%.1f", $2 }')
    if [ -f "$dir/opencv.onnx" ]; then
      cv_onnx=$(/usr/bin/python3 bench/opencv_latency.py "$dir/opencv.onnx" "$dir/x.npy" "$threads" "$runs" --nchw)
    else
      cv_onnx="export refused: $(tail -1 "$dir/opencv_export.err" | sed "s/.*e\.g\. //" | cut -c1-90)"
    fi
    cv_tf=$(/usr/bin/python3 bench/opencv_latency.py "$dir/optimized.pb" "$dir/x.npy" "$threads" "$runs")
    fmt() { case "$1" in latency_ms*) awk '{ printf "%.1f", $2 }' <<<"$1" ;; *) echo "${1:0:90}" | tr '|' '/' ;; esac; }
    echo "| $model | $threads | $ort | $ours | $(fmt "$cv_onnx") | $(fmt "$cv_tf") | $(ratio "$ours" "$ort") |"
  done
done
