#!/usr/bin/env bash
# `make demo`: the seed's flow on two simulated hosts of this machine. Host A (the executor)
# runs a job that adds one to 41 in 3 s; the client migrates it to B before it is done and
# reads the result there. The last line printed is `result 42 from nodeB`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

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
wait_for_cluster 60 || die "the cluster did not form within 60 s; see $run/*.log"
log "cluster up"

# The seed's prompt flow, answered by a script: number, migration target, host to query, quit.
target=$(hosts_table | awk -F'\t' '$4 != "executor" {print $1; exit}')
printf '41\n%s\n%s\n\n' "$target" "$target" | client | tee "$run/client.log"
result=$(grep -E '^result ' "$run/client.log" | tail -1 || true)

trap - EXIT
cleanup
[ -n "$result" ] || die "the client printed no result; see $run/"
echo "$result"
