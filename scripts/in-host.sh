#!/usr/bin/env bash
# Run a command inside a simulated host (its network and mount namespaces), e.g.
#   scripts/in-host.sh nodeB podman ps -a
set -euo pipefail
source "$(dirname "$0")/lib.sh"
host=${1:?usage: $0 HOST COMMAND [ARGS...]}
shift
[ -e "/var/run/netns/$(netns_of "$host")" ] || die "no simulated host '$host' is up (scripts/hosts.sh up)"
in_host "$host" "$@"
