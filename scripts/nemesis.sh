#!/usr/bin/env bash
# `make nemesis`: the randomized run alone (Tests/Nemesis) on the simulated hosts, real podman and
# CRIU: random submits, migrations and drains with faults between and during them, then a checker.
#   SEED=N      replays a run's choices (the seed is printed; timings still differ run to run)
#   MINUTES=M   how long the operations go on (default 10); the check that follows is bounded too
# The last line is the checker's: `nemesis seed S: N operations, F faults, L lost, D duplicated, B left behind`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

results=$repo/build/nemesis
mkdir -p "$results"
seconds=$(( ${MINUTES:-10} * 60 ))
set +e
AKKA_MIGRATION_NEMESIS_SECONDS=$seconds AKKA_MIGRATION_NEMESIS_SEED=${SEED:-} \
  dotnet test "$repo/Tests/Tests.csproj" -c Release --no-build -nologo \
  --filter "Category=Nemesis" --logger "console;verbosity=detailed" >"$results/console.log" 2>&1
status=$?
set -e
# awk reads it all: `| grep -q` under pipefail fails when the writer is cut off (SIGPIPE).
line=$(awk '/nemesis seed [0-9]+:/ { sub(/^ */, ""); found = $0 } END { print found }' "$results/console.log")
if [ -z "$line" ]; then
  tail -30 "$results/console.log" >&2
  die "the nemesis run ended without a verdict (exit $status); see $results/console.log"
fi
[ "$status" -eq 0 ] || awk '/^  Failed /{show=1} /^  Stack Trace:/{show=0} show' "$results/console.log"
echo "history: $(ls -t "$results"/history-*.tsv | head -1)"
echo "$line"
[ "$status" -eq 0 ]
