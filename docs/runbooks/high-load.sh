#!/usr/bin/env bash
# Runbook: the host is under high load. Usage: high-load.sh [LOAD_PER_CPU]
# Does nothing while the 1-minute load average per CPU is below LOAD_PER_CPU
# (default 2.0); otherwise the agent finds the processes behind it and proposes
# what to do. Signalling or stopping anything is shown to you for approval.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runbook_require jq nproc "$SYSWARD"

limit=${1:-2.0}
if [ $# -gt 1 ] || ! [[ "$limit" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    runbook_log "usage: $0 [LOAD_PER_CPU]"
    exit 2
fi
read -r load1 load5 load15 _ </proc/loadavg
cpus=$(nproc)
if awk -v load="$load1" -v cpus="$cpus" -v limit="$limit" 'BEGIN {exit !(load / cpus < limit)}'; then
    echo "load ${load1} on ${cpus} CPUs is below ${limit} per CPU: nothing to do"
    exit 0
fi
memory=$(awk '/^MemAvailable:/ {print $2 " KiB available"}' /proc/meminfo)

runbook_ask "The host is under high load: load average ${load1} ${load5} ${load15} on \
${cpus} CPUs, ${memory}. Find out why: the processes using the most CPU and memory, \
processes in uninterruptible sleep (state D: waiting on disk or network I/O), a burst of \
short-lived processes, swapping. Name the top processes with their command line, owner, \
systemd unit and what they are doing. Recommend what to do; do not signal or stop \
anything unless it is clearly runaway, and then only with the operator's approval."
