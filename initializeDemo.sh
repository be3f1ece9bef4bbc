#!/usr/bin/env bash
# Prepares one host for AkkaMigration, as root: checks the prerequisites and loads the workload
# image into that host's podman store. Run it on each host (or, simulated, once per host).
#   ./initializeDemo.sh nodeB
set -uo pipefail
source "$(dirname "$0")/scripts/lib.sh"

host=${1:?usage: $0 HOST (a [hosts:HOST] entry of config.ini)}
problems=()

[ "$(id -u)" = 0 ] || problems+=("not root: podman checkpoint/restore needs root")
command -v podman >/dev/null || problems+=("podman is missing: run scripts/setup.sh (apt-get install podman)")
command -v runc >/dev/null || problems+=("runc is missing: run scripts/setup.sh (apt-get install runc); crun is not supported for checkpoints")
if command -v criu >/dev/null; then
  criu_version=$(criu --version | sed -n 's/^Version: *//p')
  [ "$(printf '%s\n4.2\n' "$criu_version" | sort -V | head -1)" = "4.2" ] ||
    problems+=("criu $criu_version is too old: 4.2 or newer is needed on kernels >= 6.16; run scripts/setup.sh")
else
  problems+=("criu is missing: run scripts/setup.sh, which builds CRIU 4.2.1")
fi
command -v nsenter >/dev/null || problems+=("nsenter is missing (util-linux)")
command -v dotnet >/dev/null || problems+=("dotnet is missing: the .NET SDK 10 is needed to run the node")
[ -f "$node_dll" ] || problems+=("the node is not built: run scripts/setup.sh")

if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do printf '\033[1;31m[initializeDemo] %s\033[0m\n' "$p" >&2; done
  exit 1
fi

entry=$(hosts_table | awk -F'\t' -v h="$host" '$1 == h')
[ -n "$entry" ] || die "host '$host' is not in $config; known hosts: $(hosts_table | cut -f1 | tr '\n' ' ')"
IFS=$'\t' read -r _ _ _ _ root runroot state archive image <<<"$entry"

mkdir -p "$state"
podman=$(podman_for "$root" "$runroot")
[ -f "$archive" ] || die "the image archive $archive is missing: run make image"
# The same image on every host, by id, not only by name: a checkpoint names its image by id, and
# a host still holding an older build under the same name cannot restore it.
wanted=$(tar -xOf "$archive" manifest.json | sed -n 's/.*"Config":"\([0-9a-f]*\)\.json".*/\1/p')
[ -n "$wanted" ] || die "$archive is not an image archive from make image (no manifest.json)"
if [ "$(timeout 60 $podman image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$wanted" ]; then
  log "$host: image already loaded"
else
  # Bounded, like every podman call: a load that hangs must not hold the demo or the tests forever.
  timeout 300 $podman load -q -i "$archive" >/dev/null || die "$host: podman load failed or took over 5 minutes"
  log "$host: image ${wanted:0:12} loaded into its store"
fi
