#!/usr/bin/env bash
# Runbook: a filesystem is filling up. Usage: disk-filling.sh [MOUNTPOINT] [THRESHOLD_PERCENT]
# Does nothing when the filesystem is below the threshold (default 85%); otherwise
# the agent finds what uses the space and proposes a cleanup, and every deletion it
# wants is shown to you for approval first. See disk-filling.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runbook_require jq df "$SYSWARD"

mountpoint=${1:-/}
threshold=${2:-85}
if [ $# -gt 2 ] || ! [[ "$threshold" =~ ^[0-9]+$ ]]; then
    runbook_log "usage: $0 [MOUNTPOINT] [THRESHOLD_PERCENT]"
    exit 2
fi
read -r size used avail percent <<<"$(df -P -k "$mountpoint" | awk 'NR == 2 {print $2, $3, $4, $5}')"
percent=${percent%\%}
if [ "$percent" -lt "$threshold" ]; then
    echo "$mountpoint is ${percent}% full (threshold ${threshold}%): nothing to do"
    exit 0
fi
inodes=$(df -P -i "$mountpoint" | awk 'NR == 2 {print $5}')

runbook_ask "The filesystem mounted at $mountpoint is ${percent}% full: ${used} KiB used of \
${size} KiB, ${avail} KiB free, inodes ${inodes} used. Find what is using the space: the \
largest directories under $mountpoint, the systemd journal's size, package caches, old or \
rotated logs, core dumps, deleted files still held open by processes. Report the top \
consumers with sizes. Propose a cleanup ordered by how safe it is; carry out only steps \
that free space without losing data anyone needs (each change goes to the operator for \
approval), and say how much space each step freed."
