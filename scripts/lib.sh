# Shared by the scripts: where things are, and config.ini's hosts as the node reads them.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${AKKA_MIGRATION_CONFIG:-$repo/config.ini}
node_dll=$repo/Node/bin/Release/net10.0/AkkaMigration.Node.dll
client_dll=$repo/Client/bin/Release/net10.0/AkkaMigration.Client.dll
netns_prefix=amig

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '\033[1;31m[%s] %s\033[0m\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# name address port executor podman_root podman_runroot state_dir image_archive image, tab separated.
hosts_table() {
  [ -f "$node_dll" ] || die "the node is not built: run scripts/setup.sh (or make build)"
  dotnet "$node_dll" hosts --config "$config"
}

# The client's address in config.ini's [client] section.
client_address() { dotnet "$node_dll" hosts --client-address --config "$config"; }

netns_of() { echo "$netns_prefix-$1"; }

# Run a command inside a simulated host's network namespace. nsenter, not `ip netns exec`:
# the latter remounts /sys and podman then finds no cgroups.
in_host() { local ns; ns=$(netns_of "$1"); shift; nsenter --net="/var/run/netns/$ns" "$@"; }

podman_for() { # podman_root podman_runroot
  local args=(podman --runtime runc)
  [ "$1" != "-" ] && args+=(--root "$1")
  [ "$2" != "-" ] && args+=(--runroot "$2")
  echo "${args[@]}"
}
