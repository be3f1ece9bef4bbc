#!/usr/bin/env bash
# Installs everything AkkaMigration needs on a fresh Debian bookworm machine, as root.
# Idempotent: each step checks first and is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: podman stores, network namespaces and CRIU need it"

# runc, not crun: CRIU checkpoint/restore is verified with runc here. iproute2 for the
# simulated hosts, socat for the by-hand benchmark, openssl for the cluster CA, clang for NativeAOT,
# jq for the scripts that read the client's --json answers, nftables for the rules that keep a
# moving service's connections from being reset.
packages=(podman runc conmon golang-github-containers-common iproute2 socat openssl make clang zlib1g-dev jq nftables)
missing=()
for p in "${packages[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *'install ok installed'* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# bookworm's criu 3.17 fails on this kernel's vDSO and 4.1 hangs in dump: build 4.2.1 from source.
criu_ok() {
  local v
  v=$(criu --version 2>/dev/null | sed -n 's/^Version: *//p')
  [ -n "$v" ] && [ "$(printf '%s\n4.2\n' "$v" | sort -V | head -1)" = "4.2" ]
}
if ! criu_ok; then
  scripts/build-criu.sh
  criu_ok || die "CRIU 4.2 or newer is still not on PATH after the build"
fi
log "criu $(criu --version | sed -n 's/^Version: *//p'), podman $(podman --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}')"

# Podman must use runc even if crun appears later.
conf=/etc/containers/containers.conf.d/akka-migration.conf
if [ ! -f "$conf" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$conf"
fi

log "building the solution"
dotnet build AkkaMigration.sln -c Release -nologo -clp:ErrorsOnly -v:q

# Akka.Remote runs mutual TLS only: the cluster CA and a certificate for every host of config.ini
# and for the client, made after the build because the node reads config.ini's hosts.
log "certificates in build/pki"
make -s certs

log "building the workload image"
make -s image
log "done"
