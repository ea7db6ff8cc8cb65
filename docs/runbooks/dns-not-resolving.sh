#!/usr/bin/env bash
# Runbook: names do not resolve. Usage: dns-not-resolving.sh [NAME]
# Checks NAME (default: debian.org) with the system resolver first and does
# nothing when it resolves; otherwise the agent diagnoses the resolver chain.
# Any change to resolver configuration is shown to you for approval.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runbook_require jq getent "$SYSWARD"

name=${1:-debian.org}
if [ $# -gt 1 ]; then
    runbook_log "usage: $0 [NAME]"
    exit 2
fi
if answer=$(timeout 10 getent ahosts "$name"); then
    echo "$name resolves ($(awk 'NR == 1 {print $1}' <<<"$answer")): nothing to do"
    exit 0
fi

runbook_ask "Name resolution fails on this host: 'getent ahosts $name' found nothing. \
Diagnose the resolver chain step by step: /etc/nsswitch.conf (hosts line), \
/etc/resolv.conf (is it a symlink to systemd-resolved's stub? which nameservers?), the \
state of systemd-resolved if it is used, whether each nameserver answers (resolve and \
ping it, check port 53), the default route and interfaces, and /etc/hosts. Report the \
first broken link. Propose a fix; change resolver configuration only with the operator's \
approval, and check that $name resolves afterwards."
