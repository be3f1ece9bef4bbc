#!/usr/bin/env bash
# docs/views/*.txt: what a person sees of `client migrate` and `client watch` on a terminal. A job
# holding 256 MB of memory moves nodeA → nodeB on the simulated hosts while tmux runs the client
# in a pane of its own; capture-pane takes the text of the screen mid-transfer and at the end.
#   scripts/views.sh   (as root, after scripts/setup.sh; about a minute)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux is missing: apt-get install tmux"

run=$repo/build/views
out=$repo/docs/views
# A tmux server of its own: it inherits this environment (the hosts' prefix, the config), and
# nothing of anyone else's sessions is touched.
socket=akka-migration-views-$$
panes() { tmux -L "$socket" "$@"; }
trap 'panes kill-server 2>/dev/null || true; cluster_down' EXIT
trap 'exit 130' INT TERM
cluster_up "$run"
mkdir -p "$out"

client submit 1 --id views-job --work-ms 120000 --state-mb 256 >/dev/null
in_client="$repo/scripts/in-host.sh client dotnet $client_dll --config $config"
# Each pane stays open after its command ends, so its last screen can still be read.
panes new-session -d -s watch -x 118 -y 16 "$in_client watch; sleep 600"
sleep 3
panes new-session -d -s migrate -x 118 -y 8 "$in_client migrate views-job nodeB; sleep 600"

# The text of a pane's screen, trailing blanks trimmed.
screen() { panes capture-pane -p -J -t "$1" | sed -e 's/[[:space:]]*$//' | awk 'NF { last = NR } { line[NR] = $0 } END { for (i = 1; i <= last; i++) print line[i] }'; }

deadline=$((SECONDS + 180))
mid="" watched=""
until screen migrate | grep -qE '^(job views-job moved|error:)'; do
  [ "$SECONDS" -lt "$deadline" ] || die "the migration did not end within 180 s; see $run/"
  [ -z "$mid" ] && screen migrate | grep -q 'MB/s' && { screen migrate >"$out/migrate-transfer.txt"; mid=1; }
  [ -z "$watched" ] && screen watch | grep -q ' 1 migrating' && { screen watch >"$out/watch.txt"; watched=1; }
  sleep 0.1
done
screen migrate >"$out/migrate.txt"
[ -n "$mid" ] || log "the transfer was over before a screen showed its speed"
[ -n "$watched" ] || log "watch never showed the migration"
log "captured in $out: $(ls "$out" | tr '\n' ' ')"
tail -1 "$out/migrate.txt"
