#!/usr/bin/env bash
# `make deploy-check`: the bundle installed exactly as the README's "Deploy on real machines" says,
# on simulated hosts (scripts/hosts.sh, prefix amdc) that see nothing but what was copied to them:
# in each host's mount namespace a tmpfs hides the checkout, the .NET SDK, root's home, /opt,
# /etc/akka-migration, /etc/systemd/system and /usr/local/bin. An admin folder makes the CA and
# the certificates; each host gets the tarball, config.ini and only its own certificate, runs
# install.sh, and starts its node with the unit's ExecStart and Environment (no systemd in a
# namespace: the command runs under nsenter, with NOTIFY_SOCKET so that READY=1 is awaited as
# systemd would). Then the seed flow through the installed client, and a drain of nodeB.
#   scripts/deploy-check.sh TARBALL    prints `result 42 from nodeB` last on success
#   scripts/deploy-check.sh --print    only the numbered commands, as the README lists them
# DEPLOY_CHECK_WORK_MS (default: the example's 3000) is the admin's one edit of config.ini besides
# the addresses, which the example already has for these hosts: how long the demo job works,
# longer on a busy machine so that the job still runs when the client migrates it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-amdc}
netns_prefix=$AKKA_MIGRATION_NETNS_PREFIX
tarball_name=$(basename "$dist_tarball")
bundle=$bundle_name
hosts=(nodeA nodeB)

# The README's commands, in order: WHERE|COMMAND. WHERE is build (this checkout), admin (the
# admin's folder), host (each of $hosts in turn; NAME stands for the host) or client.
steps=(
  "build|make dist"
  "admin|tar -xzf $tarball_name"
  "admin|$bundle/pki.sh ca pki"
  "admin|$bundle/pki.sh node pki ${hosts[*]}"
  "admin|$bundle/pki.sh client pki client"
  "admin|cp $bundle/config.ini.example config.ini"
  "host|tar -xzf $tarball_name"
  "host|$bundle/install.sh --node NAME --config config.ini --certs ca.crt NAME.pfx NAME.password"
  "host|systemctl enable --now akka-migration-node"
  "client|tar -xzf $tarball_name"
  "client|$bundle/install.sh --client --config config.ini --certs ca.crt client.pfx client.password"
  "client|akka-migration"
  "client|akka-migration submit 1 --id drain-check --on nodeB --work-ms 30000"
  "client|akka-migration drain nodeB"
  "client|akka-migration query drain-check"
)

