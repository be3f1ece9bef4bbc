#!/usr/bin/env bash
# `make bench`: issue 4's benchmark on two simulated hosts of this machine. For three workloads
# (the worker with no extra state, 64 MB and 256 MB of incompressible state) it moves a running
# container from nodeA to nodeB two ways, each BENCH_REPEATS times (default 3), interleaved:
#   by hand: podman checkpoint --export on A, a raw TCP copy (socat) to B, podman restore --import on B;
#   ours:    the client's `migrate JOB nodeB` through the cluster.
# Then 10 small jobs migrated concurrently against the same 10 one after another.
# Writes docs/benchmark.md and docs/benchmark.png (medians); raw figures stay in build/bench/.
# The last lines printed are the issue's key=value figures. How each figure is measured is
# written into docs/benchmark.md by scripts/bench/report.py.
set -euo pipefail
# Our own simulated hosts, so a concurrent `make test` (amt) or `make demo` (amig) is untouched.
export AKKA_MIGRATION_NETNS_PREFIX=amb
source "$(dirname "$0")/lib.sh"

repeats=${BENCH_REPEATS:-3}
# BENCH_WORKLOADS="256" BENCH_SKIP_TEN=1: a quick run for tuning (the key figures then lack some parts).
read -r -a workloads <<<"${BENCH_WORKLOADS:-0 64 256}"
skip_ten=${BENCH_SKIP_TEN:-0}
concurrent=10
run=$repo/build/bench
results=$run/results.txt
podman="podman --runtime runc"
image=$(awk -F' *= *' '/^image *=/{print $2; exit}' "$config")
# Inside each host this path is its own folder (hosts.sh binds it per host), the node's state dir.
archive=/var/lib/akka-migration/node/bench-by-hand.tar
tcp_port=5999
address_b=$(hosts_table | awk -F'\t' '$1 == "nodeB" {print $2}')
node_pids=()
job_seq=0

