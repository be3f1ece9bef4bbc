#!/usr/bin/env bash
# A simulated host's node, one way for the scripts and the tests' fixture (Tests/EndToEnd/SimulatedHosts.cs):
#   scripts/node.sh run HOST       become HOST's node (in the foreground, inside the host): the PID,
#                                  signals and exit code are the node's own; AKKA_MIGRATION_FAULT passes through
#   scripts/node.sh wait SECONDS   until every node sees every host as an up member (client status --json)
#   scripts/node.sh reset HOST     none of this project's containers and no job records on HOST
# The hosts come from $AKKA_MIGRATION_CONFIG (default config.ini), under $AKKA_MIGRATION_NETNS_PREFIX.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage="usage: $0 run HOST | wait SECONDS | reset HOST"
case "${1:-}" in
  run) run_node "${2:?$usage}" ;;
  wait) wait_for_cluster "${2:?$usage}" || die "the cluster did not form within $2 s" ;;
  reset) reset_host "${2:?$usage}" ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