if [ "${1:-}" = --print ]; then
  n=0
  for entry in "${steps[@]}"; do
    n=$((n + 1))
    command=${entry#*|}
    printf '%d. `%s`\n' "$n" "${command//NAME/${hosts[0]}}"
  done
  exit 0
fi
tarball=$(realpath "${1:?usage: $0 TARBALL | --print}")
[ "$(basename "$tarball")" = "$tarball_name" ] || die "$tarball is not $tarball_name (VERSION says ${bundle_name#akka-migration-})"
[ "$(id -u)" = 0 ] || die "run as root: simulated hosts need namespaces"
command -v jq >/dev/null && command -v socat >/dev/null || die "jq and socat are needed (scripts/setup.sh installs them)"

run=$repo/build/deploy-check
admin=$run/admin
rm -rf "$run"
mkdir -p "$admin"
node_pids=() socat_pids=()
# The notify sockets sit under /run, which the hosts share with this machine (the checkout is hidden from them).
notify_dir=/run/akka-migration/deploy-check-$netns_prefix
declare -A node_pid

# Every node stopped, this project's containers and job records gone, the hosts down
# (DEPLOY_CHECK_KEEP=1: the hosts stay up after a failure, to look around with scripts/in-host.sh).
cleanup() {
  local status=$? pid host
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for pid in "${socat_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$notify_dir"
  if [ "$status" != 0 ] && [ "${DEPLOY_CHECK_KEEP:-}" = 1 ]; then
    log "hosts kept up: AKKA_MIGRATION_NETNS_PREFIX=$netns_prefix scripts/in-host.sh HOST ...; then scripts/hosts.sh down"
    return
  fi
  for host in "${hosts[@]}"; do
    [ -e "$mount_ns_dir/$(netns_of "$host")" ] || continue
    in_host "$host" sh -c "timeout 60 podman ps -aq --filter name='^amig-' | xargs -r timeout 120 podman rm -f -t 0" >/dev/null 2>&1 || true
    in_host "$host" sh -c 'timeout 60 podman volume prune -f; rm -rf /var/lib/akka-migration/node/jobs' >/dev/null 2>&1 || true
  done
  "$repo/scripts/hosts.sh" down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- machines that see only what was copied to them -------------------------------------------
"$repo/scripts/hosts.sh" down
"$repo/scripts/hosts.sh" up
# The client gets a mount namespace of its own too (hosts.sh gives it only a network).
client_ns=$mount_ns_dir/$(netns_of client)
touch "$client_ns"
unshare --mount="$client_ns" --propagation private true

main_checkout=$(dirname "$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$repo/.git")")
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
hidden=("$repo" "$main_checkout" "$dotnet_root" /root /opt /etc/akka-migration /etc/systemd/system /usr/local/bin)
# A mount point must exist; an empty /etc/akka-migration on this machine stays empty (the tmpfs takes the writes).
mkdir -p /etc/akka-migration /etc/systemd/system
for host in "${hosts[@]}" client; do
  mounts=""
  for path in "${hidden[@]}"; do mounts+="mount -t tmpfs -o mode=0755 tmpfs '$path' && "; done
  in_host "$host" sh -c "${mounts}chmod 700 /root"
  in_host "$host" sh -c "! command -v dotnet >/dev/null && [ ! -e '$repo/Makefile' ] && [ ! -e '$main_checkout/Makefile' ]" ||
    die "$host still sees the SDK or the checkout"
  in_host "$host" sh -c 'timeout 60 podman ps -aq --filter name="^amig-" | xargs -r timeout 120 podman rm -f -t 0 >/dev/null; rm -rf /var/lib/akka-migration/node/jobs' 2>/dev/null || true
done
log "hosts up; each sees neither $repo nor the .NET SDK"

# A file to a machine's home (root's, /root), as scp would put it there.
copy() { # host file [name]
  in_host "$1" sh -c "cat >'/root/${3:-$(basename "$2")}'" <"$2"
}

# --- the README's steps --------------------------------------------------------------------------
# A root login on a fresh machine: none of this shell's environment (AKKA_MIGRATION_CONFIG, the SDK's variables).
login=(env -i -C /root HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
# Each runs on its machine, from root's home (the admin's: $admin). Prints nothing but its output.
run_step() { # where host command [stdin]
  local where=$1 host=$2 command=$3 input=${4:-}
  case "$where" in
    build) (cd "$repo" && bash -c "$command") ;;
    admin) (cd "$admin" && bash -c "$command") ;;
    *)
      if [ "$command" = "systemctl enable --now akka-migration-node" ]; then
        start_from_unit "$host"
      elif [ -n "$input" ]; then
        printf '%s' "$input" | in_host "$host" "${login[@]}" timeout 300 bash -lc "$command"
      else
        in_host "$host" "${login[@]}" timeout 900 bash -lc "$command" </dev/null
      fi
      ;;
  esac
}

# What systemd would run for akka-migration-node.service: ExecStart with the unit's Environment= and
# EnvironmentFile=, in its WorkingDirectory, and a notify socket on which READY=1 must arrive.
start_from_unit() { # host
  local host=$1 unit line key value env=() exec_line="" wd=/ word args=() notify
  unit=$(in_host "$host" cat /etc/systemd/system/akka-migration-node.service)
  while IFS= read -r line; do
    key=${line%%=*} value=${line#*=}
    case "$key" in
      Environment) env+=("$value") ;;
      EnvironmentFile) while IFS= read -r l; do [[ -z $l || $l == \#* ]] || env+=("$l"); done < <(in_host "$host" cat "${value#-}") ;;
      WorkingDirectory) wd=$value ;;
      ExecStart) exec_line=$value ;;
    esac
  done <<<"$unit"
  [ -n "$exec_line" ] || die "$host: the unit has no ExecStart"
  # systemd's ${NAME}: the variable's value as one word, from the unit's environment.
  for word in $exec_line; do
    if [[ $word =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ ]]; then
      value=$(printf '%s\n' "${env[@]}" | sed -n "s/^${BASH_REMATCH[1]}=//p" | tail -1)
      [ -n "$value" ] || die "$host: the unit's ${word} is not set by its Environment"
      word=$value
    fi
    args+=("$word")
  done
  notify=$notify_dir/$host.notify.sock
  mkdir -p "$notify_dir"
  rm -f "$notify"
  socat -u "UNIX-RECV:$notify" "OPEN:$run/$host.notify,creat,append" &
  socat_pids+=($!)
  for _ in $(seq 50); do [ -S "$notify" ] && break; sleep 0.1; done
  log "$host: ${args[*]} (${env[*]})"
  (
    mapfile -t ns < <(nsenter_args "$host")
    exec nsenter "${ns[@]}" env -i -C "$wd" "${env[@]}" NOTIFY_SOCKET="$notify" "${args[@]}" >"$run/$host.log" 2>&1
  ) &
  node_pid[$host]=$!
  node_pids+=($!)
  for _ in $(seq 600); do
    grep -q 'READY=1' "$run/$host.notify" 2>/dev/null && { log "$host: READY=1"; return 0; }
    kill -0 "${node_pid[$host]}" 2>/dev/null || die "$host's node exited before it was ready; see $run/$host.log"
    sleep 0.1
  done
  die "$host's node sent no READY=1 within 60 s; see $run/$host.log"
}

