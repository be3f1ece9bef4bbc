#!/usr/bin/env bash
# Experiment for issue 16's concurrent_ratio (docs/tuning.md, "Many moves at once"): where the
# machine's CPU goes when ten 0 MB workers move nodeA → nodeB one after another and all at once.
# For each way: the wall time, the CPU-seconds the whole machine spent (from /proc/stat, both
# simulated hosts and the kernel), and how many of them the client processes spent (user + sys,
# each `migrate` under /usr/bin/time). Ten at once cannot take less wall time than the machine's
# CPU-seconds over its cores.
# NOT part of `make test` or `make bench`: run it by hand, as root, after `make setup`:
#
#   scripts/experiments/ten-cpu.sh CLIENT [MOVES]     # MOVES each way, default 10
#
# CLIENT: an installed client, e.g. unpacked from `make dist`. Its own simulated hosts (prefix
# amtc), taken down on exit.
set -euo pipefail
export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-amtc}
source "$(dirname "$0")/../lib.sh"

[ $# -ge 1 ] || die "usage: $0 CLIENT [MOVES]"
client_bin=$1
moves=${2:-10}
[ -x "$client_bin" ] || die "$client_bin is not an executable client"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

run=$repo/build/ten-cpu
times=$(mktemp -d)
trap 'cluster_down; rm -rf "$times"' EXIT
cluster_up "$run"
cl() { in_host client "$client_bin" --config "$config" "$@"; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; } # user nice system irq softirq
moved() { # job index mode
  in_host client /usr/bin/time -f "%U %S" -o "$times/$3-$2.cpu" \
    timeout 300 "$client_bin" --config "$config" migrate "$1" nodeB >"$times/$3-$2.out" 2>&1 ||
    die "the move of $1 failed: $(tail -1 "$times/$3-$2.out")"
}

# One move first that neither way counts: the nodes' first move pays their own warm-up.
cl submit 41 --id ten-cpu-warm-up --work-ms 600000 --state-mb 0 >/dev/null
wait_started nodeA amig-ten-cpu-warm-up
cl migrate ten-cpu-warm-up nodeB >/dev/null
for mode in serial concurrent; do
  for i in $(seq "$moves"); do cl submit 41 --id "ten-cpu-$mode-$i" --work-ms 600000 --state-mb 0 >/dev/null; done
  for i in $(seq "$moves"); do wait_started nodeA "amig-ten-cpu-$mode-$i"; done
  b0=$(busy_ticks)
  t0=$(now_ms)
  if [ "$mode" = concurrent ]; then
    pids=()
    for i in $(seq "$moves"); do moved "ten-cpu-$mode-$i" "$i" "$mode" & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid"; done
  else
    for i in $(seq "$moves"); do moved "ten-cpu-$mode-$i" "$i" "$mode"; done
  fi
  wall=$(($(now_ms) - t0))
  ticks=$(($(busy_ticks) - b0))
  hz=$(getconf CLK_TCK)
  machine=$(awk -v t="$ticks" -v hz="$hz" 'BEGIN {printf "%.1f", t / hz}')
  clients=$(cat "$times/$mode"-*.cpu | awk '{s += $1 + $2} END {printf "%.1f", s}')
  echo "mode=$mode moves=$moves wall_ms=$wall machine_cpu_s=$machine clients_cpu_s=$clients" \
    "busy=$(awk -v c="$machine" -v w="$wall" -v n="$(nproc)" 'BEGIN {printf "%.0f%%", 100 * c / (w / 1000 * n)}')" \
    "least_wall_ms=$(awk -v c="$machine" -v n="$(nproc)" 'BEGIN {printf "%d", 1000 * c / n}')"
  for i in $(seq "$moves"); do in_host nodeB podman rm -f -t 0 "amig-ten-cpu-$mode-$i" >/dev/null; done
done
