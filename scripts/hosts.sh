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
# Network faults (the fault suite's levers, usable by hand). Each is idempotent, is undone by its
# opposite, and drops silently: links stay up and senders hear nothing, as on a real network.
#   scripts/hosts.sh partition A B [oneway]  drop every packet from B to A and from A to B (oneway:
#                                            only from A to B); partitions add up
#   scripts/hosts.sh heal                    remove every partition
#   scripts/hosts.sh loss HOST PCT           drop PCT % (0-100) of the packets on HOST's link, each way
#   scripts/hosts.sh starve HOST RATE        limit HOST's link to RATE each way (tc's units: 32mbit, 4mbps)
#   scripts/hosts.sh unshape HOST            remove HOST's loss and rate limit
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

# A host's line in hosts_table, counted from 0 as up() numbers the veths; the client is 99.
host_index() { # host
  [ "$1" = client ] && { echo 99; return; }
  hosts_table | awk -F'\t' -v h="$1" '$1 == h {print NR - 1; found = 1} END {exit !found}' || die "no host '$1' in $config"
}
host_address() { # host
  [ "$1" = client ] && { client_address; return; }
  hosts_table | awk -F'\t' -v h="$1" '$1 == h {print $2}'
}
# nft in a namespace: nsenter, as everywhere here (see in_host).
nft_in() { local ns=$1; shift; ns_exists "$ns" || die "no namespace '$ns' is up (scripts/hosts.sh up)"; nsenter --net="/var/run/netns/$ns" nft "$@"; }

# A partition drops in the receiver's input hook: a packet dropped on its way out would fail the
# sender's call at once (EPERM), which a real partition never does. One set of senders per host.
partition_table=akka_migration_partition
partition() { # from to: nothing `from` sends reaches `to`
  local ns from
  host_index "$1" >/dev/null
  ns=$(netns_of "$2")
  from=$(host_address "$1")
  nft_in "$ns" list table inet "$partition_table" >/dev/null 2>&1 || nft_in "$ns" -f - <<EOF
table inet $partition_table {
  set senders { type ipv4_addr; }
  chain input { type filter hook input priority -300; ip saddr @senders drop; }
}
EOF
  nft_in "$ns" add element inet "$partition_table" senders "{ $from }"
}
heal() {
  local name
  while IFS=$'\t' read -r name _; do
    ns_exists "$(netns_of "$name")" || continue
    nft_in "$(netns_of "$name")" delete table inet "$partition_table" 2>/dev/null || true
  done < <(hosts_table)
}

# Loss and rate limits act on both ends of a host's veth: its eth0 (what it receives, and sends
# for tbf) and its port on the switch (what it sends, and receives for tbf), so each way is hit
# once. Loss drops at ingress (netdev), before any protocol could notice.
# One table per device: the switch holds the ports of every host.
loss_table() { local device=$1; echo "akka_migration_loss_${device//-/_}"; }
link_ends() { # host: namespace and device of each end, one per line
  local index
  index=$(host_index "$1")
  printf '%s eth0\n%s %s\n' "$(netns_of "$1")" "$switch" "$netns_prefix-${index}s"
}
loss() { # host percent
  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -le 100 ] || die "loss: a percentage from 0 to 100, not '$2'"
  local ns device
  while read -r ns device; do
    # Declared, deleted and made again in one transaction: a new percentage replaces the old.
    nft_in "$ns" -f - <<EOF
table netdev $(loss_table "$device")
delete table netdev $(loss_table "$device")
table netdev $(loss_table "$device") {
  chain ingress { type filter hook ingress device "$device" priority -400; numgen random mod 100 < $2 drop; }
}
EOF
  done < <(link_ends "$1")
}
starve() { # host rate
  local ns device
  while read -r ns device; do
    # latency bounds tbf's queue: a starved link drops what waits longer, as a real one does.
    tc -n "$ns" qdisc replace dev "$device" root tbf rate "$2" burst 64kb latency 100ms
  done < <(link_ends "$1")
}
unshape() { # host
  local ns device
  while read -r ns device; do
    nft_in "$ns" delete table netdev "$(loss_table "$device")" 2>/dev/null || true
    # Only tbf is ours to remove; the default qdisc stays.
    if tc -n "$ns" qdisc show dev "$device" root | awk '$2 == "tbf" {found = 1} END {exit !found}'; then
      tc -n "$ns" qdisc del dev "$device" root
    fi
  done < <(link_ends "$1")
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  cut) ip -n "$(netns_of "${2:?host}")" link set eth0 down ;;
  mend) ip -n "$(netns_of "${2:?host}")" link set eth0 up ;;
  partition)
    a=${2:?usage: $0 partition A B [oneway]} b=${3:?usage: $0 partition A B [oneway]}
    [ "$a" != "$b" ] || die "partition: two different hosts"
    case "${4:-}" in
      "") partition "$a" "$b"; partition "$b" "$a" ;;
      oneway) partition "$a" "$b" ;;
      *) die "partition: the fourth word may only be 'oneway', not '$4'" ;;
    esac ;;
  heal) heal ;;
  loss) loss "${2:?usage: $0 loss HOST PCT}" "${3:?usage: $0 loss HOST PCT}" ;;
  starve) starve "${2:?usage: $0 starve HOST RATE}" "${3:?usage: $0 starve HOST RATE}" ;;
  unshape) unshape "${2:?usage: $0 unshape HOST}" ;;
  *) echo "usage: $0 up|down|cut HOST|mend HOST|partition A B [oneway]|heal|loss HOST PCT|starve HOST RATE|unshape HOST" >&2; exit 2 ;;
esac