installed_client() { in_host client "${login[@]}" timeout 60 akka-migration "$@"; }

wait_for_cluster() {
  local status=""
  for _ in $(seq 60); do
    status=$(installed_client status --json 2>/dev/null || true)
    jq -e '(.unreachable | length) == 0 and ([.nodes[].node] | sort) == ["nodeA","nodeB"]
           and all(.nodes[]; (.upMembers | sort) == ["nodeA","nodeB"])' <<<"$status" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "the cluster did not form within 60 s; last status: ${status:-none}; see $run/*.log"
}

n=0
result=""
for entry in "${steps[@]}"; do
  n=$((n + 1))
  where=${entry%%|*} command=${entry#*|}
  case "$where" in
    build | admin)
      log "step $n ($where): $command"
      run_step "$where" - "$command"
      [ "$command" != "make dist" ] || cp "$tarball" "$admin/"
      if [ "$command" = "cp $bundle/config.ini.example config.ini" ] && [ -n "${DEPLOY_CHECK_WORK_MS:-}" ]; then
        sed -i "s/^work_ms = .*/work_ms = $DEPLOY_CHECK_WORK_MS/" "$admin/config.ini"
        grep -qx "work_ms = $DEPLOY_CHECK_WORK_MS" "$admin/config.ini" || die "config.ini has no work_ms line to set"
      fi
      ;;
    host)
      for host in "${hosts[@]}"; do
        if [ "$command" = "tar -xzf $tarball_name" ]; then
          for file in "$tarball" "$admin/config.ini" "$admin/pki/ca.crt" "$admin/pki/$host.pfx" "$admin/pki/$host.password"; do copy "$host" "$file"; done
        fi
        log "step $n ($host): ${command//NAME/$host}"
        started=$SECONDS
        run_step host "$host" "${command//NAME/$host}"
        case "$command" in
          *install.sh*)
            log "$host: install took $((SECONDS - started)) s; again, as on a host already installed:"
            started=$(date +%s%N)
            run_step host "$host" "${command//NAME/$host}" >/dev/null
            log "$host: install again took $(( ($(date +%s%N) - started) / 1000000 )) ms"
            ;;
        esac
      done
      ;;
    client)
      if [ "$command" = "tar -xzf $tarball_name" ]; then
        for file in "$tarball" "$admin/config.ini" "$admin/pki/ca.crt" "$admin/pki/client.pfx" "$admin/pki/client.password"; do copy client "$file"; done
      fi
      [ "$command" != akka-migration ] || wait_for_cluster
      log "step $n (client): $command"
      case "$command" in
        akka-migration)
          # The seed's prompt flow: a number, where to migrate it, which host to ask; then quit.
          run_step client client "$command" $'41\nnodeB\nnodeB\n\n' | tee "$run/client.log"
          result=$(grep -aE '^result ' "$run/client.log" | tail -1 || true)
          [ "$result" = "result 42 from nodeB" ] || die "the seed flow printed '${result:-no result}'; see $run/"
          ;;
        "akka-migration drain nodeB")
          run_step client client "$command"
          # A drained node leaves the cluster and exits 0: under Restart=on-failure it stays stopped.
          for _ in $(seq 600); do kill -0 "${node_pid[nodeB]}" 2>/dev/null || break; sleep 0.1; done
          kill -0 "${node_pid[nodeB]}" 2>/dev/null && die "nodeB still runs 60 s after its drain; see $run/nodeB.log"
          code=0; wait "${node_pid[nodeB]}" || code=$?
          [ "$code" = 0 ] || die "nodeB exited $code after its drain, not 0; see $run/nodeB.log"
          log "nodeB drained and exited 0"
          ;;
        "akka-migration query drain-check")
          run_step client client "$command"
          owner=$(installed_client query drain-check --json | jq -r '.owner // empty')
          [ "$owner" = nodeA ] || die "the drained job is on '${owner:-nowhere}', not nodeA"
          ;;
        *) run_step client client "$command" ;;
      esac
      ;;
  esac
done

trap - EXIT
cleanup
echo "$result"
