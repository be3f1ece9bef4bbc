#!/usr/bin/env bash
# Installs AkkaMigration from this bundle on a Debian bookworm machine, as root. Needs no .NET
# SDK and no source. Idempotent: run it again with the same arguments and it only checks.
#   install.sh --node NAME [--config FILE] [--certs FILE...]   a cluster host: [hosts:NAME] of config.ini
#   install.sh --client [--config FILE] [--certs FILE...]      a client machine only
# A host gets podman, runc, nftables and CRIU >= 4.2 (install-runtime.sh), the workload image
# loaded into its podman store, its state folder and the systemd units akka-migration-node.service
# and akka-migration-fence.service, its fencing agent (started by `systemctl enable --now
# akka-migration-fence akka-migration-node`, not by this script).
# Where things go: the bundle in /opt/akka-migration (the client as /usr/local/bin/akka-migration),
# config.ini in /etc/akka-migration/ (--config FILE copies it there; without it, the example is
# put there once, to be edited), the certificates in /etc/akka-migration/pki/ (--certs: ca.crt
# and this machine's own NAME.pfx and NAME.password from the admin's pki.sh), the node's state
# in /var/lib/akka-migration.
set -euo pipefail
bundle=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/akka-migration etc=/etc/akka-migration
config=$etc/config.ini

log() { printf '\033[1;34m[install]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[install] %s\033[0m\n' "$*" >&2; exit 1; }
usage="usage: $0 --node NAME | --client, then [--config FILE] [--certs FILE...]"

role= host= given_config= certs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --node) role=node host=${2:?$usage}; shift 2 ;;
    --client) role=client; shift ;;
    --config) given_config=${2:?$usage}; shift 2 ;;
    --certs) shift; while [ $# -gt 0 ] && [[ $1 != --* ]]; do certs+=("$1"); shift; done ;;
    *) die "$usage" ;;
  esac
done
[ -n "$role" ] || die "$usage"
[ "$(id -u)" = 0 ] || die "run as root: it installs packages and writes to /opt and /etc"
[ "$(uname -m)" = x86_64 ] || die "this bundle is for linux-x64, not $(uname -m)"
[ -f "$bundle/MANIFEST.sha256" ] || die "$bundle is not an unpacked bundle (no MANIFEST.sha256)"

# The runtime first: a host cannot run a node without it, and a failed step stops here.
[ "$role" = client ] || "$bundle/install-runtime.sh"

# The bundle, replaced whole by a rename (a running node keeps its open files), only when it differs.
if cmp -s "$bundle/MANIFEST.sha256" "$prefix/MANIFEST.sha256"; then
  log "$prefix already holds $(cat "$bundle/VERSION")"
else
  rm -rf "$prefix.new"
  mkdir -p "$prefix.new"
  cp -a "$bundle/." "$prefix.new/"
  (cd "$prefix.new" && sha256sum --quiet -c MANIFEST.sha256) || die "the copy in $prefix.new does not match the bundle's MANIFEST.sha256"
  rm -rf "$prefix.old"
  [ ! -e "$prefix" ] || mv "$prefix" "$prefix.old"
  mv "$prefix.new" "$prefix"
  rm -rf "$prefix.old"
  log "installed $(cat "$prefix/VERSION") in $prefix"
fi
ln -sfn "$prefix/client/AkkaMigration.Client" /usr/local/bin/akka-migration
"$prefix/client/AkkaMigration.Client" --help >/dev/null || die "the installed client does not run"

# The config: the given one, else the example once (never over the machine's own).
mkdir -p "$etc"
chmod 755 "$etc"
if [ -n "$given_config" ]; then
  [ -f "$given_config" ] || die "--config $given_config: no such file"
  if ! cmp -s "$given_config" "$config"; then
    install -m 644 "$given_config" "$config.new" && mv "$config.new" "$config"
    log "config: $config from $given_config"
  fi
elif [ ! -f "$config" ]; then
  install -m 644 "$prefix/config.ini.example" "$config"
  log "config: $config from the example; set the hosts' addresses in it"
fi

# The certificates: only what the admin gave this machine, owner-only except the CA's certificate.
mkdir -p "$etc/pki"
chmod 700 "$etc/pki"
for file in "${certs[@]}"; do
  [ -f "$file" ] || die "--certs $file: no such file"
  target=$etc/pki/$(basename "$file")
  cmp -s "$file" "$target" && continue
  case "$file" in *.crt) mode=644 ;; *) mode=600 ;; esac
  install -m "$mode" "$file" "$target.new" && mv "$target.new" "$target"
  log "certificate file: $target"
done

node=$prefix/node/AkkaMigration.Node
if [ "$role" = node ]; then
  entry=$("$node" hosts --config "$config" | awk -F'\t' -v h="$host" '$1 == h')
  [ -n "$entry" ] || die "$host is not a [hosts:NAME] of $config; it has: $("$node" hosts --config "$config" | cut -f1 | tr '\n' ' ')"
  IFS=$'\t' read -r _ _ _ _ root runroot state archive image <<<"$entry"
  podman=(podman --runtime runc)
  [ "$root" = - ] || podman+=(--root "$root")
  [ "$runroot" = - ] || podman+=(--runroot "$runroot")

  # The same image on every host, by id, not only by name: a checkpoint names its image by id.
  wanted=$(tar -xOf "$archive" manifest.json | sed -n 's/.*"Config":"\([0-9a-f]*\)\.json".*/\1/p')
  [ -n "$wanted" ] || die "$archive holds no image (no manifest.json)"
  if [ "$(timeout 60 "${podman[@]}" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$wanted" ]; then
    log "image $image (${wanted:0:12}) already loaded"
  else
    timeout 600 "${podman[@]}" load -q -i "$archive" >/dev/null || die "podman load -i $archive failed"
    log "image $image (${wanted:0:12}) loaded"
  fi

  mkdir -p /var/lib/akka-migration "$state"
  chmod 700 /var/lib/akka-migration "$state"
  printf 'AKKA_MIGRATION_HOST=%s\n' "$host" >"$etc/node.env.new" && mv "$etc/node.env.new" "$etc/node.env"
  # The node and its fencing agent, each a unit of its own: the agent must outlive the node.
  for name in akka-migration-node akka-migration-fence; do
    unit=/etc/systemd/system/$name.service
    if ! cmp -s "$prefix/$name.service" "$unit"; then
      mkdir -p "$(dirname "$unit")"
      install -m 644 "$prefix/$name.service" "$unit"
      # Only where systemd runs (not in a container or a simulated host).
      [ ! -d /run/systemd/system ] || timeout 60 systemctl daemon-reload
      log "unit: $unit"
    fi
  done
  # Checked as the node itself will check them, so that a missing certificate shows now.
  "$node" hosts --config "$config" --check-node "$host" ||
    die "the node would not start; fix the above, then run this again"
  log "done: start them with 'systemctl enable --now akka-migration-fence akka-migration-node'"
else
  "$node" hosts --config "$config" --check-client || die "the client would not start; fix the above, then run this again"
  log "done: run 'akka-migration' (it reads $config)"
fi
