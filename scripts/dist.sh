#!/usr/bin/env bash
# `make dist`: the bundle a real host installs from, with no .NET SDK and no source on it:
#   dist/akka-migration-VERSION-linux-x64.tar.gz, holding akka-migration-VERSION/ with
#     node/, client/         the node and the client, self-contained for linux-x64 (the .NET
#                            runtime inside) and ReadyToRun (precompiled: little JIT at start)
#     hocon/                 the Akka settings
#     config.ini.example     config.ini with the installed paths (/opt/akka-migration, pki/)
#     worker-image.tar       the workload image, built once here: every host loads the same id
#     install.sh, install-runtime.sh, build-criu.sh   what a host runs (packaging/install.sh)
#     pki.sh                 the admin's CA and certificates
#     akka-migration-node.service   the systemd unit
#     akka-migration-fence.service  the fencing agent's unit
#     VERSION, MANIFEST.sha256
# VERSION is the file of that name; the commit it was built from goes into the bundle's VERSION.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$repo"

version=$(tr -d ' \n' <VERSION)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION holds '$version', not MAJOR.MINOR.PATCH"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+="-dirty"
work=$repo/build/dist
stage=$work/$bundle_name
tarball=$dist_tarball

[ -f "$repo/build/worker-image.tar" ] || make -s image

# Published from a copy of the sources: the checkout's own obj/ and bin/ stay as the development
# build and the tests use them (a runtime-specific restore would rewrite them under them).
mirror() { # the sources into $work/src, kept in step (bin/ and obj/ stay there, for an incremental build)
  local item file
  mkdir -p "$work/src"
  for item in "$@"; do
    cp -a --update "$item" "$work/src/"
    [ -d "$item" ] || continue
    (cd "$work/src" && find "$item" -type f -not -path '*/bin/*' -not -path '*/obj/*') | while read -r file; do
      [ -e "$file" ] || rm -f "$work/src/$file"
    done
  done
}
mirror Node Client Shared Directory.Build.props Directory.Packages.props
rm -rf "$stage"
mkdir -p "$stage"
for project in Node Client; do
  # The client is one short process per command (docs/tuning.md, "A client's start-up").
  # Compiled with the runtime into one composite image, it starts without JIT-compiling the
  # generics that cross from Akka into the runtime. Without tiered compilation it keeps that
  # code: a client waiting for a move no longer compiles its hot methods again, which it did on
  # cores the move needs. The node starts once; composite, it would share no runtime file with
  # the client and double the bundle.
  tuned=()
  [ "$project" = Client ] && tuned=(-p:PublishReadyToRunComposite=true -p:TieredCompilation=false)
  log "publishing $project (self-contained, ReadyToRun${tuned:+, composite, not tiered})"
  # Bounded like every call that may reach a package registry.
  timeout 900 dotnet publish "$work/src/$project/$project.csproj" -c Release -r linux-x64 --self-contained \
    -p:PublishReadyToRun=true "${tuned[@]}" -p:Version="$version" -p:SourceRevisionId="$commit" \
    -o "$stage/$(tr '[:upper:]' '[:lower:]' <<<"$project")" -nologo -v:q -clp:ErrorsOnly
done
# The two share the runtime's native files: hard links, which tar stores once.
(cd "$stage/client" && find . -type f) | while read -r file; do
  if cmp -s "$stage/client/$file" "$stage/node/$file"; then ln -f "$stage/node/$file" "$stage/client/$file"; fi
done

cp -r hocon "$stage/hocon"
cp build/worker-image.tar "$stage/worker-image.tar"
cp packaging/install.sh packaging/akka-migration-node.service packaging/akka-migration-fence.service scripts/install-runtime.sh scripts/build-criu.sh scripts/pki.sh "$stage/"
# config.ini, with the paths where install.sh puts things; addresses stay as examples.
{
  printf '; AkkaMigration %s: /etc/akka-migration/config.ini, the same file on every host and client.\n' "$version"
  printf '; Set each [hosts:NAME] address; relative paths are relative to this file, so the\n'
  printf '; certificates sit in /etc/akka-migration/pki.\n\n'
  awk '
    /^[ \t]*\[/ { section = $0; gsub(/[][ \t]/, "", section) }
    {
      key = $0; sub(/[ \t]*=.*/, "", key); gsub(/^[ \t]+/, "", key)
      if (section == "cluster" && key == "hocon_dir") { print "hocon_dir = /opt/akka-migration/hocon"; next }
      if (section == "container" && key == "image_archive") { print "image_archive = /opt/akka-migration/worker-image.tar"; next }
      if (section == "tls" && key == "ca") { print "ca = pki/ca.crt"; next }
      if (section == "tls" && key == "node_certificate") { print "node_certificate = pki/{host}.pfx"; next }
      if (section == "tls" && key == "client_certificate") { print "client_certificate = pki/client.pfx"; next }
      print
    }' config.ini
} >"$stage/config.ini.example"
printf '%s (commit %s, built %s)\n' "$version" "$commit" "$(date -u +%Y-%m-%dT%H:%MZ)" >"$stage/VERSION"
(cd "$stage" && find . -type f ! -name MANIFEST.sha256 -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum >MANIFEST.sha256)

mkdir -p "$(dirname "$tarball")"
tar -C "$work" --owner=0 --group=0 -czf "$tarball.tmp" "$bundle_name"
mv "$tarball.tmp" "$tarball"
log "$tarball: $(du -h "$tarball" | cut -f1)"
echo "$tarball"
