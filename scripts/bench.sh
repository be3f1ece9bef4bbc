#!/usr/bin/env bash
# `make bench`: issues 4 and 16's benchmark on two simulated hosts of this machine.
# For each link (BENCH_LINKS, default "none 10gbit 1gbit": the bare veth, then `tc qdisc ... tbf
# rate R burst 256kb latency 50ms` on both hosts' eth0), BENCH_REPEATS times (default 3), interleaved:
#   - for each workload (BENCH_WORKLOADS, MB of incompressible state, default "0 64 256") the
#     worker moves nodeA → nodeB two ways:
#       by hand: podman checkpoint --export on A, a raw TCP copy (socat) to B, podman restore --import on B;
#       ours:    the client's `migrate JOB nodeB` through the cluster;
#   - the key-value service (`worker kv --data`, filled with BENCH_SERVICE_MB MB of values, default
#     256) moves both ways while `worker kv-load` writes to it over one TCP connection from the
#     client's host: by hand with --tcp-established and the nft guards the node uses, ours started
#     with `client run --network cluster`. The figure is the longest pause that client saw.
# Then big containers (BENCH_BIG, MB of incompressible state, default "1024 2048 4096"), on each
# link of BENCH_BIG_LINKS (default "1gbit none"), BENCH_REPEATS times: by hand and ours as above, by
# hand only up to BENCH_BIG_HAND_MAX MB (default 2048; the 4 GB one is ours alone, and whether it
# moved). Their throughput and the nodes' RSS growth are the figures. BENCH_SKIP_BIG=1 leaves them out.
# Then, on the bare link, BENCH_TEN small jobs (default 10) moved one after another against all at
# once, and the wall time of `client status` (a client process's start-up and one request).
# Last, compression: for each of BENCH_COMPRESSION (default "none zstd gzip": podman 4.3's
# --compress offers these three, no lz4) both nodes restart on a config with that [container]
# compression, and ours moves a worker of BENCH_COMPRESSION_MB (default 256) on each link of
# BENCH_LINKS, BENCH_REPEATS times, with incompressible state and with compressible state
# (`--state-kind text`: JSON-like records). BENCH_SKIP_COMPRESSION=1 leaves it out.
# The nodes and the client run on a copy of config.ini in the run's folder (paths made absolute)
# with [transfer] restore_timeout_s raised to BENCH_RESTORE_TIMEOUT_S (default 600): the client
# waits restore_timeout_s + 60 s for a move's answer, and 180 s is too short for 4 GB on 1 Gbit/s.
# Every part runs on its own: a part that fails becomes that part's figure (a `fail` line in the
# raw results, `KEY=failed reason="..."` in the key lines) and the rest still runs.
# Writes docs/benchmark.md and docs/benchmark*.png (medians); raw figures stay in build/bench/.
# The last lines printed are the key=value figures. How each is measured is written into
# docs/benchmark.md by scripts/bench/report.py.
#   BENCH_QUICK=1: a smoke slice, each part once at small size (0 and 16 MB, a 16 MB service,
#   3 jobs, a 64 MB "big" container, compression at 16 MB, links none and 1gbit); everything stays
#   in build/bench-quick/, so a full run's raw figures in build/bench/ and docs/ are untouched.
set -euo pipefail
# Our own simulated hosts, so a concurrent `make test` (amt) or `make demo` (amig) is untouched.
export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-amb}
source "$(dirname "$0")/lib.sh"

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
  : "${BENCH_REPEATS:=1}" "${BENCH_WORKLOADS:=0 16}" "${BENCH_LINKS:=none 1gbit}" "${BENCH_SERVICE_MB:=16}" \
    "${BENCH_TEN:=3}" "${BENCH_NO_DOCS:=1}" "${BENCH_BIG:=64}" "${BENCH_BIG_LINKS:=none 1gbit}" \
    "${BENCH_COMPRESSION_MB:=16}"
fi
repeats=${BENCH_REPEATS:-3}
read -r -a workloads <<<"${BENCH_WORKLOADS:-0 64 256}"
read -r -a links <<<"${BENCH_LINKS:-none 10gbit 1gbit}"
service_mb=${BENCH_SERVICE_MB:-256}
concurrent=${BENCH_TEN:-10}
# BENCH_SKIP_TEN=1, BENCH_SKIP_SERVICE=1: quick runs for tuning (the key figures then lack those parts).
skip_ten=${BENCH_SKIP_TEN:-0}
skip_service=${BENCH_SKIP_SERVICE:-0}
read -r -a big <<<"${BENCH_BIG:-1024 2048 4096}"
read -r -a big_links <<<"${BENCH_BIG_LINKS:-1gbit none}"
big_hand_max=${BENCH_BIG_HAND_MAX:-2048}
skip_big=${BENCH_SKIP_BIG:-0}
read -r -a compressions <<<"${BENCH_COMPRESSION:-none lz4 zstd gzip}"
compression_mb=${BENCH_COMPRESSION_MB:-256}
skip_compression=${BENCH_SKIP_COMPRESSION:-0}
restore_timeout_s=${BENCH_RESTORE_TIMEOUT_S:-600}
run=$repo/build/bench
[ "$quick" = 1 ] && run=$repo/build/bench-quick
results=$run/results.txt
podman="podman --runtime runc"
loader=$repo/build/worker/worker
ini() { # section key: a value of config.ini
  awk -F' *= *' -v s="[$1]" -v k="$2" '/^\[/ {in_s = ($0 == s)} in_s && $1 == k {print $2; exit}' "$config"
}
image=$(ini container image)
# Inside each host this path is its own folder (hosts.sh binds it per host), the node's state dir.
archive=/var/lib/akka-migration/node/bench-by-hand.tar
tcp_port=5999
address_b=$(hosts_table | awk -F'\t' '$1 == "nodeB" {print $2}')
# By hand's service address: on the cluster's service network, far above the addresses the
# cluster hands out first (from [service_network] first, .10).
net_name=$(ini service_network name)
hand_ip=${net_name:+$(ini service_network subnet | sed 's|\.[0-9]*/.*|.250|')}
kv_port=7000
node_pids=()
# The wall clock allowed to one command: a hung podman, copy or client fails its part, not the run.
quick_s=60 move_s=900

