# Shared by the bench scripts (sourced after they set $work): timing with GNU time, sizes, ratios,
# and the I/O floor a freeze is compared with.
B=build/tffreeze
G=build/tffreeze-modelgen
T=/usr/bin/time

# "seconds peak_kb" of a command (its output discarded).
measure() { $T -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }; cat "$work/time.txt"; }
size_of() { stat -c %s "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# I/O floor: read every input file (once before, so it is in the page cache), then write an
# output of the given size.
floor() {  # floor DIR OUTPUT_BYTES -> seconds
  local dir=$1 bytes=$2 t0 t1
  cat "$dir"/model.ckpt.* >/dev/null
  t0=$(date +%s.%N)
  cat "$dir"/model.ckpt.* >/dev/null
  head -c "$bytes" /dev/zero >"$work/floor.out"
  t1=$(date +%s.%N)
  rm -f "$work/floor.out"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
