#!/usr/bin/env bash
# Experiment for issue 16 (see "Big restores" in scripts/bench/misses.md, shown in docs/benchmark.md): does a big
# checkpoint lose its time to the kernel's dirty-page writeback? The same worker is checkpointed
# with --export and restored with --import, once with the archive on the disk (as the node keeps
# it, under its state folder) and once on a tmpfs (/dev/shm), after a sync each time.
# NOT part of `make test` or `make bench`: run it by hand, as root, on a quiet machine:
#
#   scripts/experiments/archive-writes.sh [SIZES_MB] [TRIES]      # default "1024 2048" 2
#
# It uses the plain machine's podman (default store), one container at a time, named amaw-*, and
# bounds every step with `timeout`. On exit (also on failure) it removes its containers and files.
# Prints one line per try: where the archive was, checkpoint and restore ms, and the most dirty
# page cache /proc/meminfo showed during each step.
set -euo pipefail

read -r -a sizes <<<"${1:-1024 2048}"
tries=${2:-2}
image=localhost/akka-migration-worker:latest
podman=(podman --runtime runc)
ulimits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
disk_dir=/var/tmp/amaw-archives
shm_dir=/dev/shm/amaw-archives
name=amaw-worker

cleanup() {
  "${podman[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
  rm -rf "$disk_dir" "$shm_dir"
}
trap cleanup EXIT
cleanup
mkdir -p -m 0700 "$disk_dir" "$shm_dir"

now_ms() { date +%s%3N; }
dirty_mb() { awk '/^Dirty:/ {print int($2 / 1024)}' /proc/meminfo; }

# Runs a command while sampling Dirty: every 100 ms; prints "MS PEAK_DIRTY_MB".
timed() {
  local t0 peak=0 d pid
  t0=$(now_ms)
  "$@" >/dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    d=$(dirty_mb)
    [ "$d" -le "$peak" ] || peak=$d
    sleep 0.1
  done
  wait "$pid"
  echo "$(($(now_ms) - t0)) $peak"
}

for mb in "${sizes[@]}"; do
  for try in $(seq "$tries"); do
    for where in disk tmpfs; do
      dir=$disk_dir
      [ "$where" = disk ] || dir=$shm_dir
      archive=$dir/$name.tar
      "${podman[@]}" run -d "${ulimits[@]}" --network none --name "$name" "$image" \
        --number 41 --work-ms 600000 --state-mb "$mb" >/dev/null
      # The worker prints STARTED once its state is filled; read the log without a pipe (SIGPIPE).
      for _ in $(seq 600); do
        logs=$("${podman[@]}" logs "$name" 2>&1 || true)
        [[ "$logs" == *STARTED* ]] && break
        sleep 0.2
      done
      sync
      read -r ck ck_dirty < <(timed timeout 600 "${podman[@]}" container checkpoint "$name" --export "$archive" --compress none)
      "${podman[@]}" rm -f -t 0 "$name" >/dev/null
      read -r rs rs_dirty < <(timed timeout 600 "${podman[@]}" container restore --import "$archive")
      echo "size_mb=$mb try=$try archive=$where checkpoint_ms=$ck checkpoint_peak_dirty_mb=$ck_dirty restore_ms=$rs restore_peak_dirty_mb=$rs_dirty"
      "${podman[@]}" rm -f -t 0 "$name" >/dev/null
      rm -f "$archive"
    done
  done
done
