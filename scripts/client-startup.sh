#!/usr/bin/env bash
# How long one `client status` takes as a whole process, against a running two-host cluster, for
# the client as built here (`dotnet ...Client.dll`, JIT) and as the bundle installs it
# (self-contained, ReadyToRun), alternating so that load hits both alike:
#   make dist && scripts/client-startup.sh [RUNS]
# Prints each run, then `client_status_wall_ms_dll=` and `client_status_wall_ms_bundle=` (medians).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${1:-7}
tarball=$repo/dist/akka-migration-$(cat "$repo/VERSION")-linux-x64.tar.gz
[ -f "$tarball" ] || die "$tarball is missing: run make dist first"
unpacked=$(mktemp -d)
tar -xzf "$tarball" -C "$unpacked"
bundle_client=$(echo "$unpacked"/akka-migration-*/client/AkkaMigration.Client)

trap 'cluster_down; rm -rf "$unpacked"' EXIT
trap 'exit 130' INT TERM
cluster_up "$repo/build/client-startup"

wall_ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
dll=() bundle=()
for run in $(seq "$runs"); do
  dll+=("$(wall_ms client status)")
  bundle+=("$(wall_ms in_host client "$bundle_client" --config "$config" status)")
  log "run $run: dll ${dll[-1]} ms, bundle ${bundle[-1]} ms"
done
echo "client_status_wall_ms_dll=$(printf '%s\n' "${dll[@]}" | median)"
echo "client_status_wall_ms_bundle=$(printf '%s\n' "${bundle[@]}" | median)"
