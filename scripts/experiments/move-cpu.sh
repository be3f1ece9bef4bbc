#!/usr/bin/env bash
# Experiment: where a move's CPU goes. One worker with MB of incompressible state moves between
# nodeA and nodeB MOVES times, back and forth. For each move: its wall time, the CPU-seconds of the
# whole machine (from /proc/stat: both simulated hosts, podman, CRIU and the kernel), and each
# node's own (utime + stime from /proc/PID/stat) beside what its finished children spent (the
# podman processes it ran). The first two moves pay the nodes' warm-up (the JIT); compare the rest.
# NOT part of `make test` or `make bench`: run it by hand, as root, after `make setup`:
#
#   scripts/experiments/move-cpu.sh [MB [MOVES]]     # default 256 MB, 6 moves
#
# The nodes are this checkout's build; the environment reaches them, so a runtime setting can be
# compared on one build (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70 is .NET's default spin).
# Its own simulated hosts (prefix ammc), taken down on exit.
set -euo pipefail
export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-ammc}
source "$(dirname "$0")/../lib.sh"

mb=${1:-256}
moves=${2:-6}
run=$repo/build/move-cpu
trap cluster_down EXIT
cluster_up "$run"
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; } # user nice system irq softirq
own_and_children() { awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat"; } # ticks
hz=$(getconf CLK_TCK)
seconds() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'; }

client submit 41 --id move-cpu --work-ms 3600000 --state-mb "$mb" >/dev/null
wait_started nodeA amig-move-cpu

to=nodeB
for m in $(seq "$moves"); do
  read -r a_own a_kids < <(own_and_children "${node_pids[0]}")
  read -r b_own b_kids < <(own_and_children "${node_pids[1]}")
  busy=$(busy_ticks)
  t0=$(now_ms)
  client migrate move-cpu "$to" >"$run/move-$m.out" 2>&1 || die "move $m failed: $(tail -1 "$run/move-$m.out")"
  wall=$(($(now_ms) - t0))
  busy=$(($(busy_ticks) - busy))
  read -r a_own2 a_kids2 < <(own_and_children "${node_pids[0]}")
  read -r b_own2 b_kids2 < <(own_and_children "${node_pids[1]}")
  echo "move=$m to=$to wall_ms=$wall machine_cpu_s=$(seconds "$busy")" \
    "nodeA_cpu_s=$(seconds $((a_own2 - a_own))) nodeA_children_cpu_s=$(seconds $((a_kids2 - a_kids)))" \
    "nodeB_cpu_s=$(seconds $((b_own2 - b_own))) nodeB_children_cpu_s=$(seconds $((b_kids2 - b_kids)))" \
    "nodes_cpu_s=$(seconds $((a_own2 - a_own + b_own2 - b_own)))"
  [ "$to" = nodeB ] && to=nodeA || to=nodeB
  sleep 2
done
