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
trap cluster_down EXIT
trap 'exit 130' INT TERM
cluster_up "$run"

# The seed's prompt flow, answered by a script: number, migration target, host to query, quit.
target=$(hosts_table | awk -F'\t' '$4 != "executor" {print $1; exit}')
printf '41\n%s\n%s\n\n' "$target" "$target" | client | tee "$run/client.log"
result=$(grep -E '^result ' "$run/client.log" | tail -1 || true)
# Beyond two hosts, show that every one of them is up and sees all the others.
if [ "$(hosts_table | wc -l)" -gt 2 ]; then client status || true; fi
# The move as the executor's /metrics counts it, fetched from the client's host as a scraper would
# (on stderr: the last line on stdout stays the result). The node logs its metrics address.
executor=$(hosts_table | awk -F'\t' '$4 == "executor" {print $1; exit}')
metrics=$(grep -o 'http://[^ ]*/metrics' "$run/$executor.log" | head -1 || true)
if [ -z "$metrics" ] || ! command -v curl >/dev/null; then
  log "no metrics shown: ${metrics:-$executor has metrics_port = 0}${metrics:+, and curl is missing}"
elif in_host client curl -fsS --max-time 5 "$metrics" >"$run/$executor.metrics"; then
  log "$metrics after the move:"
  grep -E '^akkamigration_(migrations_total|migration_(duration|downtime)_milliseconds_sum)' "$run/$executor.metrics" >&2 || true
else
  log "$metrics did not answer"
fi

trap - EXIT
cluster_down
[ -n "$result" ] || die "the client printed no result; see $run/"
echo "$result"
