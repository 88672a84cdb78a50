#!/usr/bin/env bash
# The README's first command: build, generate a MobileNet-style TF 1 training checkpoint, freeze
# and optimize it for OpenCV in one step (with the numerical proof), summarize what changed, and
# run the result in OpenCV DNN beside tffreeze's own executor.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
out=build/example
rm -rf "$out"
mkdir -p "$out"
step() { echo; echo "\$ $*"; "$@"; }

step build/tffreeze-modelgen mobilenet_v1 --out "$out/mobilenet_v1" --image-size 160 --classes 100
step build/tffreeze inspect "$out/mobilenet_v1/model.ckpt.meta"
# freeze.args: -c CKPT --outputs ... --replace-input input_batch=float32[1,160,160,3] --set is_training=false --use-moving-averages
read -r -a args < "$out/mobilenet_v1/freeze.args"
step build/tffreeze freeze "$out/mobilenet_v1/model.ckpt.meta" "${args[@]}" --optimize --target opencv \
  -o "$out/mobilenet_v1.pb" --report "$out/report.json"

echo
/usr/bin/python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["optimize"]
changes = {p["pass"]: p["changed"] for p in o["passes"]}
print("summary")
print(f"  nodes: {r['nodes_before']} in the training graph -> {r['nodes_after']} frozen -> {o['nodes_after']} optimized")
print(f"  variables frozen: {len(r['variables'])} ({sum(v['moving_average'] for v in r['variables'])} from their moving averages)")
print(f"  training-only ops removed by strip_training_ops: {changes.get('strip_training_ops', 0)} rewrites (dropout, is_training conds)")
print(f"  batch norms folded into convolutions: {changes.get('fold_batch_norms', 0)}")
print(f"  bytes: {o['bytes_before']} frozen -> {o['bytes_after']} optimized")
for name, d in o.get("verification", {}).items():
    print(f"  verification, {name}: max abs difference {d['max_abs']:.3g} (within tolerance: {d['within_tolerance']})")
print(f"  rejected by the opencv target: {len(o['target_rejects'])} nodes")
PY

echo
echo "\$ tools/opencv_compare.py build/tffreeze $out/mobilenet_v1.pb input_batch MobilenetV1/Predictions/Softmax 160 160"
/usr/bin/python3 tools/opencv_compare.py build/tffreeze "$out/mobilenet_v1.pb" input_batch MobilenetV1/Predictions/Softmax 160 160

# The same graph from Python (the module tools/build.sh built; README "Python").
if ls build/python/tffreeze*.so >/dev/null 2>&1; then
  echo
  echo "\$ PYTHONPATH=build/python /usr/bin/python3  # tffreeze.inspect and tffreeze.run on a NumPy batch"
  PYTHONPATH=build/python /usr/bin/python3 - "$out/mobilenet_v1.pb" <<'PY'
import sys
import numpy as np
import tffreeze
path = sys.argv[1]
info = tffreeze.inspect(path)
print(f"  {path}: {info['node_count']} nodes, inputs {[i['name'] for i in info['inputs']]}")
batch = np.random.default_rng(0).random((1, 160, 160, 3), dtype=np.float32)
probs = tffreeze.run(path, {"input_batch": batch})["MobilenetV1/Predictions/Softmax"]
print(f"  run: {probs.dtype} {probs.shape}, top class {int(probs.argmax())}, sum {float(probs.sum()):.6f}")
PY
fi
