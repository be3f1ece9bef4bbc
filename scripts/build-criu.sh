#!/usr/bin/env bash
# Builds CRIU 4.2.1 from Debian's sid source package, against bookworm's libraries only,
# and installs it as /usr/local/sbin/criu (runc runs the first `criu` on PATH).
# Installing sid's binary package instead would half-upgrade libc/libssl and break apt.
set -euo pipefail

version=4.2.1
sha256=29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9
work=/var/cache/akka-migration/criu
log() { printf '\033[1;34m[criu]\033[0m %s\n' "$*"; }

# A source-only sid entry, reusing this machine's own Debian mirror.
list=/etc/apt/sources.list.d/akka-migration-sid-src.list
if [ ! -f "$list" ]; then
  uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$uri" ] || { echo "no Debian mirror found in apt's sources" >&2; exit 1; }
  # The served snapshot's Release file is dated; accept it as the machine's own entries do.
  echo "deb-src [check-valid-until=no] $uri sid main" >"$list"
fi

build_deps=(build-essential pkg-config libprotobuf-dev libprotobuf-c-dev protobuf-c-compiler
  protobuf-compiler python3-protobuf libnl-3-dev libnet1-dev libcap-dev libbsd-dev libaio-dev
  libgnutls28-dev libnftables-dev uuid-dev dpkg-dev xz-utils)
# Bounded: a mirror that stops answering fails the build instead of hanging it.
timeout 600 apt-get update -q
DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get install -y -q --no-install-recommends "${build_deps[@]}"

mkdir -p "$work"
cd "$work"
tarball=criu_${version}.orig.tar.xz
if ! echo "$sha256  $tarball" | sha256sum -c --status 2>/dev/null; then
  log "fetching the criu $version source"
  # The Debian diff may be missing from the mirror, so apt can exit non-zero: check the tarball instead.
  timeout 600 apt-get source --download-only "criu/sid" >/dev/null 2>&1 || true
  echo "$sha256  $tarball" | sha256sum -c --status || { echo "criu $version source missing or corrupt in $work" >&2; exit 1; }
fi

log "building criu $version"
rm -rf "criu-$version"
tar xf "$tarball"
timeout 1800 make -C "criu-$version" -j"$(nproc)" criu >build.log 2>&1 || { tail -30 build.log >&2; exit 1; }
install -m 0755 "criu-$version/criu/criu" /usr/local/sbin/criu
log "installed $(/usr/local/sbin/criu --version | tr '\n' ' ')"
