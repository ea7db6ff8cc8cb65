#!/usr/bin/env bash
# Runbook: a systemd unit failed. Usage: failed-unit.sh [UNIT]
# Without UNIT, takes the units systemd lists as failed; with none, does nothing.
# The agent reads the unit's status and journal, explains why it failed and
# proposes a fix; a restart or any other change is shown to you for approval.
# As a unit's OnFailure= handler: see failed-unit.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runbook_require jq "$SYSWARD"

if [ $# -gt 1 ]; then
    runbook_log "usage: $0 [UNIT]"
    exit 2
fi
if [ $# -eq 1 ]; then
    units=$1
else
    runbook_require systemctl
    units=$(systemctl list-units --state=failed --plain --no-legend --no-pager |
        awk '{print $1}' | paste -sd' ' -)
fi
if [ -z "$units" ]; then
    echo "no failed units: nothing to do"
    exit 0
fi

runbook_ask "These systemd units are in the failed state: $units. For each one: read its \
status (ActiveState, SubState, result, exit code, when it last changed) and the last 100 \
lines of its journal; say in two sentences why it failed (a config error, a missing file \
or dependency, a crash, out of memory, a port already in use ...). Check what it depends \
on. If a restart is likely to work now, restart it (the operator approves each restart) \
and report the state it reaches; if not, say exactly what a human must fix first."
