#!/usr/bin/env bash
# `make test`: every test, real podman and CRIU included, after scripts/setup.sh; `make check`
# passes a test filter (dotnet test --filter) as the first argument and xunit's thread count as the
# second: its specs mostly wait on timers, so more threads than cores shorten the lane.
# Prints `N passed, N failed` last; a skipped test counts as a failure (nothing is skipped silently).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

results=$repo/build/test-results
rm -rf "$results"
mkdir -p "$results"
set +e
dotnet test "$repo/Tests/Tests.csproj" -c Release --no-build -nologo ${1:+--filter "$1"} \
  --logger "trx;LogFileName=tests.trx" --results-directory "$results" \
  --logger "console;verbosity=normal" ${2:+-- xUnit.MaxParallelThreads="$2"} 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

counters=$(grep -o '<Counters [^>]*>' "$results/tests.trx" 2>/dev/null || true)
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
passed=$(count passed); failed=$(count failed); total=$(count total); executed=$(count executed)
[ -n "$total" ] || die "the test run produced no results (exit $status); see $results/console.log"
skipped=$((total - executed))
failed=$((failed + skipped))
[ "$skipped" -eq 0 ] || log "$skipped test(s) were skipped: counted as failed"
# Repeat each failure's name and message at the end, where a CI log's tail shows them.
awk '/^  Failed /{show=1; lines=0} /^  Stack Trace:/{show=0} show && lines++ < 12' "$results/console.log"
echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
