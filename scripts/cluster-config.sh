#!/usr/bin/env bash
# A config for N simulated hosts: config.ini's sections (or $AKKA_MIGRATION_CONFIG's) plus
# [hosts:nodeC], [hosts:nodeD]... at the addresses after the last host's, and a certificate
# from the cluster CA for every host. Prints the config's path.
#   scripts/cluster-config.sh [--work-ms MS] N [OUT]     OUT defaults to build/hosts-N/config.ini
# --work-ms sets [container] work_ms, how long a job works unless its submit says otherwise (the
# tests make it long, so that a job submitted from the interactive console is still running
# when the console migrates it on a busy machine).
# With N equal to the source's host count and no --work-ms it prints the source itself and writes
# nothing (OUT is ignored): `make demo HOSTS=2` stays on config.ini. Idempotent and quick: OUT is
# replaced only when its content changes, and then by a rename, since running nodes and clients may be reading it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage="usage: $0 [--work-ms MS] N [OUT] (N hosts, 2 to 26)"
work_ms=
if [ "${1:-}" = --work-ms ]; then
  work_ms=${2:?$usage}
  [[ $work_ms =~ ^[0-9]+$ ]] || die "$usage; got --work-ms '$work_ms'"
  shift 2
fi
n=${1:?$usage}
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] && [ "$n" -le 26 ] || die "$usage; got '$n'"
source_config=$(realpath "$config")
source_dir=$(dirname "$source_config")

mapfile -t table < <(hosts_table)
have=${#table[@]}
[ "$n" -ge "$have" ] || die "$source_config already has $have hosts; N must be at least that"

out=$source_config
if [ "$n" -gt "$have" ] || [ -n "$work_ms" ]; then
  out=$(realpath -m "${2:-$repo/build/hosts-$n/config.ini}")
  # The new hosts follow the last one: its /24, the next addresses, its port.
  IFS=$'\t' read -r _ last_address last_port _ <<<"${table[-1]}"
  net=${last_address%.*} octet=${last_address##*.}
  client_octet=$(client_address); client_octet=${client_octet##*.}
  letters=({A..Z})
  extra=
  [ "$n" -eq "$have" ] || extra=$'\n'"; Added by scripts/cluster-config.sh: seeds like every host, at the addresses after the last one."$'\n'
  for ((i = have; i < n; i++)); do
    name=node${letters[i]} address=$net.$((octet + i - have + 1))
    printf '%s\n' "${table[@]}" | cut -f1 | grep -cx "$name" >/dev/null && die "$source_config already has a host $name"
    [ "${address##*.}" -lt 255 ] && [ "${address##*.}" != "$client_octet" ] ||
      die "no free address for $name after $last_address (the client has .$client_octet)"
    extra+="[hosts:$name]"$'\n'"address = $address"$'\n'"port = $last_port"$'\n'$'\n'
  done

  mkdir -p "$(dirname "$out")"
  tmp=$(mktemp "$out.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  {
    printf '; Made by scripts/cluster-config.sh %s from %s; edit that file instead.\n' "${work_ms:+--work-ms $work_ms }$n" "$source_config"
    # Paths in config.ini are relative to its folder: made absolute, they resolve from anywhere.
    awk -v dir="$source_dir" -v work_ms="$work_ms" '
      /^[ \t]*\[/ { section = $0; gsub(/[][ \t]/, "", section) }
      {
        key = $0; sub(/[ \t]*=.*/, "", key); gsub(/^[ \t]+/, "", key)
        if (work_ms != "" && section == "container" && key == "work_ms") { print "work_ms = " work_ms; next }
        path = (section == "cluster" && key == "hocon_dir") || (section == "container" && key == "image_archive") ||
               (section == "tls" && key ~ /^(ca|node_certificate|client_certificate)$/)
        if (path && index($0, "=")) {
          value = $0; sub(/^[^=]*=[ \t]*/, "", value); sub(/[ \t\r]+$/, "", value)
          gsub(/^"|"$/, "", value)
          if (value != "" && value !~ /^\//) { print key " = " dir "/" value; next }
        }
        print
      }' "$source_config"
    printf '%s' "$extra"
  } >"$tmp"
  chmod 644 "$tmp"
  [ -z "$work_ms" ] || grep -qx "work_ms = $work_ms" "$tmp" || die "$source_config has no [container] work_ms line to set"
  # Read back by the node's own reader: it must list all N hosts.
  got=$(config=$tmp hosts_table | wc -l)
  [ "$got" = "$n" ] || die "the config made for $n hosts lists $got (see $tmp)"
  if cmp -s "$tmp" "$out"; then rm -f "$tmp"; else mv "$tmp" "$out"; fi
  trap - EXIT
fi

# Every host needs a certificate from the cluster CA, the extra ones too (as `make certs` does).
"$repo/scripts/certs.sh" "$repo/build/pki" $(config=$out hosts_table | cut -f1) client
echo "$out"
