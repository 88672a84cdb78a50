#!/usr/bin/env bash
# The files this build writes against those of another build (an earlier commit's tffreeze):
# freeze, freeze --optimize (generic and opencv targets) and optimize of the frozen graph, on the
# generated models. Prints one line per file: "same" or "DIFFERS", and exits 1 on any difference.
#   bench/same_outputs.sh OTHER_TFFREEZE [WORKDIR]   (default /tmp/tffreeze-bench-same)
set -euo pipefail
cd "$(dirname "$0")/.."
other=$(realpath "$1")
tools/build.sh >/dev/null
work=${2:-/tmp/tffreeze-bench-same}
rm -rf "$work"
mkdir -p "$work"
source bench/common.sh
status=0
for spec in "inception_v3 1" "inception_v3 2" "mobilenet_v1 1" "resnet50_v1 1"; do
  read -r model width <<<"$spec"
  dir="$work/${model}_x$width"
  $G "$model" --out "$dir" --width-multiplier "$width" >/dev/null
  read -r -a args <"$dir/freeze.args"
  for job in "frozen.pb" "generic.pb --optimize" "opencv.pb --optimize --target opencv"; do
    read -r out extra <<<"$job"
    read -r -a extra <<<"${extra:-}"
    $B freeze "$dir/model.ckpt.meta" "${args[@]}" "${extra[@]}" -o "$dir/new-$out" >/dev/null
    "$other" freeze "$dir/model.ckpt.meta" "${args[@]}" "${extra[@]}" -o "$dir/old-$out" >/dev/null
  done
  $B optimize "$dir/new-frozen.pb" -o "$dir/new-optimized.pb" >/dev/null
  "$other" optimize "$dir/old-frozen.pb" -o "$dir/old-optimized.pb" >/dev/null
  for out in frozen.pb generic.pb opencv.pb optimized.pb; do
    if cmp -s "$dir/new-$out" "$dir/old-$out"; then verdict=same; else verdict=DIFFERS; status=1; fi
    echo "$model ×$width $out: $verdict ($(size_of "$dir/new-$out") bytes)"
  done
done
exit $status
