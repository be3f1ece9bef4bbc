# Shared by the scripts: where things are, and config.ini's hosts as the node reads them.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${AKKA_MIGRATION_CONFIG:-$repo/config.ini}
node_dll=$repo/Node/bin/Release/net10.0/AkkaMigration.Node.dll
client_dll=$repo/Client/bin/Release/net10.0/AkkaMigration.Client.dll
# `make dist`'s bundle: the folder it unpacks to, and the tarball holding it.
bundle_name=akka-migration-$(tr -d ' \n' <"$repo/VERSION")
dist_tarball=$repo/dist/$bundle_name-linux-x64.tar.gz
# The tests run a second set of simulated hosts beside the demo's, under another prefix.
netns_prefix=${AKKA_MIGRATION_NETNS_PREFIX:-amig}

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '\033[1;31m[%s] %s\033[0m\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# name address port executor podman_root podman_runroot state_dir image_archive image, tab separated.
hosts_table() {
  [ -f "$node_dll" ] || die "the node is not built: run scripts/setup.sh (or make build)"
  dotnet "$node_dll" hosts --config "$config"
}

# Where the simulated hosts put the client: .100 of the first host's /24. The client only dials
# out, so config.ini says nothing about it.
client_address() { local first; first=$(hosts_table | head -1 | cut -f2); echo "${first%.*}.100"; }

mount_ns_dir=/run/akka-migration/ns

netns_of() { echo "$netns_prefix-$1"; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# The median of the numbers on stdin, one per line or separated by spaces.
median() { tr -s ' ' '\n' | sort -n | awk 'NF {v[++n] = $1} END {print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2}'; }

# Run a command inside a simulated host: its network namespace and, for hosts, its mount
# namespace. nsenter, not `ip netns exec`: the latter remounts /sys and podman then finds no cgroups.
in_host() { local args; mapfile -t args < <(nsenter_args "$1"); shift; nsenter "${args[@]}" "$@"; }

nsenter_args() { # host
  local ns
  ns=$(netns_of "$1")
  [ -e "$mount_ns_dir/$ns" ] && echo "--mount=$mount_ns_dir/$ns"
  echo "--net=/var/run/netns/$ns"
}

podman_for() { # podman_root podman_runroot
  local args=(podman --runtime runc)
  [ "$1" != "-" ] && args+=(--root "$1")
  [ "$2" != "-" ] && args+=(--runroot "$2")
  echo "${args[@]}"
}

# Become HOST's node, inside the host's namespaces: exec all the way down (this shell, nsenter,
# dotnet), so that the caller's PID is the node's own; signals reach the node itself (SIGTERM makes
# it leave the cluster) and its exit code is the node's. config.ini says which host is the executor.
run_node() { # host
  local args
  [ -e "/var/run/netns/$(netns_of "$1")" ] || die "no simulated host '$1' is up (scripts/hosts.sh up)"
  mapfile -t args < <(nsenter_args "$1")
  exec nsenter "${args[@]}" dotnet "$node_dll" --config "$config" --host "$1"
}

# Start a node in the background; its output goes to LOG. Prints the node's PID.
start_node() { # host log
  (run_node "$1" >"$2" 2>&1) &
  echo $!
}

# The client, run from the client's namespace.
client() { in_host client dotnet "$client_dll" --config "$config" "$@"; }

# Wait until every host's node answers and sees every host as an up member of the cluster. The
# last status goes to stderr when it does not happen in time.
wait_for_cluster() { # seconds
  local hosts status="" deadline=$((SECONDS + $1))
  command -v jq >/dev/null || die "jq is missing (scripts/setup.sh installs it)"
  hosts=$(hosts_table | cut -f1 | jq -Rsc 'split("\n") | map(select(length > 0)) | sort')
  while :; do
    # status exits 3 while a node can't be reached, and still prints its JSON.
    status=$(client status --json 2>/dev/null || true)
    jq -e --argjson hosts "$hosts" \
      '(.unreachable | length) == 0 and ([.nodes[].node] | sort) == $hosts and all(.nodes[]; (.upMembers | sort) == $hosts)' \
      <<<"$status" >/dev/null 2>&1 && return 0
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
  done
  echo "last status: ${status:-none}" >&2
  return 1
}

# Until the worker has filled its state and printed STARTED, a checkpoint would catch less memory.
# The log is read whole before it is searched: `podman logs | grep -q` under pipefail fails with
# 141 once the log outgrows what grep reads before it exits (podman dies of SIGPIPE).
# A container that ended before is a failure at once, with its last words.
wait_started() { # host container
  local logs i state
  for i in $(seq 600); do
    logs=$(in_host "$1" timeout -k 5 20 podman logs "$2" 2>&1) || logs=
    grep -q '^STARTED' <<<"$logs" && return 0
    if [ $((i % 10)) = 0 ]; then
      state=$(in_host "$1" timeout -k 5 20 podman inspect -f '{{.State.Status}}' "$2" 2>/dev/null) || state=
      [ "$state" = exited ] && die "$2 on $1 exited before it printed STARTED: $(grep -m1 . <<<"$logs")"
    fi
    sleep 0.1
  done
  die "$2 on $1 never printed STARTED"
}

# A fresh start for a simulated host: none of this project's containers, and no job records
# (a node carries on with the jobs its records name).
reset_host() { # host
  local entry podman
  entry=$(hosts_table | awk -F'\t' -v h="$1" '$1 == h')
  IFS=$'\t' read -r _ _ _ _ root runroot state _ <<<"$entry"
  podman=$(podman_for "$root" "$runroot")
  in_host "$1" sh -c "$podman ps -aq --filter name='^amig-' | xargs -r $podman rm -f -t 0" >/dev/null 2>&1 || true
  # A service's volumes too: one left here would stop that service from moving here again.
  in_host "$1" $podman volume prune -f >/dev/null 2>&1 || true
  # An address the CNI IPAM still reserves for a container that is gone (a run killed during a
  # move) would refuse the next restore at that address; with none of ours left, none is held.
  in_host "$1" sh -c 'rm -f /var/lib/cni/networks/*/[0-9]*.[0-9]*.[0-9]*.[0-9]*' || true
  in_host "$1" rm -rf "$state/jobs"
}

# The demos' cluster: hosts up with the image loaded and nothing left from earlier runs, the
# executor's node first, then the others, logs in RUN_DIR; node PIDs in node_pids.
node_pids=()
cluster_up() { # run_dir
  local run=$1 name role limit
  mkdir -p "$run"
  "$repo/scripts/hosts.sh" up
  while IFS=$'\t' read -r name _; do
    in_host "$name" "$repo/initializeDemo.sh" "$name"
    reset_host "$name"
  done < <(hosts_table)
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
}

# Stops the nodes (SIGTERM, then SIGKILL after 5 s), empties the hosts and takes them down.
cluster_down() {
  local pid name
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  node_pids=()
  while IFS=$'\t' read -r name _; do reset_host "$name"; done < <(hosts_table)
  "$repo/scripts/hosts.sh" down
}
