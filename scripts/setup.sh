#!/usr/bin/env bash
# Installs everything AkkaMigration needs on a fresh Debian bookworm machine, as root.
# Idempotent: each step checks first and is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: podman stores, network namespaces and CRIU need it"

# What a host needs to run and move containers (the bundle's install.sh runs the same script),
# plus what development needs: socat for the by-hand benchmark, make and clang (with zlib) for the
# NativeAOT workload image, jq for the scripts that read the client's --json answers, curl for
# the demo's look at a node's metrics.
scripts/install-runtime.sh socat make clang zlib1g-dev jq curl

log "building the solution"
dotnet build AkkaMigration.sln -c Release -nologo -clp:ErrorsOnly -v:q

# Akka.Remote runs mutual TLS only: the cluster CA and a certificate for every host of config.ini
# and for the client, made after the build because the node reads config.ini's hosts.
log "certificates in build/pki"
make -s certs

log "building the workload image"
make -s image
log "done"
