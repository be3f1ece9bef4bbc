#!/usr/bin/env bash
# `make demo`: the seed's flow on two simulated hosts of this machine. Host A (the executor)
# runs a job that adds one to 41 in 3 s; the client migrates it to B before it is done and
# reads the result there. The last line printed is `result 42 from nodeB`.
#   scripts/demo.sh [N]    (`make demo HOSTS=N`) the same flow in a cluster of N hosts, on a
#                          config made by scripts/cluster-config.sh; `status` shows them all up.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

hosts=${1:-}
if [ -n "$hosts" ]; then
  # Every script below reads the hosts from AKKA_MIGRATION_CONFIG.
  config=$("$repo/scripts/cluster-config.sh" "$hosts")
  export AKKA_MIGRATION_CONFIG=$config
  log "$hosts hosts, config $config"
fi

run=$repo/build/demo
mkdir -p "$run"
node_pids=()

cleanup() {
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  node_pids=()
  while IFS=$'\t' read -r name _; do reset_host "$name"; done < <(hosts_table)
  "$repo/scripts/hosts.sh" down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$repo/scripts/hosts.sh" up
while IFS=$'\t' read -r name _; do
  in_host "$name" "$repo/initializeDemo.sh" "$name"
  reset_host "$name"
done < <(hosts_table)

# The executor (seed) first, then the nodes that join it.
while IFS=$'\t' read -r name _ _ role _; do
  [ "$role" = executor ] && node_pids+=("$(start_node "$name" "$run/$name.log")")
done < <(hosts_table)
while IFS=$'\t' read -r name _ _ role _; do
  [ "$role" = executor ] || node_pids+=("$(start_node "$name" "$run/$name.log")")
done < <(hosts_table)
log "nodes starting; logs in $run"
# 60 s, and more for a cluster of many nodes starting at once on a small machine.
limit=$(( $(hosts_table | wc -l) * 15 > 60 ? $(hosts_table | wc -l) * 15 : 60 ))
wait_for_cluster "$limit" || die "the cluster did not form within $limit s; see $run/*.log"
log "cluster up"

# The seed's prompt flow, answered by a script: number, migration target, host to query, quit.
target=$(hosts_table | awk -F'\t' '$4 != "executor" {print $1; exit}')
printf '41\n%s\n%s\n\n' "$target" "$target" | client | tee "$run/client.log"
result=$(grep -E '^result ' "$run/client.log" | tail -1 || true)
# Beyond two hosts, show that every one of them is up and sees all the others.
if [ "$(hosts_table | wc -l)" -gt 2 ]; then client status || true; fi

trap - EXIT
cleanup
[ -n "$result" ] || die "the client printed no result; see $run/"
echo "$result"
