# shellcheck shell=bash
# Shared by the runbooks (sourced, not run): hand a problem to a sysward agent,
# show the operator every change it asks to make, and print what it found.
#
# Environment:
#   SYSWARD            the CLI to run (default: sysward)
#   SYSWARD_SOCKET     the daemon's socket (read by the CLI; default /run/sysward/sysward.sock)
#   RUNBOOK_AGENT      the agent that gets the problem (default: ops)
#   RUNBOOK_DECISION   approve | deny: decide every pending approval without asking.
#                      Unset: ask on the terminal; with no terminal, deny.
#   RUNBOOK_TIMEOUT_S  how long to wait for the agent's answer (default: 900)
#   RUNBOOK_POLL_S     seconds between looks at pending approvals (default: 1)
#
# Exit codes of runbook_ask (and so of the runbooks): 0 the agent answered,
# 1 the turn failed or timed out, 3 the daemon is unreachable, 4 permission denied.

SYSWARD=${SYSWARD:-sysward}
RUNBOOK_AGENT=${RUNBOOK_AGENT:-ops}
RUNBOOK_DECISION=${RUNBOOK_DECISION:-}
RUNBOOK_TIMEOUT_S=${RUNBOOK_TIMEOUT_S:-900}
RUNBOOK_POLL_S=${RUNBOOK_POLL_S:-1}

runbook_log() {
    printf '%s\n' "$*" >&2
}

runbook_require() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            runbook_log "runbook: '$tool' is needed (apt-get install $tool)"
            exit 2
        fi
    done
}

# The operator's decision on one approval: prints approve or deny.
runbook_choose() {
    local answer
    case "$RUNBOOK_DECISION" in
        approve | deny)
            printf '%s\n' "$RUNBOOK_DECISION"
            return
            ;;
        "") ;;
        *)
            runbook_log "runbook: RUNBOOK_DECISION must be approve or deny, not '$RUNBOOK_DECISION'"
            printf 'deny\n'
            return
            ;;
    esac
    if { exec 9<>/dev/tty; } 2>/dev/null; then
        printf 'approve this action? [y/N] ' >&9
        read -r answer <&9 || answer=
        exec 9>&-
        case "$answer" in
            y | Y | yes) printf 'approve\n' ;;
            *) printf 'deny\n' ;;
        esac
    else
        printf 'deny\n'
    fi
}

# Show each pending approval of the runbook's agent and decide it.
runbook_review_approvals() {
    local pending id call args reason decision
    if ! pending=$("$SYSWARD" approvals --json); then
        return 0 # the daemon may be restarting; the turn's own wait reports real trouble
    fi
    jq -r --arg agent "$RUNBOOK_AGENT" '.[] | select(.agent == $agent)
        | [.id, "\(.tool).\(.action)", (.args | tojson), (.reason // "")] | @tsv' \
        <<<"$pending" |
        while IFS=$'\t' read -r id call args reason; do
            runbook_log ""
            runbook_log "== approval $id: $RUNBOOK_AGENT wants to run $call"
            runbook_log "   args:   $args"
            runbook_log "   policy: ${reason:-no reason given}"
            decision=$(runbook_choose)
            if [ "$decision" = approve ]; then
                "$SYSWARD" approve "$id" --reason "approved by runbook operator $(id -un)" >&2 || true
            else
                "$SYSWARD" deny "$id" --reason "denied by runbook operator $(id -un)" >&2 || true
            fi
        done
}

# Print the turn's tool calls and answer from `sysward ask --json` output.
runbook_report() {
    local result=$1
    jq -r '"turn \(.turn // "?"): \(.status) after \(.steps) steps",
        (.tool_calls[] | "  \(.tool).\(.action) \(.args // {} | tojson) -> \(
            if .result == null then "no result"
            elif .result.ok then "ok"
            else "error \(.result.error.code): \(.result.error.message)" end)"),
        "",
        (.answer // "(no answer) \(.error // "")")' "$result"
}

# runbook_ask PROMPT: give the problem to the agent, gate its changes, print the outcome.
runbook_ask() {
    local prompt=$1 result ask_pid status=0 waited=0
    result=$(mktemp)
    "$SYSWARD" ask "$RUNBOOK_AGENT" "$prompt" --json >"$result" &
    ask_pid=$!
    while kill -0 "$ask_pid" 2>/dev/null; do
        if [ "$waited" -ge "$RUNBOOK_TIMEOUT_S" ]; then
            kill "$ask_pid" 2>/dev/null || true
            runbook_log "runbook: no answer within ${RUNBOOK_TIMEOUT_S}s; the turn goes on in the daemon"
            rm -f "$result"
            return 1
        fi
        runbook_review_approvals
        sleep "$RUNBOOK_POLL_S"
        waited=$((waited + RUNBOOK_POLL_S))
    done
    wait "$ask_pid" || status=$?
    if jq -e '.error' "$result" >/dev/null 2>&1; then
        runbook_log "runbook: $(jq -r '.error.message' "$result")"
    elif [ -s "$result" ]; then
        runbook_report "$result"
    fi
    rm -f "$result"
    return "$status"
}
