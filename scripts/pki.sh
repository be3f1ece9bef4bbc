#!/usr/bin/env bash
# The cluster's PKI, run on one admin machine (needs only openssl; shipped in the bundle too):
#   pki.sh ca DIR              make the cluster CA: DIR/ca.crt (what every process trusts, and the
#                              only thing it trusts) and DIR/ca.key (never leaves this machine)
#   pki.sh node DIR NAME...    a certificate for each node NAME ([hosts:NAME] of config.ini)
#   pki.sh client DIR NAME...  a certificate for each client NAME (config.ini's client_certificate)
#   pki.sh revoke DIR NAME CONFIG   no longer admit DIR/NAME.pfx: its serial is added to CONFIG's
#                              [tls] revoked (give every host that config.ini) and to DIR/revoked,
#                              and `pki.sh node|client DIR NAME` then issues NAME a new certificate
# A certificate is DIR/NAME.pfx (PKCS#12: certificate and key, the form Akka loads) and
# DIR/NAME.password, its own password: a host is given ca.crt and its two files, nothing else.
# Each certificate is marked with its role in its subject (OU=node or OU=client).
# Idempotent: an existing CA is kept, and so is every NAME.pfx that opens with its password, has
# its role and verifies against the CA for 30 more days; only missing or stale ones are made.
# Nothing is deleted: to drop a host for good, revoke its certificate.
#
# No address goes into a certificate: the same hosts run at 10.77.0.x in the demo, at 127.0.0.1
# in the tests and elsewhere on real VMs. A peer is admitted by its chain to this CA, which signs
# nothing but this cluster's processes, its role, and its name (the CN, NAME of [hosts:NAME]):
# a node speaks only from the address config.ini gives that host (Shared/Security/ClusterTls.cs).
set -euo pipefail

die() { printf '\033[1;31m[pki] %s\033[0m\n' "$*" >&2; exit 1; }
usage="usage: $0 ca DIR | node DIR NAME... | client DIR NAME... | revoke DIR NAME CONFIG"
command=${1:-}
case "$command" in
  ca) [ $# -eq 2 ] || die "$usage" ;;
  node | client) [ $# -ge 3 ] || die "$usage" ;;
  revoke) [ $# -eq 4 ] || die "$usage" ;;
  *) die "$usage" ;;
esac
command -v openssl >/dev/null || die "openssl is not installed (apt-get install openssl)"

dir=$2; shift 2
ca_crt=$dir/ca.crt ca_key=$dir/ca.key
renew_before=$((30 * 24 * 3600))

# openssl reports progress on stderr; show it only when the step fails.
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; die "failed: $*"; }; }

# A folder with the CA's certificate and not its key belongs to a host that was given its
# certificates: nothing here may replace them, since its peers trust only that CA.
[ -e "$ca_crt" ] && [ ! -e "$ca_key" ] &&
  die "$dir has ca.crt but no ca.key: it is a host's copy, not the admin's folder; run this where 'pki.sh ca' made the CA"

mkdir -p "$dir"
chmod 700 "$dir"
umask 077
# The tests call this concurrently for their own folders, and setup may run beside them.
exec 9>"$dir/.lock"
flock 9

if [ "$command" = ca ]; then
  if [ -s "$ca_key" ] && [ -s "$ca_crt" ]; then
    openssl x509 -in "$ca_crt" -noout -checkend "$renew_before" >/dev/null 2>&1 ||
      printf '[pki] the CA in %s expires within 30 days: make a new one in a new folder and deploy its certificates\n' "$dir" >&2
    exit 0
  fi
  [ ! -e "$ca_key" ] || die "$dir has ca.key but no ca.crt; restore ca.crt, or make a new CA in an empty folder"
  quiet openssl req -x509 -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$ca_key" -out "$ca_crt" -days 3650 -subj "/O=AkkaMigration/CN=AkkaMigration cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  chmod 600 "$ca_key"
  chmod 644 "$ca_crt"
  printf '[pki] new cluster CA in %s (keep ca.key on this machine only)\n' "$dir" >&2
  exit 0
fi

