#!/usr/bin/env bash
# Runbook: a new USB device appeared. Usage: usb-device.sh [SYSFS_PATH]
# SYSFS_PATH is the device's /sys path (udev's %p, e.g. /devices/pci0000:00/...);
# without it the agent looks at every USB device. The agent identifies the device
# and says whether it is expected; it changes nothing (mounting, unbinding a
# driver) without your approval. To run it on every plug-in: see usb-device.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runbook_require jq "$SYSWARD"

if [ $# -gt 1 ]; then
    runbook_log "usage: $0 [SYSFS_PATH]"
    exit 2
fi
if [ $# -eq 1 ]; then
    device="the device at sysfs path $1"
else
    device="the USB devices currently attached (the newest first, if you can tell)"
fi

runbook_ask "A new USB device appeared on this host. Identify $device: vendor and \
product (ids and names), serial, device class (storage, network, HID keyboard or mouse, \
serial adapter ...), the driver bound to it, and any block device, network interface or \
tty it created, with filesystems and whether anything is mounted. Say plainly whether it \
looks like ordinary hardware, and flag anything suspicious such as a storage device that \
also presents a keyboard. Do not mount, unbind or change anything unless the operator \
approves it."
