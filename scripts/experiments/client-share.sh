#!/usr/bin/env bash
# Experiment for issue 16's small_job_ratio (docs/tuning.md, "A client's share of a move"): how
# much of a move's clientMs is the client's own, and does a change to the client shrink it? Two
# client binaries (the bundle's, from `make dist` of two commits) take turns moving 0 MB workers
# nodeA → nodeB through the same nodes (this checkout's build), so the nodes' side is the same for
# both. A move's client share is its clientMs less the node's totalMs (`migrate --json`): the
# request's connection, reading the answers, and the node's steps after its clock stopped.
# NOT part of `make test` or `make bench`: run it by hand, as root, after `make setup`:
#
#   scripts/experiments/client-share.sh CLIENT_A CLIENT_B [MOVES]     # MOVES per client, default 6
#
# e.g. with CLIENT_A=/tmp/old/akka-migration-0.1.0/client/AkkaMigration.Client, unpacked from the
# dist tarball of the commit before. Its own simulated hosts (prefix amcs), taken down on exit.
# Prints each move's figures, then per client the median share and the median clientMs.
set -euo pipefail
export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-amcs}
source "$(dirname "$0")/../lib.sh"

[ $# -ge 2 ] || die "usage: $0 CLIENT_A CLIENT_B [MOVES]"
clients=("$1" "$2")
moves=${3:-6}
for c in "${clients[@]}"; do [ -x "$c" ] || die "$c is not an executable client"; done
command -v jq >/dev/null || die "jq is missing (scripts/setup.sh installs it)"

run=$repo/build/client-share
trap cluster_down EXIT
cluster_up "$run"
# One move first that neither side counts: the nodes' first move pays their own warm-up.
client submit 41 --id share-warm-up --work-ms 600000 --state-mb 0 >/dev/null
sleep 2
client migrate share-warm-up nodeB >/dev/null
in_host nodeB podman rm -f -t 0 amig-share-warm-up >/dev/null
shares=("" "")
totals=("" "")
for i in $(seq "$moves"); do
  for side in 0 1; do
    id=share-$side-$i
    # `client` is lib.sh's checkout client; each side's own binary moves the job.
    client submit 41 --id "$id" --work-ms 600000 --state-mb 0 >/dev/null
    sleep 2
    figures=$(in_host client timeout 120 "${clients[$side]}" --config "$config" migrate "$id" nodeB --json |
      jq -r 'select(.ok == true) | "\(.clientMs) \(.timings.totalMs)"') || die "the move of $id failed"
    read -r client_ms node_ms <<<"$figures"
    echo "client=$side move=$i client_ms=$client_ms node_total_ms=$node_ms share_ms=$((client_ms - node_ms))"
    shares[side]+="$((client_ms - node_ms)) "
    totals[side]+="$client_ms "
    in_host nodeB podman rm -f -t 0 "amig-$id" >/dev/null
  done
done
for side in 0 1; do
  echo "client=$side ${clients[$side]} median_share_ms=$(median <<<"${shares[side]}") median_client_ms=$(median <<<"${totals[side]}")"
done