# The same container flags as Node/Runtime/PodmanRuntime.cs and config.ini.
run_flags=(--detach --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
[ "$(awk -F' *= *' '/^compression *=/{print $2; exit}' "$config")" = none ] ||
  die "config.ini's compression is not none; the by-hand path would not match the node's checkpoint"

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

cleanup() {
  set +e
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${node_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  node_pids=()
  if [ -e "/var/run/netns/$(netns_of nodeA)" ]; then
    while IFS=$'\t' read -r name _; do
      reset_host "$name"
      in_host "$name" sh -c "$podman ps -aq --filter name='^amb-hand' | xargs -r $podman rm -f -t 0; rm -f $archive" >/dev/null 2>&1
    done < <(hosts_table)
  fi
  "$repo/scripts/hosts.sh" down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- preparation ---------------------------------------------------------------------------
command -v socat >/dev/null || die "socat is missing: run scripts/setup.sh"
# Installed here, not in setup.sh, since only the benchmark needs them: jq reads the client's
# --json answers, gnuplot draws the plot.
missing=()
command -v jq >/dev/null || missing+=(jq)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# A 256 MB archive exists twice at most (A and B) at any time; 2 GB leaves room for podman's copies.
free_mb=$(df -Pm /var/lib | awk 'NR==2{print $4}')
[ "$free_mb" -ge 2048 ] || die "only $free_mb MB free under /var/lib; the benchmark needs 2 GB"

rm -rf "$run"
mkdir -p "$run/runs"
: >"$results"

# Pre-copy needs the kernel's soft-dirty tracking; without it CRIU can only do a stop-and-copy dump.
if criu check --feature mem_dirty_track >/dev/null 2>&1; then
  precopy=supported
  log "pre-copy: the kernel supports memory dirty tracking, but the product has no pre-copy mode yet; measuring stop-and-copy"
else
  precopy=unsupported
  log "pre-copy: not supported here (criu check --feature mem_dirty_track fails); running without it"
fi

# Record whether the machine was shared: other simulated hosts or a test run beside us.
others=$(ip netns list | awk '{print $1}' | grep -v "^$netns_prefix-" | paste -sd, - || true)
tests=$(pgrep -fc 'dotnet.*(test|testhost)' || true)
{
  echo "meta precopy=$precopy repeats=$repeats workloads=$(IFS=,; echo "${workloads[*]}") skip_ten=$skip_ten chunk_kb=$(awk -F' *= *' '/^chunk_kb *=/{print $2; exit}' "$config") window=$(awk -F' *= *' '/^window *=/{print $2; exit}' "$config") cpus=$(nproc) kernel=$(uname -r)"
  echo "meta criu=$(criu --version | sed -n 's/^Version: *//p') podman=$(podman --version | awk '{print $3}') date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "meta other_netns=${others:-none} test_processes=$tests loadavg=$(cut -d' ' -f1 /proc/loadavg)"
} >>"$results"

"$repo/scripts/hosts.sh" down # leftovers of an interrupted run
"$repo/scripts/hosts.sh" up
while IFS=$'\t' read -r name _; do
  in_host "$name" "$repo/initializeDemo.sh" "$name"
  reset_host "$name"
  in_host "$name" sh -c "$podman ps -aq --filter name='^amb-hand' | xargs -r $podman rm -f -t 0; rm -f $archive" >/dev/null 2>&1
done < <(hosts_table)

node_pids+=("$(start_node nodeA "$run/nodeA.log")")
node_pids+=("$(start_node nodeB "$run/nodeB.log")")
wait_for_cluster 90 || die "the cluster did not form within 90 s; see $run/*.log"
log "cluster up"

# start_node prints the pid of the shell that runs nsenter; the node is its dotnet child.
dotnet_pid() { # wrapper-pid
  local pid=$1
  for _ in $(seq 3); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dotnet ] && { echo "$pid"; return; }
    pid=$(pgrep -P "$pid" | head -1) || break
  done
  die "no dotnet process under $1"
}
node_a=$(dotnet_pid "${node_pids[0]}")
node_b=$(dotnet_pid "${node_pids[1]}")
[ -n "$node_a" ] && [ -n "$node_b" ] || die "could not find the nodes' dotnet processes"

# The 1-minute load average after each measurement: how busy the shared machine was.
load() { cut -d' ' -f1 /proc/loadavg; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # pid field

# Until the worker has filled its state and printed STARTED, a checkpoint would catch less memory.
# The log is read whole before it is searched: `podman logs | grep -q` under pipefail fails with
# 141 once the log outgrows what grep reads before it exits (podman dies of SIGPIPE).
wait_started() { # host container
  local logs
  for _ in $(seq 600); do
    logs=$(in_host "$1" timeout 30 $podman logs "$2" 2>/dev/null) || logs=
    grep -q '^STARTED' <<<"$logs" && return 0
    sleep 0.1
  done
  die "$2 on $1 never printed STARTED"
}

# ---- by hand ---------------------------------------------------------------------------------
by_hand() { # state_mb repeat
  local mb=$1 rep=$2 name=amb-hand-$1-$2 t0 t1 t2 t3 bytes listener out=$run/runs/hand-$1-$2
  in_host nodeA $podman run "${run_flags[@]}" --name "$name" "$image" \
    --number 41 --work-ms 600000 --state-mb "$mb" >/dev/null
  wait_started nodeA "$name"
  # The receiver listens first, so the copy's clock starts with bytes on the wire, not with setup.
  in_host nodeB socat -u "TCP-LISTEN:$tcp_port,reuseaddr" "OPEN:$archive,creat,trunc" &
  listener=$!
  for _ in $(seq 100); do [ -n "$(in_host nodeB ss -ltnH "sport = :$tcp_port")" ] && break; sleep 0.05; done

  t0=$(now_ms)
  in_host nodeA $podman container checkpoint "$name" --export "$archive" --compress none --print-stats >"$out-checkpoint.json"
  t1=$(now_ms)
  in_host nodeA socat -u "OPEN:$archive" "TCP:$address_b:$tcp_port"
  wait "$listener" # the copy is done when B has written and closed the file
  t2=$(now_ms)
  in_host nodeB $podman container restore --import "$archive" --print-stats >"$out-restore.json"
  t3=$(now_ms)

  bytes=$(in_host nodeB stat -c %s "$archive")
  [ "$(in_host nodeB $podman inspect -f '{{.State.Status}}' "$name")" = running ] || die "$name does not run on nodeB after the restore"
  echo "hand mb=$mb rep=$rep load=$(load) checkpoint_ms=$((t1 - t0)) copy_ms=$((t2 - t1)) restore_ms=$((t3 - t2)) total_ms=$((t3 - t0)) bytes=$bytes" >>"$results"
  log "by hand  ${mb} MB #$rep: checkpoint $((t1 - t0)) ms, copy $((t2 - t1)) ms, restore $((t3 - t2)) ms, total $((t3 - t0)) ms"
  for h in nodeA nodeB; do in_host "$h" sh -c "$podman rm -f -t 0 $name >/dev/null; rm -f $archive"; done
}

# ---- ours ------------------------------------------------------------------------------------
submit() { # id state_mb
  client submit 41 --id "$1" --work-ms 600000 --state-mb "$2" >/dev/null || die "submit $1 failed"
}

ours() { # state_mb repeat
  local mb=$1 rep=$2 id line t0 t1 rss_a rss_b fields client_ms node_total checkpoint transfer restore bytes stream
  job_seq=$((job_seq + 1))
  id=bench-$mb-$rep-$job_seq
  submit "$id" "$mb"
  wait_started nodeA "amig-$id"
  # Writing 5 to clear_refs resets VmHWM to the current RSS: the peak read after is the move's own.
  echo 5 >"/proc/$node_a/clear_refs"
  echo 5 >"/proc/$node_b/clear_refs"
  rss_a=$(status_kb "$node_a" VmRSS)
  rss_b=$(status_kb "$node_b" VmRSS)
  t0=$(now_ms)
  line=$(client migrate "$id" nodeB --json) || die "migrate $id failed: $line"
  t1=$(now_ms)
  echo "$line" >>"$run/client.log"
  # {"ok":true,...,"timings":{"checkpointMs":N,...,"streamMs":N},"clientMs":N}: clientMs is the
  # client's own clock from sending the request to the answer, without its process start-up.
  fields=$(jq -r 'select(.ok == true) | [.clientMs, .timings.totalMs, .timings.checkpointMs, .timings.transferMs,
    .timings.restoreMs, .timings.archiveBytes, .timings.streamMs] | map(tostring) | join(" ")' <<<"$line" 2>/dev/null) || fields=
  read -r client_ms node_total checkpoint transfer restore bytes stream <<<"$fields"
  [[ "$client_ms" =~ ^[0-9]+$ && "$stream" =~ ^[0-9]+$ ]] || die "unexpected migrate output: $line"
  echo "ours mb=$mb rep=$rep load=$(load) client_ms=$client_ms wall_ms=$((t1 - t0)) node_total_ms=$node_total checkpoint_ms=$checkpoint transfer_ms=$transfer restore_ms=$restore stream_ms=$stream bytes=$bytes rss_a_kb=$rss_a hwm_a_kb=$(status_kb "$node_a" VmHWM) rss_b_kb=$rss_b hwm_b_kb=$(status_kb "$node_b" VmHWM)" >>"$results"
  log "ours     ${mb} MB #$rep: client $client_ms ms (process wall $((t1 - t0)) ms), node total $node_total ms: checkpoint $checkpoint, transfer added $transfer, restore $restore ms; $bytes bytes streamed in $stream ms"
  # The node marks the job failed once its container is gone; that is only our cleanup.
  in_host nodeB $podman rm -f -t 0 "amig-$id" >/dev/null
}

# ---- ten at once against ten in a row --------------------------------------------------------
ten() { # repeat mode
  local rep=$1 mode=$2 ids=() pids=() ok=0 t0 t1 i id
  for i in $(seq "$concurrent"); do
    job_seq=$((job_seq + 1))
    ids+=("bench-$mode-$rep-$job_seq")
    submit "${ids[-1]}" 0
  done
  for id in "${ids[@]}"; do wait_started nodeA "amig-$id"; done
  t0=$(now_ms)
  if [ "$mode" = concurrent ]; then
    for id in "${ids[@]}"; do
      client migrate "$id" nodeB >"$run/runs/$id.out" 2>&1 &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" && ok=$((ok + 1)); done
  else
    for id in "${ids[@]}"; do
      local m0=$(now_ms)
      client migrate "$id" nodeB >"$run/runs/$id.out" 2>&1 && ok=$((ok + 1))
      echo "client wall $(($(now_ms) - m0)) ms" >>"$run/runs/$id.out"
    done
  fi
  t1=$(now_ms)
  # Success means the client said so and the container really runs on B.
  local running
  running=$(in_host nodeB $podman ps --filter status=running --format '{{.Names}}' | grep -c "^amig-bench-$mode-$rep-" || true)
  [ "$running" -lt "$ok" ] && ok=$running
  echo "ten mode=$mode rep=$rep load=$(load) wall_ms=$((t1 - t0)) ok=$ok of=$concurrent" >>"$results"
  log "$mode x$concurrent #$rep: $((t1 - t0)) ms, $ok of $concurrent moved"
  if [ "$ok" -ne "$concurrent" ]; then
    for id in "${ids[@]}"; do grep -q moved "$run/runs/$id.out" || log "$id: $(tail -1 "$run/runs/$id.out")"; done
  fi
  for h in nodeA nodeB; do in_host "$h" sh -c "$podman ps -aq --filter name='^amig-bench-$mode-$rep-' | xargs -r $podman rm -f -t 0" >/dev/null; done
}

# By hand and ours alternate within each repeat, so drift on a shared machine hits both alike.
for rep in $(seq "$repeats"); do
  for mb in "${workloads[@]}"; do
    by_hand "$mb" "$rep"
    ours "$mb" "$rep"
  done
done
[ "$skip_ten" = 1 ] || for rep in $(seq "$repeats"); do
  ten "$rep" serial
  ten "$rep" concurrent
done

echo "meta test_processes_end=$(pgrep -fc 'dotnet.*(test|testhost)' || true)" >>"$results"
# BENCH_NO_DOCS=1 (scripts/bench/tune.sh): the report goes to build/bench/, docs/ stays as it is.
docs=$repo/docs
[ "${BENCH_NO_DOCS:-0}" = 1 ] && docs=$run
mkdir -p "$docs"
python3 "$repo/scripts/bench/report.py" "$results" "$run/runs" "$docs/benchmark.md" "$run/plot.dat" >"$run/figures.txt"
gnuplot -e "data='$run/plot.dat'; out='$docs/benchmark.png'" "$repo/scripts/bench/plot.gp"
log "wrote $docs/benchmark.md and benchmark.png; raw figures in $run"
trap - EXIT
cleanup
cat "$run/figures.txt"