[ -s "$ca_key" ] && [ -s "$ca_crt" ] || die "no CA in $dir: make it first with '$0 ca $dir' (on the admin machine)"
revoked=$dir/revoked
touch "$revoked"

serial_of() { # pfx password: the certificate's serial in hex, as openssl prints it
  openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2
}

if [ "$command" = revoke ]; then
  name=$1 config=$2
  pfx=$dir/$name.pfx password=$dir/$name.password
  [ -s "$pfx" ] || die "$pfx not found: nothing to revoke"
  [ -f "$config" ] && grep -q '^\[tls\]' "$config" || die "$config has no [tls] section"
  serial=$(serial_of "$pfx" "$password") && [ -n "$serial" ] || die "cannot read the serial of $pfx"
  grep -qx "$serial" "$revoked" || printf '%s\n' "$serial" >>"$revoked"
  # Into [tls]'s revoked line, made at the section's end when it has none; the file's rest as it was.
  tmp=$(mktemp "$config.XXXXXX")
  awk -v serial="$serial" '
    function add(line) { sub(/[[:space:]]*$/, "", line); return line ~ /=$/ ? line " " serial : line ", " serial }
    /^\[/ { if (section == "tls" && !done) { print "revoked = " serial; done = 1 } section = ($0 == "[tls]") ? "tls" : "" }
    section == "tls" && /^revoked[[:space:]]*=/ && !done {
      if (index($0, serial) == 0) $0 = add($0)
      done = 1
    }
    { print }
    END { if (section == "tls" && !done) print "revoked = " serial }
  ' "$config" >"$tmp"
  chmod --reference="$config" "$tmp"
  mv "$tmp" "$config"
  printf '[pki] revoked %s (serial %s) in %s; give every host this config.ini and restart its node\n' "$pfx" "$serial" "$config" >&2
  exit 0
fi
role=$command

valid() { # pfx password: opens, made by this CA for this role, not revoked and not about to expire
  local crt
  [ -s "$2" ] && crt=$(openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts 2>/dev/null) || return 1
  ! grep -qx "$(openssl x509 -noout -serial <<<"$crt" | cut -d= -f2)" "$revoked" || return 1
  openssl x509 -noout -checkend "$renew_before" <<<"$crt" >/dev/null 2>&1 &&
    openssl x509 -noout -subject -nameopt sep_multiline <<<"$crt" | grep -qx "[[:space:]]*OU=$role" &&
    openssl verify -CAfile "$ca_crt" <<<"$crt" >/dev/null 2>&1
}

for name in "$@"; do
  [[ $name =~ ^[A-Za-z][A-Za-z0-9-]*$ ]] || die "'$name': a name is letters, digits and dashes, starting with a letter"
  pfx=$dir/$name.pfx password=$dir/$name.password
  valid "$pfx" "$password" && continue
  key=$(mktemp "$dir/.key.XXXXXX") csr=$(mktemp "$dir/.csr.XXXXXX") crt=$(mktemp "$dir/.crt.XXXXXX")
  ext=$(mktemp "$dir/.ext.XXXXXX") secret=$(mktemp "$dir/.password.XXXXXX")
  # Nodes accept and open connections; a client only opens them.
  usage=clientAuth; [ "$role" = client ] || usage=serverAuth,clientAuth
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=DNS:%s\n' "$usage" "$name" >"$ext"
  openssl rand -hex 24 >"$secret"
  quiet openssl req -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$key" -out "$csr" -subj "/O=AkkaMigration/OU=$role/CN=$name"
  quiet openssl x509 -req -in "$csr" -CA "$ca_crt" -CAkey "$ca_key" -CAcreateserial -days 825 \
    -extfile "$ext" -out "$crt"
  quiet openssl pkcs12 -export -inkey "$key" -in "$crt" -name "$name" -passout "file:$secret" -out "$pfx.tmp"
  mv "$secret" "$password"
  mv "$pfx.tmp" "$pfx"
  rm -f "$key" "$csr" "$crt" "$ext"
  printf '[pki] %s (%s)\n' "$pfx" "$role" >&2
done
