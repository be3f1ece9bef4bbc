#!/usr/bin/env bash
# What every host of AkkaMigration needs to run containers and move them, on Debian bookworm,
# as root: podman with runc, CRIU 4.2 or newer, nftables, iproute2. Shared by scripts/setup.sh
# (a development machine) and the bundle's install.sh (a real host).
#   install-runtime.sh [PACKAGE...]    also installs these Debian packages
# Idempotent: each step checks first and is skipped when already done. Changes to the machine
# beyond its packages, said here because they reach every container on it:
#   - /etc/containers/containers.conf.d/akka-migration.conf: podman uses runc (checkpointing is
#     verified with it), the cgroupfs manager and file events (no systemd needed), for all containers;
#   - when CRIU must be built: a source-only sid entry in /etc/apt/sources.list.d and
#     /usr/local/sbin/criu (scripts/build-criu.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

log() { printf '\033[1;34m[install-runtime]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[install-runtime] %s\033[0m\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: podman stores, network namespaces and CRIU need it"
command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || die "this installs with apt: Debian bookworm (12) is what it is made for"

# runc, not crun: CRIU checkpoint/restore is verified with runc here. iproute2 for the hosts'
# addresses, nftables for the rules that keep a moving service's connections from being reset,
# openssl for the cluster's certificates (scripts/pki.sh).
packages=(podman runc conmon golang-github-containers-common iproute2 nftables openssl util-linux "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  # Bounded: a mirror that stops answering fails the step instead of hanging it.
  timeout 600 apt-get update -q
  DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# bookworm's criu 3.17 fails on kernels >= 6.16 (vDSO) and 4.1 hangs in dump: build 4.2.1 from source.
criu_ok() {
  local v
  v=$(timeout 30 criu --version 2>/dev/null | sed -n 's/^Version: *//p')
  [ -n "$v" ] && [ "$(printf '%s\n4.2\n' "$v" | sort -V | head -1)" = "4.2" ]
}
if ! criu_ok; then
  "$here/build-criu.sh"
  criu_ok || die "CRIU 4.2 or newer is still not on PATH after the build (runc runs the first criu on PATH: /usr/local/sbin must come before /usr/sbin)"
fi

# Podman must use runc even if crun appears later.
conf=/etc/containers/containers.conf.d/akka-migration.conf
if [ ! -f "$conf" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$conf"
  log "wrote $conf: every podman container on this machine now runs with runc and cgroupfs"
fi
log "criu $(timeout 30 criu --version | sed -n 's/^Version: *//p'), podman $(timeout 30 podman --version | awk '{print $3}'), runc $(timeout 30 runc --version | awk 'NR==1{print $3}')"
