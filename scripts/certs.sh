#!/usr/bin/env bash
# The cluster CA and one certificate per name, for Akka.Remote's mutual TLS.
#   scripts/certs.sh DIR NAME...      e.g. scripts/certs.sh build/pki nodeA nodeB client
# Writes DIR/ca.crt (what every process trusts, and the only thing it trusts), DIR/ca.key,
# DIR/NAME.pfx (PKCS#12: certificate and key, the form Akka loads) and DIR/password (the one
# password of every .pfx). Idempotent: keeps the CA and every NAME.pfx that still verifies
# against it for 30 more days; only missing or stale ones are made. Nothing is ever deleted:
# to drop a host for good, make a new CA (remove DIR) and deploy again.
#
# No hostname or IP in the certificates is checked (Akka's validate-certificate-hostname stays
# off): Akka 1.5 checks names only on outbound connections, never on an inbound client, so it
# would not keep anyone out; the same hosts run at 10.77.0.x in the demo, at 127.0.0.1 in the
# tests and elsewhere on real VMs. What admits a peer is its chain to this CA, which signs
# nothing but this cluster's processes. The name goes into the CN and a DNS SAN for the logs.
set -euo pipefail

die() { printf '\033[1;31m[certs] %s\033[0m\n' "$*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 DIR NAME..."
command -v openssl >/dev/null || die "openssl is not installed (scripts/setup.sh installs it)"

dir=$1; shift
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
# The tests call this concurrently for their own folders, and setup may run beside them.
exec 9>"$dir/.lock"
flock 9

ca_crt=$dir/ca.crt ca_key=$dir/ca.key password=$dir/password
renew_before=$((30 * 24 * 3600))

# openssl reports progress on stderr; show it only when the step fails.
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; die "failed: $*"; }; }

if [ ! -s "$password" ]; then
  openssl rand -hex 24 >"$password"
fi

if ! { [ -s "$ca_key" ] && openssl x509 -in "$ca_crt" -noout -checkend "$renew_before" >/dev/null 2>&1; }; then
  # A new CA invalidates every certificate of the old one: they are all made again below.
  rm -f "$dir"/*.pfx
  quiet openssl req -x509 -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$ca_key" -out "$ca_crt" -days 3650 -subj "/O=AkkaMigration/CN=AkkaMigration cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  printf '[certs] new cluster CA in %s\n' "$dir" >&2
fi

valid() { # pfx: made by this CA and not about to expire
  openssl pkcs12 -in "$1" -passin "file:$password" -nokeys -clcerts 2>/dev/null |
    openssl x509 -noout -checkend "$renew_before" >/dev/null 2>&1 &&
  openssl pkcs12 -in "$1" -passin "file:$password" -nokeys -clcerts 2>/dev/null |
    openssl verify -CAfile "$ca_crt" >/dev/null 2>&1
}

for name in "$@"; do
  [[ $name =~ ^[A-Za-z][A-Za-z0-9-]*$ ]] || die "'$name': a name is letters, digits and dashes, starting with a letter"
  pfx=$dir/$name.pfx
  valid "$pfx" && continue
  key=$(mktemp "$dir/.key.XXXXXX") csr=$(mktemp "$dir/.csr.XXXXXX") crt=$(mktemp "$dir/.crt.XXXXXX")
  ext=$(mktemp "$dir/.ext.XXXXXX")
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:%s\n' "$name" >"$ext"
  quiet openssl req -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$key" -out "$csr" -subj "/O=AkkaMigration/CN=$name"
  quiet openssl x509 -req -in "$csr" -CA "$ca_crt" -CAkey "$ca_key" -CAcreateserial -days 825 \
    -extfile "$ext" -out "$crt"
  quiet openssl pkcs12 -export -inkey "$key" -in "$crt" -name "$name" -passout "file:$password" -out "$pfx.tmp"
  mv "$pfx.tmp" "$pfx"
  rm -f "$key" "$csr" "$crt" "$ext"
  printf '[certs] %s\n' "$pfx" >&2
done
chmod 600 "$ca_key" "$password" "$dir"/*.pfx
chmod 644 "$ca_crt"
