#!/usr/bin/env bash
# Experiment for issue 16's client_status_wall_ms (docs/tuning.md, "A client's start-up"): what a
# whole client process costs, in wall time and in CPU, for two client binaries side by side. Each
# asks `status` of the same nodes (this checkout's build), taking turns, then ten of each are
# started at once, as the benchmark's ten-at-once part does with `migrate`.
# NOT part of `make test` or `make bench`: run it by hand, as root, after `make setup`:
#
#   scripts/experiments/client-startup.sh CLIENT_A CLIENT_B [CALLS]     # CALLS per client, default 8
#
# e.g. with CLIENT_A=/tmp/old/akka-migration-0.1.0/client/AkkaMigration.Client, unpacked from the
# dist tarball of the commit before. Its own simulated hosts (prefix amst), taken down on exit.
# Prints per client the median wall and CPU (user + sys) of one call, then each ten-at-once round.
set -euo pipefail
export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-amst}
source "$(dirname "$0")/../lib.sh"

[ $# -ge 2 ] || die "usage: $0 CLIENT_A CLIENT_B [CALLS]"
clients=("$1" "$2")
calls=${3:-8}
for c in "${clients[@]}"; do [ -x "$c" ] || die "$c is not an executable client"; done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

run=$repo/build/client-startup
times=$(mktemp -d)
trap 'cluster_down; rm -rf "$times"' EXIT
cluster_up "$run"
# One call each first that neither side counts: the page cache holds both binaries after it.
for side in 0 1; do in_host client "${clients[$side]}" --config "$config" status >/dev/null; done

timed() { # side output_file: one `status`, its wall and CPU seconds written to the file
  in_host client /usr/bin/time -f "%e %U %S" -o "$2" "${clients[$1]}" --config "$config" status >/dev/null
}

for i in $(seq "$calls"); do
  for side in 0 1; do timed "$side" "$times/$side-$i"; done
done
for side in 0 1; do
  echo "client=$side ${clients[$side]} calls=$calls" \
    "status_wall_s=$(cat "$times/$side"-* | awk '{print $1}' | median)" \
    "status_cpu_s=$(cat "$times/$side"-* | awk '{print $2 + $3}' | median)"
done
for round in 1 2; do
  for side in 0 1; do
    t0=$(now_ms)
    pids=()
    for j in $(seq 10); do timed "$side" "$times/ten-$side-$j" & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid"; done
    echo "client=$side round=$round ten_at_once_ms=$(($(now_ms) - t0))" \
      "cpu_s=$(cat "$times/ten-$side"-* | awk '{s += $2 + $3} END {print s}')"
  done
done
