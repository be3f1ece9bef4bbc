#!/usr/bin/env bash
# Simulated hosts on this machine: a network namespace per config.ini host and one for the
# client, all wired to a bridge in a "switch" namespace. Nothing is routed outside them.
#   scripts/hosts.sh up      create what is missing (idempotent)
#   scripts/hosts.sh down    remove them all
#   scripts/hosts.sh cut|mend HOST   take a host's link down or up
set -euo pipefail
source "$(dirname "$0")/lib.sh"

switch=$netns_prefix-switch
prefix_len=24

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

attach() { # namespace address index
  local ns=$1 address=$2 index=$3
  ns_exists "$ns" || ip netns add "$ns"
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    local veth=$netns_prefix$index
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

up() {
  command -v nsenter >/dev/null || die "nsenter is missing (util-linux)"
  ns_exists "$switch" || ip netns add "$switch"
  ip -n "$switch" link show br0 >/dev/null 2>&1 || ip -n "$switch" link add br0 type bridge
  ip -n "$switch" link set br0 up
  local index=0
  while IFS=$'\t' read -r name address _ _ root runroot state _; do
    attach "$(netns_of "$name")" "$address" "$index"
    mkdir -p "$state"
    [ "$root" != "-" ] && mkdir -p "$root"
    [ "$runroot" != "-" ] && mkdir -p "$runroot"
    index=$((index + 1))
  done < <(hosts_table)
  attach "$(netns_of client)" "$(client_address)" 99
  log "hosts up: $(ip netns list | awk '{print $1}' | grep "^$netns_prefix-" | grep -v "$switch" | sort | tr '\n' ' ')"
}

down() {
  for ns in $(ip netns list | awk '{print $1}' | grep "^$netns_prefix-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns"
  done
}

link() { # host up|down
  ip -n "$(netns_of "$1")" link set eth0 "$2"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  cut) link "${2:?host}" down ;;
  mend) link "${2:?host}" up ;;
  *) echo "usage: $0 up|down|cut HOST|mend HOST" >&2; exit 2 ;;
esac
