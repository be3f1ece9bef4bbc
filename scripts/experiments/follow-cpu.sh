#!/usr/bin/env bash
# Experiment: what `client logs -f` costs while it waits on a quiet job. First SECONDS with one
# sleeping job and nobody asking (what the cluster spends anyway), then SECONDS with `logs -f` on
# that job. For each: the CPU-seconds of the whole machine (from /proc/stat: both simulated hosts,
# their podman and the kernel); for the second, the client process's own (/usr/bin/time).
# NOT part of `make test` or `make bench`: run it by hand, as root, after `make setup`:
#
#   scripts/experiments/follow-cpu.sh [SECONDS [CLIENT]]     # default 30 s, this checkout's client
#
# The nodes are this checkout's build (run it from two checkouts to compare them); CLIENT, an
# installed client (unpacked from `make dist`), follows in place of the checkout's dll.
# Its own simulated hosts (prefix amfc), taken down on exit.
set -euo pipefail
export AKKA_MIGRATION_NETNS_PREFIX=${AKKA_MIGRATION_NETNS_PREFIX:-amfc}
source "$(dirname "$0")/../lib.sh"

seconds=${1:-30}
follower=(dotnet "$client_dll")
if [ $# -ge 2 ]; then
  [ -x "$2" ] || die "$2 is not an executable client"
  follower=("$2")
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

run=$repo/build/follow-cpu
out=$(mktemp -d)
trap 'cluster_down; rm -rf "$out"' EXIT
cluster_up "$run"
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; } # user nice system irq softirq
hz=$(getconf CLK_TCK)
cpu_s() { awk -v t="$1" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'; }

client submit 41 --id follow-cpu --work-ms 3600000 --state-mb 0 >/dev/null
# Past the job's start and the nodes' first answers.
sleep 5

b0=$(busy_ticks)
sleep "$seconds"
quiet=$(($(busy_ticks) - b0))

b0=$(busy_ticks)
in_host client /usr/bin/time -f "%U %S" -o "$out/client.cpu" \
  timeout "$seconds" "${follower[@]}" --config "$config" logs follow-cpu -f >"$out/lines" 2>"$out/notes" || true
following=$(($(busy_ticks) - b0))

printf 'seconds=%s\n' "$seconds"
printf 'machine_cpu_s_quiet=%s\n' "$(cpu_s "$quiet")"
printf 'machine_cpu_s_following=%s\n' "$(cpu_s "$following")"
# timeout ends the client, and time's file then opens with a line about its exit status.
printf 'client_cpu_s=%s\n' "$(tail -1 "$out/client.cpu" | awk '{printf "%.2f", $1 + $2}')"
printf 'lines_printed=%s\n' "$(wc -l <"$out/lines")"
