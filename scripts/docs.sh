#!/usr/bin/env bash
# Draws every docs/NAME.png from its Graphviz source docs/NAME.dot (`make docs`).
# Idempotent, like setup.sh: graphviz is installed from Debian only when missing. Only the docs
# need it, so setup.sh (and with it `make test` and `make demo`) leaves it out.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[docs]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[docs] %s\033[0m\n' "$*" >&2; exit 1; }

# The pictures name Helvetica; fontconfig draws it with DejaVu Sans, so every machine draws alike.
packages=(graphviz fonts-dejavu-core)
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
