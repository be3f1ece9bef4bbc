#!/usr/bin/env bash
# Set-up's certificates (scripts/setup.sh and `make certs`), for the hosts of one machine:
#   scripts/certs.sh DIR NAME...      e.g. scripts/certs.sh build/pki nodeA nodeB client
# The name `client` gets a client certificate, every other name a node's (scripts/pki.sh).
# - DIR holds ca.crt without ca.key: this host was given its certificates by the admin machine.
#   Everything in DIR is kept as it is and nothing is made: its peers trust only that CA.
# - Otherwise this machine is its own admin (the demo and the tests): the CA is made if DIR has
#   none, and every missing or stale certificate is issued, through scripts/pki.sh.
set -euo pipefail

die() { printf '\033[1;31m[certs] %s\033[0m\n' "$*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 DIR NAME..."
dir=$1; shift
pki=$(dirname "$0")/pki.sh

if [ -e "$dir/ca.crt" ] && [ ! -e "$dir/ca.key" ]; then
  missing=()
  for name in "$@"; do [ -e "$dir/$name.pfx" ] || missing+=("$name"); done
  # Usually some are: a host holds only its own certificate.
  [ ${#missing[@]} -eq 0 ] ||
    printf '[certs] %s holds certificates given to this host; kept. Not here: %s (issued on the admin machine with pki.sh)\n' \
      "$dir" "${missing[*]}" >&2
  exit 0
fi

"$pki" ca "$dir"
nodes=()
for name in "$@"; do [ "$name" = client ] || nodes+=("$name"); done
[ ${#nodes[@]} -eq 0 ] || "$pki" node "$dir" "${nodes[@]}"
for name in "$@"; do [ "$name" != client ] || "$pki" client "$dir" client; done
# Before each certificate had its own password, one file held the password of them all.
rm -f "$dir/password"
