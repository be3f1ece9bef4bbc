#!/usr/bin/env bash
# One migration's timeline from a real run's node logs, for the README's picture:
#   scripts/timeline.sh [RUN_DIR]   (default build/demo, where `make demo` leaves nodeA.log and nodeB.log)
# writes docs/timeline.log (the log lines it reads) and docs/timeline.tsv (one bar per row); then
# `make docs` draws docs/timeline.png from them (docs/timeline.gp). Both files are committed, so
# the picture can be drawn again without the run.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-build/demo}
source_log=$run/nodeA.log
target_log=$run/nodeB.log
[ -f "$source_log" ] && [ -f "$target_log" ] || { echo "no nodeA.log and nodeB.log in $run: run make demo first" >&2; exit 1; }

# The source's line for the move, and the lines both nodes write at its steps, of the last move.
line=$(grep -E 'OutgoingMigration: migration transfer=.* result=moved' "$source_log" | tail -1)
[ -n "$line" ] || { echo "$source_log has no completed migration" >&2; exit 1; }
transfer=$(sed -E 's/.* transfer=([0-9a-f]+) .*/\1/' <<<"$line")
{
  grep -h "transfer $transfer)\|transfer=$transfer " "$source_log"
  grep -h "transfer $transfer)" "$target_log"
  grep -h "ArchiveReceiver: restored job $(sed -E 's/.* job=([^ ]+) .*/\1/' <<<"$line") " "$target_log" | tail -1
} | sort >docs/timeline.log

# Log times are hh:mm:ss.mmm on one machine's clock (the hosts share its kernel); every bar is in
# ms from the client's request, which the source's line dates as its own time minus total_ms.
awk '
  function ms(t,  p) { split(t, p, ":"); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 }
  function field(k,  i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2) }
  / OutgoingMigration: migrating job / { begin = ms($1) }
  / ArchiveReceiver: receiving job / { accepted = ms($1) }
  / ArchiveReceiver: restored job / { restored = ms($1); restore = $(NF - 1) }
  / OutgoingMigration: migration transfer=/ {
    confirmed = ms($1); total = field("total_ms"); checkpoint = field("checkpoint_ms")
    transfer = field("transfer_ms"); stream = field("stream_ms"); bytes = field("archive_bytes")
    freezing = field("criu_freezing_ms"); dumping = field("criu_frozen_ms"); runtime = field("runtime_checkpoint_ms")
  }
  END {
    request = confirmed - total
    checkpointed = begin + checkpoint
    # The source hears "restoring" transfer_ms after its checkpoint ended; the stream ended before.
    streamed = checkpointed + transfer
    printf "# row\thost\tstart_ms\tend_ms\tlabel\n"
    printf "1\tnodeA\t0\t%d\tpre-flight checks (it runs)\n", begin - request
    # podman checkpoint: runc (and CRIU inside it) first, then podman exports the archive. podman
    # times runc and CRIU but not when each began: CRIU is drawn at the start of the runc span.
    start = begin - request
    printf "2\tnodeA\t%d\t%d\tCRIU freezes the container (A)\n", start, start + freezing
    printf "3\tnodeA\t%d\t%d\tCRIU dumps it, frozen (A)\n", start + freezing, start + freezing + dumping
    printf "4\tnodeA\t%d\t%d\trunc, then podman exports the archive (A)\n", start + freezing + dumping, checkpointed - request
    printf "5\tnodeB\t%d\t%d\tB admits the transfer, waits\n", accepted - request, streamed - stream - request
    printf "6\tstream\t%d\t%d\tarchive stream A → B, %.1f MB\n", streamed - stream - request, streamed - request, bytes / 1048576
    printf "7\tnodeB\t%d\t%d\trestore on B\n", restored - restore - request, restored - request
    printf "8\tstream\t%d\t%d\tconfirmation B → A\n", restored - request, total
    printf "9\tfrozen\t%d\t%d\tcontainer frozen\n", start, restored - request
  }' docs/timeline.log >docs/timeline.tsv
cat docs/timeline.tsv
