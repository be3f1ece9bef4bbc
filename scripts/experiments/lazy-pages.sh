#!/usr/bin/env bash
# Experiment for issue 16 (see docs/lazy-pages.md): CRIU lazy pages (post-copy) under podman, and
# a checkpoint archive that streams through a named pipe instead of landing on the source's disk.
# NOT part of `make test` or `make bench`: run it by hand, as root, on a quiet machine:
#
#   scripts/experiments/lazy-pages.sh [all|baseline|lazy|lazy-uncapped|lazy-default-pipes|fifo|clean] [TRIES]
#
#   baseline       podman checkpoint --export FILE, then restore --import FILE (the product's way)
#   lazy           lazy pages: podman's checkpoint made lazy through the per-container CRIU config
#                  file (annotation org.criu.config), restored by podman into a second container
#                  while a `criu lazy-pages` daemon pulls the memory from the frozen source
#   lazy-uncapped  the same with the worker's default address-space reservation (fails: ENOMEM)
#   lazy-default-pipes  the same with fs.pipe-max-size left at 1 MB (fails: short tee)
#   fifo           checkpoint --export into a FIFO (file vs FIFO timings; where CRIU's images are
#                  meanwhile; the checkpoint directory on a tmpfs)
#   clean          remove what an interrupted run left (containers amlz-lz-*, its temp folder)
#
# It uses the plain machine's podman (default store), one container at a time, each named
# amlz-lz-*, holding 64 MB; every step is bounded by `timeout`. It never writes /etc/criu: the
# CRIU options come from a file under its temp folder named by the container's annotation. On exit
# (also on failure) it kills the processes it started, removes its containers and its temp folder,
# so it can be run again at once. Figures go to stdout; LAZY_LOGS=DIR keeps CRIU's logs of the lazy
# tries there.
set -euo pipefail

mode=${1:-all}
tries=${2:-3}
image=localhost/akka-migration-worker:latest
prefix=amlz-lz
port=27117
work=/tmp/amlz-lazy-experiment
ulimits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# The worker is .NET NativeAOT: its GC reserves ~48 GB of PROT_NONE address space. A lazy restore
# premaps every private area writable (CRIU's pieok is false with lazy pages), and with
# vm.overcommit_memory=0 a 48 GB writable private mapping fails with ENOMEM. 512 MB of region range
# is plenty for 64 MB of state and keeps the reservation at ~370 MB.
region_cap=(-e DOTNET_GCRegionRange=20000000)
worker_args=(--number 41 --work-ms 20000 --state-mb 64)
store=/var/lib/containers/storage/overlay-containers
pids=()
pipe_max_orig=""

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s%3N; }

cleanup() {
  local pid name
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for name in $(timeout 60 podman ps -a --format '{{.Names}}' | awk -v p="^$prefix-" '$1 ~ p'); do
    for mnt in "$store/$(timeout 30 podman inspect "$name" --format '{{.Id}}')/userdata/checkpoint"; do
      if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt"; fi
    done
    timeout 60 podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
  restore_pipe_max
}

# This machine's root lacks CAP_SYS_RESOURCE, so CRIU cannot make a pipe larger than
# fs.pipe-max-size (1 MB); its lazy page server wants a 4 MB one (and does not check the failure),
# after which every tee() of more than 64 KB comes up short. Raising the sysctl is machine-wide:
# it is done only around a lazy try and put back at once, also on failure.
raise_pipe_max() {
  [ -n "$pipe_max_orig" ] || pipe_max_orig=$(cat /proc/sys/fs/pipe-max-size)
  echo 4194304 > /proc/sys/fs/pipe-max-size
}
restore_pipe_max() {
  if [ -n "$pipe_max_orig" ]; then echo "$pipe_max_orig" > /proc/sys/fs/pipe-max-size; pipe_max_orig=""; fi
}
trap cleanup EXIT

