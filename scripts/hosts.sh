#!/usr/bin/env bash
# Simulated hosts on this machine. Each host of config.ini (or of $AKKA_MIGRATION_CONFIG, e.g. one
# that scripts/cluster-config.sh made for N hosts) gets what a real host has of its own:
#   - a network namespace with its address, wired to a bridge in a "switch" namespace (the
#     client gets one too); nothing is routed outside them;
#   - a mount namespace in which its own folders sit at podman's default paths, so two hosts
#     see the same paths for different stores, exactly like two machines. A checkpoint archive
#     records such paths, so this is what lets an archive from A restore on B.
#   scripts/hosts.sh up      create what is missing (idempotent)
#   scripts/hosts.sh down    remove them all, as if the hosts were switched off
#   scripts/hosts.sh cut|mend HOST   take a host's link down or up
set -euo pipefail
source "$(dirname "$0")/lib.sh"

switch=$netns_prefix-switch
# A host's veth is PREFIX-INDEX (the client's index is 99) and its switch end PREFIX-INDEXs. The
# dash keeps prefixes apart (amt with index 30 would otherwise be amt3 with index 0), and Linux
# allows 15 characters in an interface name.
[ ${#netns_prefix} -le 11 ] || die "AKKA_MIGRATION_NETNS_PREFIX '$netns_prefix' is too long: 11 characters at most (veth names)"
prefix_len=24
# The paths a host's podman and node use, each given a per-host folder inside the host: podman's
# store, CNI's network configs and address leases, and the containers' network namespaces.
private_paths=(/var/lib/containers /run/containers /run/libpod /run/runc /var/lib/akka-migration/node
  /etc/cni/net.d /var/lib/cni /run/netns)

# awk reads the whole list: `| grep -q` under pipefail fails when the writer is cut off (SIGPIPE).
ns_exists() { ip netns list | awk -v ns="$1" '$1 == ns {found = 1} END {exit !found}'; }

network() { # namespace address index
  local ns=$1 address=$2 index=$3 veth=$netns_prefix-$3
  ns_exists "$ns" || ip netns add "$ns"
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    ip link del "$veth" 2>/dev/null || true
    ip link add "$veth" type veth peer name "${veth}s"
    ip link set "$veth" netns "$ns"
    ip -n "$ns" link set "$veth" name eth0
    ip link set "${veth}s" netns "$switch"
    ip -n "$switch" link set "${veth}s" master br0 up
    ip -n "$ns" addr add "$address/$prefix_len" dev eth0
  fi
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
}

filesystem() { # namespace
  local ns=$1 file=$mount_ns_dir/$1 binds="" path
  if [ -e "$file" ] && mountpoint -q "$file"; then
    # Made by an older version with fewer private paths: made again, as after a reboot.
    nsenter --mount="$file" mountpoint -q "${private_paths[-1]}" && return 0
    umount "$file"
  fi
  # A persistent mount namespace is kept as a bind mount of its nsfs file, on a private mount.
  mkdir -p "$mount_ns_dir"
  mountpoint -q "$mount_ns_dir" || mount --bind "$mount_ns_dir" "$mount_ns_dir"
  mount --make-private "$mount_ns_dir"
  touch "$file"
  for path in "${private_paths[@]}"; do
    mkdir -p "$path" "$(host_dir "$ns" "$path")"
    binds+="mount --bind '$(host_dir "$ns" "$path")' '$path' && "
  done
  # Its own /dev/shm too: podman keeps its container locks there.
  unshare --mount="$file" --propagation private sh -c "${binds}mount -t tmpfs -o mode=1777 tmpfs /dev/shm"
}

# Where a host keeps PATH: under /run for what a reboot clears, under /var/lib for the rest.
host_dir() { # namespace path
  case "$2" in
    /run/*) echo "/run/akka-migration/hosts/$1$2" ;;
    *) echo "/var/lib/akka-migration/hosts/$1$2" ;;
  esac
}

up() {
  command -v nsenter >/dev/null || die "nsenter is missing (util-linux)"
  ns_exists "$switch" || ip netns add "$switch"
  ip -n "$switch" link show br0 >/dev/null 2>&1 || ip -n "$switch" link add br0 type bridge
  ip -n "$switch" link set br0 up
  local index=0
  while IFS=$'\t' read -r name address _; do
    network "$(netns_of "$name")" "$address" "$index"
    filesystem "$(netns_of "$name")"
    index=$((index + 1))
  done < <(hosts_table)
  network "$(netns_of client)" "$(client_address)" 99
  # The client stands on the service network too, as the network's gateway: services' clients
  # and the services share one L2 here, like machines on one LAN.
  local gateway
  gateway=$(dotnet "$node_dll" hosts --service-gateway --config "$config")
  if [ -n "$gateway" ] && ! ip -n "$(netns_of client)" -4 addr show dev eth0 | grep -c " ${gateway} " >/dev/null; then
    ip -n "$(netns_of client)" addr add "$gateway" dev eth0
  fi
  log "hosts up: $(ip netns list | awk '{print $1}' | grep "^$netns_prefix-" | grep -v "$switch" | sort | tr '\n' ' ')"
}

down() {
  local ns file
  for ns in $(ip netns list | awk '{print $1}' | grep "^$netns_prefix-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns"
  done
  for file in "$mount_ns_dir/$netns_prefix"-*; do
    [ -e "$file" ] || continue
    umount "$file" 2>/dev/null || true
    rm -f "$file"
    # What lived under /run is gone, as after a reboot; the stores under /var/lib stay.
    rm -rf "/run/akka-migration/hosts/$(basename "$file")"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  cut) ip -n "$(netns_of "${2:?host}")" link set eth0 down ;;
  mend) ip -n "$(netns_of "${2:?host}")" link set eth0 up ;;
  *) echo "usage: $0 up|down|cut HOST|mend HOST" >&2; exit 2 ;;
esac
