#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan+UBSan, build-fuzz/), derives seed corpora from
# ../shared/testdata and generated models (never stored in the repository), and runs every target
# for FUZZ_SECONDS (default 30), as many at a time as there are cores. Prints one line per target
# (executions, coverage, corpus) and exits 1 if any target found a crash, a leak or a timeout;
# the reproducer is in build-fuzz/findings/.
#   FUZZ_SECONDS=600 tools/fuzz.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh >/dev/null
seconds=${FUZZ_SECONDS:-30}
data=${TFFREEZE_TESTDATA:-../shared/testdata}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(graphdef pbtxt metagraph savedmodel checkpoint npy tfjs transforms executor onnx onnx_export python)

# The build's output goes to a log, printed when the build fails (CI must show why).
mkdir -p build-fuzz
build_log=build-fuzz/build.log
quiet() { "$@" >"$build_log" 2>&1 || { cat "$build_log" >&2; echo "fuzz: build failed: $*" >&2; exit 1; }; }
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  quiet env CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DTFFREEZE_FUZZ=ON \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -g -DNDEBUG"
fi
quiet ninja -C build-fuzz $(printf 'fuzz_%s ' "${targets[@]}") tffreeze-modelgen

if [ ! -d "$data" ]; then
  if [ "${CI:-}" = "true" ]; then echo "fuzz: $data missing (CI=true)" >&2; exit 1; fi
  echo "fuzz: $data missing: seeds come from generated models only" >&2
fi

corpus=build-fuzz/corpus
findings=build-fuzz/findings
mkdir -p "$findings"
rm -rf build-fuzz/seeds && mkdir -p build-fuzz/seeds
seed() { mkdir -p "$corpus/$1" build-fuzz/seeds/$1; }
small() { find "$data" -type f -name "$1" -size -256k 2>/dev/null | sort; }
copy_seeds() {  # target pattern
  seed "$1"
  local i=0
  while read -r f; do
    [ -n "$f" ] && cp "$f" "build-fuzz/seeds/$1/$(printf %04d $i)-$(basename "$f")" && i=$((i + 1))
  done < <(small "$2")
}
# Two files in one input: a 2-byte big-endian length of the first, then both.
pair() {  # out first second
  python3 -c '
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
open(sys.argv[3], "wb").write(len(a).to_bytes(2, "big") + a + b)' "$2" "$3" "$1"
}

copy_seeds graphdef "*.pb"
copy_seeds pbtxt "*.pbtxt"
copy_seeds metagraph "*.meta"
copy_seeds savedmodel "saved_model.pb"
copy_seeds npy "*.npy"
seed checkpoint
i=0
while read -r index; do
  shard="${index%.index}.data-00000-of-00001"
  [ -f "$shard" ] && [ "$(stat -c %s "$index")" -lt 65536 ] && [ "$(stat -c %s "$shard")" -lt 262144 ] || continue
  pair "build-fuzz/seeds/checkpoint/$i" "$index" "$shard"
  i=$((i + 1))
done < <(find "$data" -name "*.index" 2>/dev/null | sort)
seed tfjs
i=0
while read -r json; do
  bin="${json%.json}.bin"
  [ -f "$bin" ] || bin=$(ls "$(dirname "$json")"/*.bin 2>/dev/null | head -1 || true)
  [ -n "$bin" ] && [ "$(stat -c %s "$json")" -lt 65536 ] || continue
  pair "build-fuzz/seeds/tfjs/$i" "$json" "$bin"
  i=$((i + 1))
done < <(find "$data" -name "*.json" -size -64k 2>/dev/null | sort)
seed transforms
n=0
for p in "strip_unused_nodes fold_constants(max_bytes=100)" "remove_nodes(op=Identity|CheckNumerics)" \
  "strip_unused_nodes(type=float32, shape=\"1,4,4,2\") fold_batch_norms" "round_weights(num_steps=16, min_elements=2)" \
  "strip_training_ops(with_default=auto) canonicalize_operands canonicalize_activations unpack_to_split" \
  "unfuse_ops flatten_atrous_conv fuse_bias_add merge_duplicate_nodes strip_attrs(names=_class) sort_by_execution_order"; do
  printf '%s' "$p" >"build-fuzz/seeds/transforms/$n"
  n=$((n + 1))
done
# Generated models: a small MobileNet training graph, its frozen and optimized graphs and its
# checkpoint join the seeds of the graph, meta and executor targets.
gen=build-fuzz/generated
rm -rf "$gen"
build-fuzz/tffreeze-modelgen mobilenet_v1 --out "$gen" --width-multiplier 0.25 --image-size 32 --classes 4 >/dev/null 2>&1 || true
if [ -f "$gen/model.ckpt.meta" ] && [ -x build/tffreeze ]; then
  cp "$gen/model.ckpt.meta" build-fuzz/seeds/metagraph/generated.meta
  read -r -a args <"$gen/freeze.args"
  build/tffreeze freeze "$gen/model.ckpt.meta" "${args[@]}" --optimize --no-verify -o "$gen/opt.pb" >/dev/null 2>&1 &&
    cp "$gen/opt.pb" build-fuzz/seeds/graphdef/generated.pb
fi
seed executor
seed python  # starts empty: its inputs are a dtype, a layout, a shape and bytes
seed onnx
seed onnx_export
if [ -x build/tffreeze ]; then
  i=0
  for f in $(small "*.pb") $(small "*.pbtxt"); do
    out="build-fuzz/seeds/executor/$i.pbtxt"
    build/tffreeze convert "$f" "$out" >/dev/null 2>&1 || continue
    [ "$(grep -c '^node {' "$out")" -le 64 ] || { rm -f "$out"; continue; }
    cp "$out" "build-fuzz/seeds/onnx_export/$i.pbtxt"
    # Its ONNX form, where it has one, seeds the ONNX reader.
    build/tffreeze convert "$out" "build-fuzz/seeds/onnx/$i.onnx" >/dev/null 2>&1 || true
    i=$((i + 1))
  done
fi

run_target() {
  local t=$1 log="build-fuzz/fuzz_$1.log" leaks=1
  # The python target embeds the interpreter, which keeps its allocations until it exits.
  [ "$t" = python ] && leaks=0
  set +e
  ASAN_OPTIONS=detect_leaks=$leaks:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/fuzz_$t" "$corpus/$t" "build-fuzz/seeds/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -max_len=262144 -timeout=25 -print_final_stats=1 -artifact_prefix="$findings/$t-" >"$log" 2>&1
  echo $? >"build-fuzz/fuzz_$t.rc"
  set -e
}
jobs_max=$(nproc)
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
  run_target "$t" &
done
wait

status=0
echo "| target | seconds | executions | coverage (edges) | features | corpus | result |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for t in "${targets[@]}"; do
  log="build-fuzz/fuzz_$t.log"
  rc=$(cat "build-fuzz/fuzz_$t.rc")
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
  corp=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
  result="ok"
  if [ "$rc" != 0 ]; then
    result="FINDING: $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|deadly signal' "$log" | cut -c1-120)"
    status=1
  fi
  echo "| $t | $seconds | ${execs:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $result |"
done
exit $status
