# Shared by the scripts that run before .NET builds or ship without the harness (dist.sh, test.sh,
# initializeDemo.sh): where things are, and config.ini's hosts as the node reads them.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${AKKA_MIGRATION_CONFIG:-$repo/config.ini}
node_dll=$repo/Node/bin/Release/net10.0/AkkaMigration.Node.dll
# `make dist`'s bundle: the folder it unpacks to, and the tarball holding it.
bundle_name=akka-migration-$(tr -d ' \n' <"$repo/VERSION")
dist_tarball=$repo/dist/$bundle_name-linux-x64.tar.gz

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '\033[1;31m[%s] %s\033[0m\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# name address port executor podman_root podman_runroot state_dir image_archive image, tab separated.
hosts_table() {
  [ -f "$node_dll" ] || die "the node is not built: run scripts/setup.sh (or make build)"
  dotnet "$node_dll" hosts --config "$config"
}

podman_for() { # podman_root podman_runroot
  local args=(podman --runtime runc)
  [ "$1" != "-" ] && args+=(--root "$1")
  [ "$2" != "-" ] && args+=(--runroot "$2")
  echo "${args[@]}"
}
