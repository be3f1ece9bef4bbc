#!/usr/bin/env bash
# Quick tuning of config.ini [transfer] chunk_kb / window: for each pair, a short bench run
# (BENCH_REPEATS, default 2, of the 256 MB workload on the bare link or BENCH_LINKS, no 10-job or
# service runs), then one table of them all.
#   scripts/bench/tune.sh 256/8 512/8 1024/4 1024/8
# config.ini is put back as it was at the end; build/bench-tune/ keeps each run's raw figures.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/build/bench-tune
config=$repo/config.ini
mkdir -p "$out"
cp "$config" "$out/config.ini.orig"
trap 'cp "$out/config.ini.orig" "$config"' EXIT
results=()
for pair in "$@"; do
  chunk=${pair%/*} window=${pair#*/}
  sed -i -E "s/^chunk_kb = .*/chunk_kb = $chunk/; s/^window = .*/window = $window/" "$config"
  BENCH_REPEATS=${BENCH_REPEATS:-2} BENCH_WORKLOADS=256 BENCH_LINKS=${BENCH_LINKS:-none} BENCH_SKIP_TEN=1 \
    BENCH_SKIP_SERVICE=1 BENCH_NO_DOCS=1 \
    "$repo/scripts/bench.sh" >"$out/$chunk-$window.log" 2>&1 || { echo "run $pair failed: $out/$chunk-$window.log" >&2; continue; }
  cp "$repo/build/bench/results.txt" "$out/$chunk-$window.txt"
  results+=("$out/$chunk-$window.txt")
done
python3 "$repo/scripts/bench/tune.py" "${results[@]}" | tee "$out/table.md"
