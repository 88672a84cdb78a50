#!/usr/bin/env bash
# Checkpoint reading at scale: time and peak RSS of `tffreeze ckpt list`, `ckpt check` (reads
# and verifies every tensor) and `ckpt dump` of one tensor, on a generated checkpoint of
# SIZE_MB (default 600), next to the I/O floor in the same run: `cat` of the same files.
# Warm page cache for every row (each command runs once untimed first); best of 3 runs.
#   bench/checkpoint_io.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-600}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
tools/build.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/tffreeze-bench-checkpoint "$work/model.ckpt" "$size_mb" 2>/dev/null
prefix="$work/model.ckpt"
bytes=$(cat "$prefix".index "$prefix".data-* | wc -c)

# best wall seconds (bash's microsecond clock) and max RSS (KiB, GNU time) of 3 runs
measure() {
  "$@" >/dev/null 2>&1
  local best="" rss=0 start end wall kib
  for _ in 1 2 3; do
    start=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$work/t" "$@" >/dev/null 2>&1
    end=$EPOCHREALTIME
    wall=$(awk "BEGIN{printf \"%.4f\", $end - $start}")
    read -r kib <"$work/t"
    if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
    [ "$kib" -gt "$rss" ] && rss=$kib
  done
  echo "$best $rss"
}

# `cat > /dev/null` may never copy the bytes to a process (the kernel can short-cut it), so the
# floor is cat into a pipe that a reader drains: every byte delivered to user space once.
read -r cat_s cat_kib < <(measure sh -c "cat '$prefix'.index '$prefix'.data-* | wc -c")
read -r devnull_s devnull_kib < <(measure sh -c "cat '$prefix'.index '$prefix'.data-* >/dev/null")
read -r list_s list_kib < <(measure build/tffreeze ckpt list "$prefix")
read -r check_s check_kib < <(measure build/tffreeze ckpt check "$prefix")
read -r dump_s dump_kib < <(measure build/tffreeze ckpt dump "$prefix" layer_7/weights -o "$work/one.npy")

ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
echo "checkpoint: $((bytes >> 20)) MiB, $(build/tffreeze ckpt list "$prefix" | wc -l) tensors (largest 9.0 MiB); $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
echo "| command | wall s | x cat | peak RSS MiB |"
echo "| --- | --- | --- | --- |"
echo "| cat index + data \\| wc -c (I/O floor) | $cat_s | 1.00 | $((cat_kib / 1024)) |"
echo "| cat index + data > /dev/null | $devnull_s | $(ratio "$devnull_s" "$cat_s") | $((devnull_kib / 1024)) |"
echo "| tffreeze ckpt list | $list_s | $(ratio "$list_s" "$cat_s") | $((list_kib / 1024)) |"
echo "| tffreeze ckpt check (read + verify every tensor) | $check_s | $(ratio "$check_s" "$cat_s") | $((check_kib / 1024)) |"
echo "| tffreeze ckpt dump one 9 MiB tensor to .npy | $dump_s | $(ratio "$dump_s" "$cat_s") | $((dump_kib / 1024)) |"
