#!/usr/bin/env bash
# `make demo-service`: a live service moved while its client works. On two simulated hosts, the
# key-value service (`worker kv`, its data in a named volume) starts with `run --network cluster`;
# from the client's host one TCP connection writes and reads without pause (`worker kv-load`);
# halfway through, the service moves nodeA → nodeB. The last line reads like
#   service moved nodeA → nodeB: 41230 writes, 0 lost, connection kept, longest pause 640 ms
# and the script fails unless nothing was lost and the connection was kept.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

run=$repo/build/demo-service
loader=$repo/build/worker/worker
image=$(hosts_table | head -1 | cut -f9)
seconds=${DEMO_SERVICE_SECONDS:-10}
[ -x "$loader" ] || die "$loader is missing: run scripts/setup.sh (or make image)"

trap cluster_down EXIT
trap 'exit 130' INT TERM
cluster_up "$run"
mapfile -t names < <(hosts_table | cut -f1)
source_host=${names[0]} target_host=${names[1]}

log "starting the key-value service on $source_host"
accepted=$(client run --json --on "$source_host" --network cluster --volume kv-data:/data kv "$image" kv --port 7000 --data /data)
address=$(jq -r '.address // empty' <<<"$accepted")
[ -n "$address" ] || die "the service got no address: $accepted"
log "service kv at $address:7000"
# Up once it answers; `kv-load` itself then keeps one connection for the whole run.
for _ in $(seq 100); do
  in_host client bash -c "exec 3<>/dev/tcp/$address/7000" 2>/dev/null && break
  sleep 0.2
done

log "client writing for $seconds s over one connection, as fast as the service answers"
in_host client "$loader" kv-load --target "$address:7000" --duration-s "$seconds" >"$run/load.out" 2>"$run/load.err" &
load=$!
sleep 3
client migrate kv "$target_host" | tee "$run/migrate.log"
status=0
wait "$load" || status=$?
summary=$(tail -1 "$run/load.out")
log "$summary"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$summary"; }
[ -n "$(field lost)" ] || die "the load client printed no summary (exit $status); see $run/load.err"
kept=$([ "$(field connection_kept)" = true ] && echo "connection kept" || echo "connection LOST")
owner=$(client query kv --json | jq -r '.owner // empty')
line="service moved $source_host → ${owner:-?}: $(field acked) writes, $(field lost) lost, $kept, longest pause $(field longest_pause_ms) ms"

trap - EXIT
cluster_down
echo "$line"
[ "$status" -eq 0 ] && [ "$(field lost)" = 0 ] && [ "$kept" = "connection kept" ] && [ "$owner" = "$target_host" ]