# The same container flags as Node/Runtime/PodmanRuntime.cs and config.ini.
run_flags=(--detach --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
[ "$(ini container compression)" = none ] ||
  die "config.ini's compression is not none; the by-hand path would not match the node's checkpoint"

# in_host with a time limit.
in_host_t() { # seconds host command...
  local limit=$1 args
  mapfile -t args < <(nsenter_args "$2")
  shift 2
  timeout -k 10 "$limit" nsenter "${args[@]}" "$@"
}
# The client as the bundle installs it on real hosts (self-contained, ReadyToRun; `make dist`):
# what users run. The checkout's JIT-compiled dll starts about 0.4 s slower (client_status below).
# Unpacked under preparation, once cleanup is armed to remove it.
bundle=$(mktemp -d)
bundle_client=$bundle/$bundle_name/client/AkkaMigration.Client
# The client, time-limited; lib.sh's wait_for_cluster uses `client` too.
client_t() { in_host_t "$1" client "$bundle_client" --config "$config" "${@:2}"; }
client() { client_t "$quick_s" "$@"; }

# Processes a part starts in the background, so that a failed part's are ended by their PIDs.
bg_pids=$run/background.pids
remember() { echo "$1" >>"$bg_pids"; }

# What a part may leave behind when it fails half way: its background processes, containers,
# volumes, archives and nft tables on both hosts. Nodes' own job records stay.
sweep() {
  local pid name
  if [ -f "$bg_pids" ]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$bg_pids"
    : >"$bg_pids"
  fi
  [ -e "/var/run/netns/$(netns_of nodeA)" ] || return 0
  while IFS=$'\t' read -r name _; do
    in_host_t "$quick_s" "$name" sh -c "$podman ps -aq --filter name='^amb-hand' | xargs -r $podman rm -f -t 0;
      $podman ps -aq --filter name='^amig-bench' | xargs -r $podman rm -f -t 0; $podman volume prune -f; rm -f $archive;
      nft delete table netdev bench_hand_hold; nft delete table netdev bench_hand_guard" >/dev/null 2>&1 || true
  done < <(hosts_table)
}

cleanup() {
  set +e
  # 0 is a node not started: `kill 0` would signal our own process group.
  for pid in "${node_pids[@]}"; do [ "$pid" = 0 ] || kill "$pid" 2>/dev/null; done
  for pid in "${node_pids[@]}"; do
    [ "$pid" = 0 ] && continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  node_pids=()
  sweep
  if [ -e "/var/run/netns/$(netns_of nodeA)" ]; then
    shape none >/dev/null 2>&1
    while IFS=$'\t' read -r name _; do reset_host "$name"; done < <(hosts_table)
  fi
  "$repo/scripts/hosts.sh" down
  rm -rf "$bundle"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- preparation ---------------------------------------------------------------------------
[ -f "$dist_tarball" ] || die "$dist_tarball is missing: run make dist first"
tar -xzf "$dist_tarball" -C "$bundle"
command -v socat >/dev/null || die "socat is missing: run scripts/setup.sh"
command -v nft >/dev/null || die "nft is missing: run scripts/setup.sh (nftables)"
[ -x "$loader" ] || die "$loader is missing: run scripts/setup.sh (or make image)"
# Installed here, not in setup.sh, since only the benchmark needs them: jq reads the client's
# --json answers, gnuplot draws the plot.
missing=()
command -v jq >/dev/null || missing+=(jq)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  timeout 300 apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# A service's archive (memory and its log in the volume) exists twice at most (A and B) at any time;
# a big container's checkpoint is on disk up to four times (A's dump and archive, B's archive and
# its unpacked copy).
free_mb=$(df -Pm /var/lib | awk 'NR==2{print $4}')
need_mb=$((service_mb * 5 + 1024))
if [ "$skip_big" != 1 ]; then
  for mb in "${big[@]}"; do [ $((mb * 5 + 1024)) -le "$need_mb" ] || need_mb=$((mb * 5 + 1024)); done
fi
[ "$free_mb" -ge "$need_mb" ] || die "only $free_mb MB free under /var/lib; the benchmark needs $need_mb MB"

rm -rf "$run"
mkdir -p "$run/runs" "$run/parts"
: >"$results"
: >"$bg_pids"

# The nodes' and the client's config: config.ini's lines with its relative paths made absolute (the
# copy lives in the run's folder) and SECTION.KEY=VALUE set; each key set must be there already.
source_config=$(realpath "$config")
write_config() { # out section.key=value...
  local out=$1
  shift
  awk -v dir="$(dirname "$source_config")" -v sets="$*" '
    BEGIN { n = split(sets, kv, " "); for (i = 1; i <= n; i++) { eq = index(kv[i], "="); want[substr(kv[i], 1, eq - 1)] = substr(kv[i], eq + 1) } }
    /^[ \t]*\[/ { section = $0; gsub(/[][ \t]/, "", section) }
    /^[ \t]*[;#]/ || !index($0, "=") { print; next }
    {
      key = $0; sub(/[ \t]*=.*/, "", key); gsub(/^[ \t]+/, "", key)
      if ((section "." key) in want) { print key " = " want[section "." key]; done[section "." key] = 1; next }
      path = (section == "cluster" && key == "hocon_dir") || (section == "container" && key == "image_archive") ||
             (section == "tls" && key ~ /^(ca|node_certificate|client_certificate)$/)
      value = $0; sub(/^[^=]*=[ \t]*/, "", value); sub(/[ \t\r]+$/, "", value); gsub(/^"|"$/, "", value)
      if (path && value != "" && value !~ /^\//) { print key " = " dir "/" value; next }
      print
    }
    END { for (k in want) if (!(k in done)) { print "config.ini has no " k " to set" > "/dev/stderr"; exit 1 } }' "$source_config" >"$out.tmp" ||
    return 1
  mv "$out.tmp" "$out"
}
# Switches this script, the nodes it starts and the client to that config (the nodes read it when they start).
use_config() { # file
  config=$1
  export AKKA_MIGRATION_CONFIG=$config
}
write_config "$run/config.ini" "transfer.restore_timeout_s=$restore_timeout_s"
use_config "$run/config.ini"

# Pre-copy needs the kernel's soft-dirty tracking; without it CRIU can only do a stop-and-copy dump.
if criu check --feature mem_dirty_track >/dev/null 2>&1; then
  precopy=supported
  log "pre-copy: the kernel supports memory dirty tracking, but the product has no pre-copy mode yet; measuring stop-and-copy"
else
  precopy=unsupported
  log "pre-copy: not supported here (criu check --feature mem_dirty_track fails); running without it"
fi

# Record whether the machine was shared: other simulated hosts or a test run beside us.
others=$(ip netns list | awk '{print $1}' | grep -v "^$netns_prefix-" | sed 's/-.*//' | sort -u | paste -sd, - || true)
tests=$(pgrep -fc 'dotnet.*(test|testhost)' || true)
bench_env=$(env | grep '^BENCH_' | sort | paste -sd' ' - || true)
{
  echo "meta precopy=$precopy repeats=$repeats workloads=$(IFS=,; echo "${workloads[*]}") links=$(IFS=,; echo "${links[*]}") service_mb=$service_mb ten=$concurrent skip_ten=$skip_ten skip_service=$skip_service quick=$quick chunk_kb=$(ini transfer chunk_kb) window=$(ini transfer window) cpus=$(nproc) kernel=$(uname -r) prefix=$netns_prefix"
  echo "meta criu=$(criu --version | sed -n 's/^Version: *//p') podman=$(podman --version | awk '{print $3}') date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "meta other_netns=${others:-none} test_processes=$tests loadavg=$(cut -d' ' -f1 /proc/loadavg)"
  echo "meta big=$(IFS=,; echo "${big[*]}") big_links=$(IFS=,; echo "${big_links[*]}") big_hand_max=$big_hand_max skip_big=$skip_big compressions=$(IFS=,; echo "${compressions[*]}") compression_mb=$compression_mb skip_compression=$skip_compression restore_timeout_s=$restore_timeout_s max_archive_mb=$(ini transfer max_archive_mb)"
  echo "meta command=${bench_env// /+}"
} >>"$results"

"$repo/scripts/hosts.sh" down # leftovers of an interrupted run
"$repo/scripts/hosts.sh" up
while IFS=$'\t' read -r name _; do
  in_host_t 300 "$name" "$repo/initializeDemo.sh" "$name"
  reset_host "$name"
done < <(hosts_table)
sweep

# start_node prints the pid of the shell that runs nsenter; the node is its dotnet child.
dotnet_pid() { # wrapper-pid
  local pid=$1
  for _ in $(seq 3); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dotnet ] && { echo "$pid"; return; }
    pid=$(pgrep -P "$pid" | head -1) || break
  done
  die "no dotnet process under $1"
}
node_pids=(0 0)
node_a=0 node_b=0
# Nodes started again on another config (compression) log to files of their own.
node_log_tag=
# Starts the nodes that are not running (all of them at first), then waits for the cluster.
nodes_up() {
  local i host
  for i in 0 1; do
    host=$([ "$i" = 0 ] && echo nodeA || echo nodeB)
    if [ "${node_pids[$i]}" = 0 ]; then
      node_pids[i]=$(start_node "$host" "$run/$host$node_log_tag.log")
    elif ! kill -0 "${node_pids[$i]}" 2>/dev/null; then
      log "$host's node had ended; starting it again"
      node_pids[i]=$(start_node "$host" "$run/$host-restarted-$(date +%s).log")
    fi
  done
  wait_for_cluster 90 || return 1
  node_a=$(dotnet_pid "${node_pids[0]}")
  node_b=$(dotnet_pid "${node_pids[1]}")
}
# Stops both nodes (SIGTERM, then SIGKILL after 5 s); the next nodes_up starts them again.
nodes_stop() {
  local pid
  # 0 is a node not started: `kill 0` would signal our own process group.
  for pid in "${node_pids[@]}"; do [ "$pid" = 0 ] || kill "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do
    [ "$pid" = 0 ] && continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  node_pids=(0 0)
}
nodes_up || die "the cluster did not form within 90 s; see $run/*.log"
log "cluster up"

# The 1-minute load average after each measurement: how busy the shared machine was.
load() { cut -d' ' -f1 /proc/loadavg; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # pid field

# ---- parts -------------------------------------------------------------------------------------
link=none
# Runs one part of the benchmark in a subshell. If it fails, the part's last words become a `fail`
# line of the results (report.py turns them into that part's figure); what it left is swept away
# and a node that died is started again, so the next part starts clean.
part() { # name fields function args...
  local name=$1 fields=$2 rc err reason
  shift 2
  part_failed=0
  err=$run/parts/$(printf '%03d' "$(ls "$run/parts" | wc -l)")-$name.err
  set +e
  (
    set -eE
    trap 'echo "failed (exit $?): $BASH_COMMAND" >&2' ERR
    # BENCH_FAIL_PART=NAME: that part fails on purpose, to see the rest of the run go on.
    [ "${BENCH_FAIL_PART:-}" != "$name" ] || die "failed on purpose (BENCH_FAIL_PART=$name)"
    "$@"
  ) 2>"$err"
  rc=$?
  set -e
  cat "$err" >&2
  [ "$rc" -eq 0 ] && return 0
  part_failed=1
  # The die message, or the failed command with the line it printed before.
  reason=$(sed 's/\x1b\[[0-9;]*m//g; s/^\[[a-z-]*\] //' "$err" | grep -v '^[[:space:]]*$' | tail -2 |
    awk '{l[NR] = $0} END {print (l[NR] ~ /^failed \(exit/ && NR > 1) ? l[NR] ": " l[1] : l[NR]}' |
    tr '"\t' "' " | cut -c1-300)
  echo "fail part=$name link=$link $fields rc=$rc reason=${reason:-exit $rc}" >>"$results"
  log "part $name ($fields, link $link) failed: ${reason:-exit $rc}; going on"
  sweep
  nodes_up || log "the cluster did not form again; the next parts will fail"
}

# ---- links -------------------------------------------------------------------------------------
# Shapes both hosts' egress the same way; `none` takes the shaping off (veths default to noqueue).
shape() { # link
  local name qdisc
  while IFS=$'\t' read -r name _; do
    if [ "$1" = none ]; then
      in_host_t "$quick_s" "$name" tc qdisc del dev eth0 root 2>/dev/null || true
    else
      in_host_t "$quick_s" "$name" tc qdisc replace dev eth0 root tbf rate "$1" burst 256kb latency 50ms
    fi
    qdisc=$(in_host_t "$quick_s" "$name" tc qdisc show dev eth0 | head -1)
    log "link $1: $name eth0: $qdisc"
    echo "meta qdisc_${1}_$name=$(tr -s ' ' '_' <<<"$qdisc")" >>"$results"
  done < <(hosts_table)
}

# By hand's copy: a socat listener on B first, so the copy's clock starts with bytes on the wire.
listen_b() {
  in_host_t "$move_s" nodeB socat -u "TCP-LISTEN:$tcp_port,reuseaddr" "OPEN:$archive,creat,trunc" &
  listener=$!
  remember "$listener"
  for _ in $(seq 100); do [ -n "$(in_host_t "$quick_s" nodeB ss -ltnH "sport = :$tcp_port")" ] && return 0; sleep 0.05; done
  die "socat on nodeB is not listening on $tcp_port"
}
copy_to_b() {
  in_host_t "$move_s" nodeA socat -u "OPEN:$archive" "TCP:$address_b:$tcp_port"
  wait "$listener" # the copy is done when B has written and closed the file
}

# ---- the worker, by hand ------------------------------------------------------------------------
# The single moves' series: main (BENCH_WORKLOADS) or big (BENCH_BIG). A big move's lines say
# series=big, and its names carry big-, so that the two never mix.
series=main
series_tag() { [ "$series" = main ] || echo "$series-"; }
series_field() { [ "$series" = main ] || echo " series=$series"; }

by_hand() { # state_mb repeat
  local mb=$1 rep=$2 tag name t0 t1 t2 t3 bytes listener out
  tag=$(series_tag)
  name=amb-hand-$tag$link-$1-$2 out=$run/runs/hand-$tag$link-$1-$2
  in_host_t "$quick_s" nodeA $podman run "${run_flags[@]}" --network none --name "$name" "$image" \
    --number 41 --work-ms 600000 --state-mb "$mb" >/dev/null
  wait_started nodeA "$name"
  listen_b
  t0=$(now_ms)
  in_host_t "$move_s" nodeA $podman container checkpoint "$name" --export "$archive" --compress none --print-stats >"$out-checkpoint.json"
  t1=$(now_ms)
  copy_to_b
  t2=$(now_ms)
  in_host_t "$move_s" nodeB $podman container restore --import "$archive" --print-stats >"$out-restore.json"
  t3=$(now_ms)

  bytes=$(in_host_t "$quick_s" nodeB stat -c %s "$archive")
  [ "$(in_host_t "$quick_s" nodeB $podman inspect -f '{{.State.Status}}' "$name")" = running ] || die "$name does not run on nodeB after the restore"
  echo "hand link=$link mb=$mb rep=$rep$(series_field) load=$(load) checkpoint_ms=$((t1 - t0)) copy_ms=$((t2 - t1)) restore_ms=$((t3 - t2)) total_ms=$((t3 - t0)) bytes=$bytes" >>"$results"
  log "by hand  ${mb} MB #$rep, link $link: checkpoint $((t1 - t0)) ms, copy $((t2 - t1)) ms, restore $((t3 - t2)) ms, total $((t3 - t0)) ms"
  for h in nodeA nodeB; do in_host_t "$quick_s" "$h" sh -c "$podman rm -f -t 0 $name >/dev/null; rm -f $archive"; done
}

# ---- the worker, ours ---------------------------------------------------------------------------
# Resets VmHWM to the current RSS in both nodes (writing 5 to clear_refs): the peak read after is
# the move's own. Prints the RSS before.
rss_mark() {
  echo 5 >"/proc/$node_a/clear_refs"
  echo 5 >"/proc/$node_b/clear_refs"
  echo "rss_a_kb=$(status_kb "$node_a" VmRSS) rss_b_kb=$(status_kb "$node_b" VmRSS)"
}
rss_peaks() { echo "hwm_a_kb=$(status_kb "$node_a" VmHWM) hwm_b_kb=$(status_kb "$node_b" VmHWM)"; }

# {"ok":true,...,"timings":{"checkpointMs":N,...,"streamMs":N},"clientMs":N}: clientMs is the
# client's own clock from sending the request to the answer, without its process start-up.
# Prints the figures as key=value, or fails.
migrate_figures() { # line
  local fields client_ms node_total checkpoint transfer restore bytes stream
  fields=$(jq -r 'select(.ok == true) | [.clientMs, .timings.totalMs, .timings.checkpointMs, .timings.transferMs,
    .timings.restoreMs, .timings.archiveBytes, .timings.streamMs] | map(tostring) | join(" ")' <<<"$1" 2>/dev/null) || fields=
  read -r client_ms node_total checkpoint transfer restore bytes stream <<<"$fields"
  [[ "$client_ms" =~ ^[0-9]+$ && "$stream" =~ ^[0-9]+$ ]] || die "unexpected migrate output: $1"
  echo "client_ms=$client_ms node_total_ms=$node_total checkpoint_ms=$checkpoint transfer_ms=$transfer restore_ms=$restore stream_ms=$stream bytes=$bytes"
}

submit() { # id state_mb
  local out
  out=$(client submit 41 --id "$1" --work-ms 600000 --state-mb "$2" 2>&1) || die "submit $1 failed: $(tail -1 <<<"$out")"
}

# The error of a failed `migrate --json`, or all it printed.
migrate_error() { jq -er '.error' <<<"$1" 2>/dev/null || echo "${1:-no output}"; }

ours() { # state_mb repeat
  local mb=$1 rep=$2 id
  id=bench-$(series_tag)$link-$1-$2
  submit "$id" "$mb"
  move_ours "$id" "ours link=$link mb=$mb rep=$rep$(series_field)" "ours     ${mb} MB #$rep, link $link"
}

# Moves the started job nodeA → nodeB with the client, appends its raw line (the fields given,
# then the client's figures and the nodes' RSS) and removes B's copy.
move_ours() { # id raw-fields label
  local id=$1 line t0 t1 rss figures
  wait_started nodeA "amig-$id"
  rss=$(rss_mark)
  t0=$(now_ms)
  line=$(client_t "$move_s" migrate "$id" nodeB --json) || die "migrate $id failed: $(migrate_error "$line")"
  t1=$(now_ms)
  echo "$line" >>"$run/client.log"
  figures=$(migrate_figures "$line")
  echo "$2 load=$(load) wall_ms=$((t1 - t0)) $figures $rss $(rss_peaks)" >>"$results"
  log "$3: process wall $((t1 - t0)) ms; $figures"
  # The node marks the job failed once its container is gone; that is only our cleanup.
  in_host_t "$quick_s" nodeB $podman rm -f -t 0 "amig-$id" >/dev/null
}

# ---- compression ---------------------------------------------------------------------------------
# Ours with the nodes on a config of this [container] compression (use_compression), the worker
# started by `client run`, so that it can take --state-kind: random (incompressible, as everywhere
# else) or text (compressible records). The archive's size is the compressed one.
ours_compressed() { # compression state_kind repeat
  local comp=$1 kind=$2 rep=$3 mb=$compression_mb id accepted
  id=bench-z-$1-$2-$link-$3
  accepted=$(client run --json --on nodeA "$id" "$image" --number 41 --work-ms 600000 --state-mb "$mb" --state-kind "$kind" 2>&1) ||
    die "run $id failed: $(migrate_error "$accepted")"
  move_ours "$id" "comp link=$link compression=$comp state=$kind mb=$mb rep=$rep" \
    "ours     ${mb} MB $kind, compression $comp #$rep, link $link"
}

# Restarts both nodes on a copy of the run's config with this compression, with no job records left:
# podman's (none, gzip, zstd), or lz4, the nodes' own on the stream, podman's then none.
# In the script's own shell, not in a part: the nodes' PIDs and the config must outlive it.
use_compression() { # compression
  local file=$run/config-$1.ini name podman_comp=$1 stream_comp=none
  [ "$1" != lz4 ] || { podman_comp=none; stream_comp=lz4; }
  write_config "$file" "transfer.restore_timeout_s=$restore_timeout_s" "container.compression=$podman_comp" \
    "transfer.compression=$stream_comp" || return 1
  nodes_stop
  use_config "$file"
  node_log_tag=-compression-$1
  while IFS=$'\t' read -r name _; do reset_host "$name"; done < <(hosts_table)
  nodes_up
}

# ---- the key-value service ------------------------------------------------------------------------
# kv-load from the client's host, one connection, writing as fast as the service answers. Bounded
# by its own --duration-s; stopped with SIGTERM, after which it reads back every write and prints
# one summary line.
load_start() { # address out
  local args
  mapfile -t args < <(nsenter_args client)
  nsenter "${args[@]}" "$loader" kv-load --target "$1:$kv_port" --duration-s 600 --prefix load >"$2.out" 2>"$2.err" &
  loader_pid=$!
  remember "$loader_pid"
  # Writing: the first replies have come back.
  sleep 2
  kill -0 "$loader_pid" 2>/dev/null || die "kv-load ended at once: $(tail -1 "$2.err")"
}
load_stop() { # out: prints the summary line
  kill -TERM "$loader_pid" 2>/dev/null || true
  for _ in $(seq 1200); do kill -0 "$loader_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$loader_pid" 2>/dev/null || true
  wait "$loader_pid" || true
  local summary
  summary=$(tail -1 "$1.out")
  [[ "$summary" == kv-load* ]] || die "kv-load printed no summary; see $1.err"
  echo "${summary#kv-load }"
}
fill() { # address
  local count
  count=$(in_host_t 600 client python3 "$repo/scripts/bench/kv-fill.py" "$1" "$kv_port" "$service_mb") || die "filling the service failed: $count"
  log "service filled: $count"
}
container_rss_kb() { # host container
  local pid
  pid=$(in_host_t "$quick_s" "$1" $podman inspect -f '{{.State.Pid}}' "$2")
  status_kb "$pid" VmRSS
}
# The nft rules the node puts around a service's move (Node/Runtime/PacketGuard.cs): on the source,
# new connections held during the checkpoint; on the target, all of the address's TCP dropped
# during the restore, which would otherwise reset a retransmission arriving before the sockets are back.
guard() { # host kind rule
  in_host_t "$quick_s" "$1" nft -f - <<EOF
table netdev bench_hand_$2 { chain in { type filter hook ingress device "$(ini service_network parent)" priority -500; ip daddr $hand_ip $3; }; }
EOF
}
unguard() { in_host_t "$quick_s" "$1" nft delete table netdev "bench_hand_$2"; }
ensure_network() { # host
  in_host_t "$quick_s" "$1" $podman network exists "$net_name" && return 0
  in_host_t "$quick_s" "$1" $podman network create --driver macvlan --opt "parent=$(ini service_network parent)" \
    --subnet "$(ini service_network subnet)" --gateway "$(ini service_network gateway)" "$net_name" >/dev/null
}

hand_service() { # repeat
  local rep=$1 name=amb-hand-kv-$link-$1 volume=amb-hand-kv-$link-$1 out=$run/runs/hand-kv-$link-$1 t0 t1 t2 t3 bytes rss summary listener
  ensure_network nodeA
  ensure_network nodeB
  in_host_t "$quick_s" nodeA $podman run "${run_flags[@]}" --name "$name" --network "$net_name" --ip "$hand_ip" \
    --volume "$volume:/data" "$image" kv --port "$kv_port" --data /data >/dev/null
  wait_started nodeA "$name"
  fill "$hand_ip"
  rss=$(container_rss_kb nodeA "$name")
  listen_b
  load_start "$hand_ip" "$out-load"
  t0=$(now_ms)
  guard nodeA hold "tcp flags & (syn | ack) == syn drop"
  in_host_t "$move_s" nodeA $podman container checkpoint "$name" --export "$archive" --tcp-established --compress none --print-stats >"$out-checkpoint.json"
  unguard nodeA hold
  t1=$(now_ms)
  copy_to_b
  t2=$(now_ms)
  guard nodeB guard "meta l4proto tcp drop"
  in_host_t "$move_s" nodeB $podman container restore --import "$archive" --tcp-established --print-stats >"$out-restore.json"
  unguard nodeB guard
  t3=$(now_ms)
  # Like the node: the source's copy and its volume go once the service runs on the target.
  in_host_t "$quick_s" nodeA sh -c "$podman rm -f -t 0 $name >/dev/null; $podman volume rm -f $volume >/dev/null"
  sleep 1
  summary=$(load_stop "$out-load")
  bytes=$(in_host_t "$quick_s" nodeB stat -c %s "$archive")
  [ "$(in_host_t "$quick_s" nodeB $podman inspect -f '{{.State.Status}}' "$name")" = running ] || die "$name does not run on nodeB after the restore"
  echo "svc path=hand link=$link mb=$service_mb rep=$rep load=$(load) checkpoint_ms=$((t1 - t0)) copy_ms=$((t2 - t1)) restore_ms=$((t3 - t2)) total_ms=$((t3 - t0)) bytes=$bytes kv_rss_kb=$rss $summary" >>"$results"
  log "by hand  service #$rep, link $link: moved in $((t3 - t0)) ms (checkpoint $((t1 - t0)), copy $((t2 - t1)), restore $((t3 - t2))); client saw: $summary"
  in_host_t "$quick_s" nodeB sh -c "$podman rm -f -t 0 $name >/dev/null; $podman volume rm -f $volume >/dev/null; rm -f $archive"
}

ours_service() { # repeat
  local rep=$1 id=bench-kv-$link-$1 volume=bench-kv-$link-$1 out=$run/runs/ours-kv-$link-$1 accepted address line t0 t1 rss node_rss figures summary
  accepted=$(client run --json --on nodeA --network cluster --volume "$volume:/data" "$id" "$image" kv --port "$kv_port" --data /data) ||
    die "run $id failed: $accepted"
  address=$(jq -r '.address // empty' <<<"$accepted")
  [ -n "$address" ] || die "the service got no address: $accepted"
  wait_started nodeA "amig-$id"
  fill "$address"
  rss=$(container_rss_kb nodeA "amig-$id")
  load_start "$address" "$out-load"
  node_rss=$(rss_mark)
  t0=$(now_ms)
  line=$(client_t "$move_s" migrate "$id" nodeB --json) || die "migrate $id failed: $(migrate_error "$line")"
  t1=$(now_ms)
  echo "$line" >>"$run/client.log"
  sleep 1
  summary=$(load_stop "$out-load")
  figures=$(migrate_figures "$line")
  echo "svc path=ours link=$link mb=$service_mb rep=$rep load=$(load) wall_ms=$((t1 - t0)) $figures kv_rss_kb=$rss $node_rss $(rss_peaks) $summary" >>"$results"
  log "ours     service #$rep, link $link: migrate's process wall $((t1 - t0)) ms; $figures; client saw: $summary"
  in_host_t "$quick_s" nodeB sh -c "$podman rm -f -t 0 amig-$id >/dev/null; $podman volume rm -f $volume >/dev/null"
}

# ---- ten at once against ten in a row --------------------------------------------------------
ten() { # repeat mode
  local rep=$1 mode=$2 ids=() pids=() ok=0 t0 t1 i id m0 running
  for i in $(seq "$concurrent"); do
    ids+=("bench-$mode-$rep-$i")
    submit "${ids[-1]}" 0
  done
  for id in "${ids[@]}"; do wait_started nodeA "amig-$id"; done
  t0=$(now_ms)
  if [ "$mode" = concurrent ]; then
    for id in "${ids[@]}"; do
      # Without the part's ERR trap: a failed move is counted here, not announced in its output.
      (trap - ERR; client_t "$move_s" migrate "$id" nodeB) >"$run/runs/$id.out" 2>&1 &
      pids+=($!)
      remember "$!"
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" && ok=$((ok + 1)); done
  else
    for id in "${ids[@]}"; do
      m0=$(now_ms)
      # Without the part's ERR trap: a failed move is counted here, not announced in its output.
      (trap - ERR; client_t "$move_s" migrate "$id" nodeB) >"$run/runs/$id.out" 2>&1 && ok=$((ok + 1))
      echo "client wall $(($(now_ms) - m0)) ms" >>"$run/runs/$id.out"
    done
  fi
  t1=$(now_ms)
  # Success means the client said so and the container really runs on B.
  running=$(in_host_t "$quick_s" nodeB $podman ps --filter status=running --format '{{.Names}}' | grep -c "^amig-bench-$mode-$rep-" || true)
  [ "$running" -lt "$ok" ] && ok=$running
  echo "ten mode=$mode rep=$rep load=$(load) wall_ms=$((t1 - t0)) ok=$ok of=$concurrent" >>"$results"
  log "$mode x$concurrent #$rep: $((t1 - t0)) ms, $ok of $concurrent moved"
  if [ "$ok" -ne "$concurrent" ]; then
    for id in "${ids[@]}"; do grep -c moved "$run/runs/$id.out" >/dev/null || log "$id: $(tail -1 "$run/runs/$id.out")"; done
  fi
  for h in nodeA nodeB; do in_host_t "$quick_s" "$h" sh -c "$podman ps -aq --filter name='^amig-bench-$mode-$rep-' | xargs -r $podman rm -f -t 0" >/dev/null; done
}

# ---- the client's own start-up ---------------------------------------------------------------------
client_status() { # repeat
  local t0 t1 t2
  t0=$(now_ms)
  client status >/dev/null
  t1=$(now_ms)
  in_host_t "$quick_s" client dotnet "$client_dll" --config "$config" status >/dev/null
  t2=$(now_ms)
  echo "status rep=$1 load=$(load) wall_ms=$((t1 - t0)) dll_ms=$((t2 - t1))" >>"$results"
  log "client status #$1: $((t1 - t0)) ms installed, $((t2 - t1)) ms the checkout's dll"
}

# ---- the run ---------------------------------------------------------------------------------------
# By hand and ours alternate within each repeat, so drift on a shared machine hits both alike.
for link in "${links[@]}"; do
  part link "" shape "$link"
  # A link that could not be shaped measures nothing: its figures say why.
  if [ "$part_failed" = 0 ]; then
    for rep in $(seq "$repeats"); do
      for mb in "${workloads[@]}"; do
        part hand "mb=$mb rep=$rep" by_hand "$mb" "$rep"
        part ours "mb=$mb rep=$rep" ours "$mb" "$rep"
      done
      if [ "$skip_service" != 1 ]; then
        part svc-hand "mb=$service_mb rep=$rep" hand_service "$rep"
        part svc-ours "mb=$service_mb rep=$rep" ours_service "$rep"
      fi
    done
  fi
  [ "$link" = none ] || part unshape "" shape none
done
link=none
# Big containers: the same two single moves, alternating within each repeat.
if [ "$skip_big" != 1 ]; then
  series=big
  for link in "${big_links[@]}"; do
    part link "" shape "$link"
    if [ "$part_failed" = 0 ]; then
      for rep in $(seq "$repeats"); do
        for mb in "${big[@]}"; do
          if [ "$mb" -le "$big_hand_max" ]; then part big-hand "mb=$mb rep=$rep" by_hand "$mb" "$rep"; fi
          part big-ours "mb=$mb rep=$rep" ours "$mb" "$rep"
        done
      done
    fi
    [ "$link" = none ] || part unshape "" shape none
  done
  series=main
fi
link=none
if [ "$skip_ten" != 1 ]; then
  for rep in $(seq "$repeats"); do
    part ten-serial "rep=$rep" ten "$rep" serial
    part ten-concurrent "rep=$rep" ten "$rep" concurrent
  done
fi
for rep in $(seq "$repeats"); do part status "rep=$rep" client_status "$rep"; done
# Compression last: it restarts the nodes on other configs. A setting whose cluster does not form
# is that setting's figure.
if [ "$skip_compression" != 1 ]; then
  for comp in "${compressions[@]}"; do
    link=none
    if ! use_compression "$comp"; then
      echo "fail part=comp-nodes link=none compression=$comp rc=1 reason=the cluster did not form on compression = $comp; see $run/*.log" >>"$results"
      log "compression $comp: the cluster did not form; going on"
      continue
    fi
    log "nodes restarted with compression = $comp"
    for link in "${links[@]}"; do
      part link "" shape "$link"
      if [ "$part_failed" = 0 ]; then
        for rep in $(seq "$repeats"); do
          for kind in random text; do
            part comp "compression=$comp state=$kind mb=$compression_mb rep=$rep" ours_compressed "$comp" "$kind" "$rep"
          done
        done
      fi
      [ "$link" = none ] || part unshape "" shape none
    done
  done
  link=none
fi

echo "meta test_processes_end=$(pgrep -fc 'dotnet.*(test|testhost)' || true)" >>"$results"
# BENCH_NO_DOCS=1 (scripts/bench/tune.sh, BENCH_QUICK=1): the report goes to the run's folder, docs/ stays as it is.
docs=$repo/docs
[ "${BENCH_NO_DOCS:-0}" = 1 ] && docs=$run
mkdir -p "$docs"
python3 "$repo/scripts/bench/report.py" "$results" "$run/runs" "$docs/benchmark.md" "$run" >"$run/figures.txt"
for data in "$run"/plot-*.dat; do
  [ -e "$data" ] || continue
  suffix=$(basename "$data" .dat)
  suffix=${suffix#plot-}
  png=$docs/benchmark.png
  [ "$suffix" = none ] || png=$docs/benchmark-$suffix.png
  timeout 120 gnuplot -e "data='$data'; out='$png'; linkname='$suffix'" "$repo/scripts/bench/plot.gp"
done
log "wrote $docs/benchmark.md and its plots; raw figures in $run"
trap - EXIT
cleanup
cat "$run/figures.txt"
