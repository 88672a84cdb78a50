#!/usr/bin/env bash
# tffreeze.Checkpoint at scale: reads every tensor of a generated SIZE_MB (default 600) V2
# checkpoint from Python, sums each (every page touched), and checks that peak RSS grows by no
# more than the largest tensor (bench/python_checkpoint.py; exit 1 if it does). Next to it, the
# same checkpoint through `tffreeze ckpt check` (GNU time's peak RSS) and the interpreter alone.
#   bench/python_checkpoint.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-600}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
tools/build.sh >/dev/null
[ -n "$(ls build/python/tffreeze*.so 2>/dev/null)" ] || { echo "the Python module is not built (see README: Python)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/tffreeze-bench-checkpoint "$work/model.ckpt" "$size_mb" 2>/dev/null
export PYTHONPATH=build/python
/usr/bin/time -f '%M' -o "$work/base" /usr/bin/python3 -c "import numpy, tffreeze; tffreeze.Checkpoint('$work/model.ckpt')"
/usr/bin/time -f '%M' -o "$work/check" build/tffreeze ckpt check "$work/model.ckpt" >/dev/null
/usr/bin/time -f '%M' -o "$work/py" /usr/bin/python3 bench/python_checkpoint.py "$work/model.ckpt"
echo "| python3: import tffreeze, open the checkpoint | peak RSS $(($(cat "$work/base") / 1024)) MiB |"
echo "| tffreeze ckpt check | peak RSS $(($(cat "$work/check") / 1024)) MiB |"
echo "| tffreeze.Checkpoint: every tensor read and summed | peak RSS $(($(cat "$work/py") / 1024)) MiB |"
