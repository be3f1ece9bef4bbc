#!/usr/bin/env bash
# `make faults`: the fault suite alone (Tests/Faults: each fault 5 times on the simulated hosts,
# real podman and CRIU), then a table: fault → runs → jobs lost → runs where two copies were seen.
# The last line is `N passed, N failed`, counted in runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

results=$repo/build/fault-results
report=$results/faults.tsv
rm -rf "$results"
mkdir -p "$results"
set +e
AKKA_MIGRATION_FAULT_RUNS=${AKKA_MIGRATION_FAULT_RUNS:-5} AKKA_MIGRATION_FAULT_REPORT=$report dotnet test "$repo/Tests/Tests.csproj" -c Release --no-build -nologo \
  --filter "Category=Faults" --logger "console;verbosity=detailed" >"$results/console.log" 2>&1
status=$?
set -e

[ -s "$report" ] || { tail -30 "$results/console.log" >&2; log "the fault suite did not run (exit $status); see $results/console.log"; echo "0 passed, 1 failed"; exit 1; }
grep -E ' #[0-9]+: ' "$results/console.log" | sed 's/^ *//' || true
echo
printf '%-55s %5s %10s %22s\n' fault runs "jobs lost" "duplicate copies seen"
# Columns: fault, runs planned, runs done, lost, duplicates, passed.
awk -F'\t' '{ printf "%-55s %5d %10d %22d\n", $1, $3, $4, $5 }' "$report"
passed=$(awk -F'\t' '{ s += $6 } END { print s + 0 }' "$report")
planned=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$report")
failed=$((planned - passed))
# A fault whose test broke before its runs were counted still fails the suite.
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