prepare() {
  [ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
  cleanup
  mkdir -p "$work"
  timeout 60 podman image exists "$image" || timeout 120 podman load -i /work/main/build/worker-image.tar >/dev/null
}

id_of() { timeout 30 podman inspect "$1" --format '{{.Id}}'; }
userdata() { echo "$store/$(id_of "$1")/userdata"; }

# Waits until the worker has done a few ticks: its 64 MB are written by then.
wait_working() { # name
  local i
  for i in $(seq 1 100); do
    timeout 10 podman logs "$1" 2>/dev/null > "$work/log" || true
    awk '/^PROGRESS 10\// {found = 1} END {exit !found}' "$work/log" && return 0
    sleep 0.2
  done
  echo "worker $1 did not start" >&2; return 1
}

# The restored worker must finish with the memory it started with.
check_result() { # source restored
  local started result
  timeout 10 podman logs "$1" > "$work/log.src" 2>&1 || true
  timeout 90 podman wait "$2" >/dev/null || true
  timeout 10 podman logs "$2" > "$work/log.dst" 2>&1 || true
  started=$(awk '/^STARTED/ {for (i = 1; i <= NF; i++) if ($i ~ /^checksum=/) print substr($i, 10)}' "$work/log.src")
  result=$(awk '/^RESULT/ {print}' "$work/log.dst")
  echo "    source STARTED checksum=$started; restored: ${result:-no RESULT line}"
  awk -v c="checksum=$started" '/^RESULT/ && index($0, c) && /intact=true/ {ok = 1} END {exit !ok}' "$work/log.dst"
}

run_worker() { # name [podman run options...]
  local name=$1; shift
  timeout 60 podman run -d --name "$name" --network none "${ulimits[@]}" "$@" "$image" "${worker_args[@]}" >/dev/null
}

baseline_once() { # try
  local src=$prefix-base-$1 dst=$prefix-base-$1-r t0 t1 t2
  run_worker "$src" "${region_cap[@]}"
  wait_working "$src"
  t0=$(now)
  # (no --tcp-established: podman 4.3 refuses it with --name, and these workers have no network)
  timeout 120 podman container checkpoint "$src" --export "$work/ck.tar" --compress none >/dev/null
  t1=$(now)
  timeout 120 podman container restore --import "$work/ck.tar" --name "$dst" >/dev/null
  t2=$(now)
  echo "baseline try $1: checkpoint $((t1 - t0)) ms, restore $((t2 - t1)) ms, frozen-to-running $((t2 - t0)) ms, archive $(stat -c %s "$work/ck.tar") bytes"
  check_result "$src" "$dst" && echo "    restored worker intact" || echo "    RESTORED WORKER NOT INTACT"
  timeout 60 podman rm -f -t 0 "$src" "$dst" >/dev/null
  rm -f "$work/ck.tar"
}

# Lazy migration, same host. podman holds the source's lock for the whole checkpoint, and with lazy
# pages the checkpoint only returns once every page has been pulled; so nothing podman writes after
# the dump (config.dump, spec.dump, the export) exists while the restore must run. The restore goes
# through a second, podman-created container instead, given by hand what `restore --import` would
# give it: CRIU's images (all but the memory) and the source's OCI spec with the IDs and rootfs
# path swapped.
lazy_once() { # try cap(yes|no) pipes(raised|default)
  local src=$prefix-lazy-$1 dst=$prefix-lazy-$1-r conf=$work/criu-lazy.conf cap=() runc_pid t0 tps t1 t2 sud dud sid did smerged dmerged ck lp i rc=0
  [ "$2" = yes ] && cap=("${region_cap[@]}")
  printf 'lazy-pages\naddress 127.0.0.1\nport %s\n' "$port" > "$conf"
  run_worker "$src" --annotation org.criu.config="$conf" "${cap[@]}"
  timeout 60 podman create --name "$dst" --network none "${ulimits[@]}" --annotation org.criu.config="$conf" "${cap[@]}" \
    "$image" "${worker_args[@]}" >/dev/null
  wait_working "$src"
  sid=$(id_of "$src"); did=$(id_of "$dst"); sud=$store/$sid/userdata; dud=$store/$did/userdata
  smerged=$(timeout 30 podman inspect "$src" --format '{{.GraphDriver.Data.MergedDir}}')
  # A created container's rootfs is not mounted yet, and inspect does not name it: mount it.
  dmerged=$(timeout 30 podman mount "$dst")
  [ "$3" = raised ] && raise_pipe_max
  t0=$(now)
  (timeout 120 podman container checkpoint --keep "$src" > "$work/ck.out" 2>&1; echo "rc=$?" >> "$work/ck.out") &
  ck=$!; pids+=("$ck")
  for i in $(seq 1 300); do
    awk '/Starting page server on port/ {found = 1} END {exit !found}' "$sud/dump.log" 2>/dev/null && break
    awk '/^rc=/ {found = 1} END {exit !found}' "$work/ck.out" && break
    sleep 0.05
  done
  tps=$(now)
  echo "lazy try $1 (region cap: $2, pipe-max-size: $(cat /proc/sys/fs/pipe-max-size)): page server up after $((tps - t0)) ms; images on disk: $(du -sk "$sud/checkpoint" | cut -f1) KB"
  mkdir -p "$dud/checkpoint"
  cp -a "$sud/checkpoint/." "$dud/checkpoint/"
  sed -e "s#$sid#$did#g" -e "s#$smerged#$dmerged#g" "$sud/config.json" > "$dud/config.json"
  # timeout passes the TERM it gets on to CRIU: $lp is the process to stop.
  timeout 120 criu lazy-pages --page-server --address 127.0.0.1 --port "$port" \
    -D "$dud/checkpoint" -W "$dud" -o lazy-pages.log -v4 > "$work/lp.out" 2>&1 &
  lp=$!; pids+=("$lp")
  for i in $(seq 1 100); do [ -S "$dud/lazy-pages.socket" ] && break; sleep 0.05; done
  timeout 30 podman container restore --keep "$dst" > "$work/rs.out" 2>&1 || rc=$?
  t1=$(now)
  if [ "$rc" != 0 ]; then
    # A restore podman gave up on can leave its CRIU waiting under runc and conmon: stop that CRIU.
    # (its parent is runc, or conmon once runc is gone; both name the container's ID).
    for runc_pid in $(pgrep -f "$did" || true); do pkill -KILL -P "$runc_pid" -x criu || true; done
    # Nobody will pull the pages: the dump's page server would wait for ever. Stop that CRIU (the
    # child of the runc checkpointing this container); CRIU then resumes the source in place.
    for runc_pid in $(pgrep -f "runc checkpoint .*$sid" || true); do pkill -TERM -P "$runc_pid" || true; done
    kill "$lp" 2>/dev/null || true
  fi
  wait "$ck" || true
  t2=$(now)
  wait "$lp" || true
  restore_pipe_max
  if [ -n "${LAZY_LOGS:-}" ]; then
    mkdir -p "$LAZY_LOGS"
    cp "$sud/dump.log" "$LAZY_LOGS/lazy-$1-dump.log" 2>/dev/null || true
    cp "$dud/restore.log" "$LAZY_LOGS/lazy-$1-restore.log" 2>/dev/null || true
    cp "$dud/lazy-pages.log" "$LAZY_LOGS/lazy-$1-lazy-pages.log" 2>/dev/null || true
  fi
  if [ "$rc" = 0 ]; then
    echo "    frozen-to-running $((t1 - t0)) ms (restore itself $((t1 - tps)) ms); source's checkpoint returned (all pages pulled) after $((t2 - t0)) ms"
    check_result "$src" "$dst" && echo "    restored worker intact" || echo "    RESTORED WORKER NOT INTACT"
  else
    echo "    restore FAILED after $((t1 - tps)) ms: $(tr '\n' ' ' < "$work/rs.out")"
    echo "    restore.log errors:"; awk '/Error/ {print "      " $0}' "$dud/restore.log" 2>/dev/null | head -5
    echo "    lazy-pages.log errors:"; awk '/Error/ {print "      " $0}' "$dud/lazy-pages.log" 2>/dev/null | head -3
    echo "    source's checkpoint: $(tr '\n' ' ' < "$work/ck.out")"
    local big
    big=$(awk '$2 == "---p" {split($1, a, "-"); print a[1], a[2]}' "/proc/$(timeout 10 podman inspect "$src" --format '{{.State.Pid}}')/maps" 2>/dev/null |
      while read -r s e; do echo $(( (16#$e - 16#$s) / 1048576 )); done | sort -n | tail -1 || true)
    echo "    largest PROT_NONE area of the source now: ${big:-?} MB"
  fi
  echo "    source state: $(timeout 10 podman inspect "$src" --format '{{.State.Status}} checkpointed={{.State.Checkpointed}}'), last line: $(timeout 10 podman logs "$src" 2>&1 | tail -1)"
  # A CRIU killed in its restore may still hold its cgroup yard in the work dir for a moment.
  timeout 60 podman rm -f -t 0 "$src" "$dst" >/dev/null 2>&1 || { sleep 3; timeout 60 podman rm -f -t 0 "$src" "$dst" >/dev/null; }
}

# Does the export stream through a FIFO, and does CRIU still write its images to disk first?
fifo_once() { # try
  local src=$prefix-fifo-$1 t0 t1 reader
  run_worker "$src" "${region_cap[@]}"
  wait_working "$src"
  t0=$(now)
  timeout 120 podman container checkpoint "$src" --export "$work/ck.tar" --compress none >/dev/null
  t1=$(now)
  echo "fifo try $1: to a file $((t1 - t0)) ms ($(stat -c %s "$work/ck.tar") bytes)"
  rm -f "$work/ck.tar"
  timeout 60 podman rm -f -t 0 "$src" >/dev/null

  run_worker "$src" "${region_cap[@]}"
  wait_working "$src"
  rm -f "$work/ck.fifo"; mkfifo "$work/ck.fifo"
  (timeout 120 wc -c < "$work/ck.fifo" > "$work/fifo.bytes") &
  reader=$!; pids+=("$reader")
  t0=$(now)
  timeout 120 podman container checkpoint "$src" --export "$work/ck.fifo" --compress none >/dev/null
  t1=$(now)
  wait "$reader" || true
  echo "    to a FIFO $((t1 - t0)) ms ($(cat "$work/fifo.bytes") bytes read from the pipe)"
  timeout 60 podman rm -f -t 0 "$src" >/dev/null
}

fifo_extras() {
  local src=$prefix-fifo-disk dst=$prefix-fifo-tmpfs-r cp t0 t1 ck reader rc=0
  # 0. Where CRIU's images are while podman writes the FIFO: a reader that waits 3 s holds podman
  # at the pipe after CRIU has finished, and the checkpoint directory can be looked at.
  run_worker "$src" "${region_cap[@]}"
  wait_working "$src"
  cp="$(userdata "$src")/checkpoint"
  rm -f "$work/ck.fifo"; mkfifo "$work/ck.fifo"
  (sleep 3; timeout 120 wc -c < "$work/ck.fifo" > "$work/fifo.bytes") & pids+=("$!")
  timeout 120 podman container checkpoint "$src" --export "$work/ck.fifo" --compress none >/dev/null &
  ck=$!; pids+=("$ck")
  sleep 2.5
  echo "while podman waits for the FIFO's reader: $cp holds $(du -sk "$cp" | cut -f1) KB on $(df --output=fstype "$cp" | tail -1):"
  find "$cp" -size +1M -printf '    %p %s bytes\n'
  wait "$ck" || true
  echo "    after the export: $(ls "$cp" 2>/dev/null | wc -l) files left there"
  timeout 60 podman rm -f -t 0 "$src" >/dev/null
  src=$prefix-fifo-tmpfs
  # 1. The checkpoint directory on a tmpfs: the images then live in RAM, the archive in the pipe,
  # and the archive, read back from the pipe into a file here, still restores.
  run_worker "$src" "${region_cap[@]}"
  wait_working "$src"
  cp="$(userdata "$src")/checkpoint"
  mkdir -p "$cp"; mount -t tmpfs -o size=256m,mode=0700 tmpfs "$cp"
  rm -f "$work/ck.fifo"; mkfifo "$work/ck.fifo"
  (timeout 120 cat "$work/ck.fifo" > "$work/received.tar") & reader=$!; pids+=("$reader")
  t0=$(now)
  timeout 120 podman container checkpoint "$src" --export "$work/ck.fifo" --compress none > "$work/ck.out" 2>&1 || rc=$?
  t1=$(now)
  wait "$reader" || true
  echo "tmpfs checkpoint dir + FIFO: checkpoint rc=$rc in $((t1 - t0)) ms; tmpfs holds $(du -sk "$cp" | cut -f1) KB after it"
  timeout 120 podman container restore --import "$work/received.tar" --name "$dst" >/dev/null || echo "    restore from the received stream FAILED"
  check_result "$src" "$dst" && echo "    restored worker intact" || echo "    RESTORED WORKER NOT INTACT"
  if mountpoint -q "$cp"; then umount "$cp"; fi
  timeout 60 podman rm -f -t 0 "$src" "$dst" >/dev/null 2>&1 || true
}

prepare
case "$mode" in
  baseline) for t in $(seq 1 "$tries"); do baseline_once "$t"; done ;;
  lazy) for t in $(seq 1 "$tries"); do lazy_once "$t" yes raised; done ;;
  lazy-uncapped) lazy_once 1 no raised ;;
  lazy-default-pipes) lazy_once 1 yes default ;;
  fifo-extras) fifo_extras ;;
  fifo) for t in $(seq 1 "$tries"); do fifo_once "$t"; done; fifo_extras ;;
  clean) ;;
  all)
    lazy_once uncapped no raised
    lazy_once default-pipes yes default
    for t in $(seq 1 "$tries"); do baseline_once "$t"; lazy_once "$t" yes raised; done
    for t in $(seq 1 "$tries"); do fifo_once "$t"; done
    fifo_extras ;;
  *) echo "usage: $0 [all|baseline|lazy|lazy-uncapped|lazy-default-pipes|fifo|clean] [TRIES]" >&2; exit 2 ;;
esac
