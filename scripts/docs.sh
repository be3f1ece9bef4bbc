#!/usr/bin/env bash
# Draws every docs/NAME.png from its source (`make docs`): Graphviz for docs/NAME.dot, gnuplot for
# docs/NAME.gp (the migration timeline, whose data scripts/timeline.sh takes from a demo run).
# Idempotent, like setup.sh: graphviz and gnuplot are installed from Debian only when missing. Only
# the docs need them, so setup.sh (and with it `make test` and `make demo`) leaves them out.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[docs]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[docs] %s\033[0m\n' "$*" >&2; exit 1; }

# The pictures name Helvetica; fontconfig draws it with DejaVu Sans, so every machine draws alike.
packages=(graphviz gnuplot-nox fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *'install ok installed'* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "${missing[*]} missing: run as root to install, or apt-get install ${missing[*]}"
  log "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

shopt -s nullglob
for source in docs/*.dot; do
  picture=${source%.dot}.png
  # Through a temporary file: a failed drawing leaves the committed picture as it was.
  dot -Tpng "$source" -o "$picture.tmp"
  mv "$picture.tmp" "$picture"
  log "drew $picture"
done

# Run from the root, where a .gp file's paths start; it draws where `out` says.
for source in docs/*.gp; do
  picture=${source%.gp}.png
  gnuplot -e "out='$picture.tmp'" "$source"
  mv "$picture.tmp" "$picture"
  log "drew $picture"
done
