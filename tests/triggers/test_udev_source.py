"""UdevSource: the matching rule on property tables, and one real kernel uevent.

The real event is a `change` uevent on the loopback interface, provoked by writing
to its sysfs ``uevent`` file: harmless, and needs root (skipped otherwise).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sysward.config import UdevTrigger
from sysward.triggers.source import SourceEvent
from sysward.triggers.sources.udev import BOOT_ID_PATH, UdevSource, device_matches

DEADLINE_S = 10.0
USB_DISK = {"SUBSYSTEM": "block", "DEVTYPE": "disk", "ID_BUS": "usb", "DEVNAME": "/dev/sdb"}


def trigger(**settings: object) -> UdevTrigger:
    return UdevTrigger.model_validate(
        {"source": "udev", "agent": "ops", "prompt": "{sys_name} changed", **settings}
    )


@pytest.mark.parametrize(
    ("settings", "action", "expected"),
    [
        ({}, "add", True),
        ({}, "remove", False),
        ({"subsystem": "block"}, "add", True),
        ({"subsystem": "usb"}, "add", False),
        ({"actions": ["add", "remove"]}, "remove", True),
        ({"actions": ["change"]}, "add", False),
        ({"properties": {"DEVTYPE": "disk"}}, "add", True),
        ({"properties": {"DEVTYPE": "partition"}}, "add", False),
        ({"properties": {"DEVNAME": "/dev/sd*"}}, "add", True),
        ({"properties": {"DEVNAME": "/dev/SD*"}}, "add", False),
        ({"properties": {"DEVTYPE": "disk", "ID_BUS": "ata"}}, "add", False),
        ({"properties": {"ID_MODEL": "*"}}, "add", False),
    ],
    ids=[
        "defaults-match-add",
        "defaults-ignore-remove",
        "same-subsystem",
        "other-subsystem",
        "action-in-list",
        "action-not-in-list",
        "property-equal",
        "property-differs",
        "property-glob",
        "glob-is-case-sensitive",
        "every-property-must-match",
        "absent-property-never-matches",
    ],
)
def test_device_matches(settings: dict[str, object], action: str, expected: bool) -> None:
    assert device_matches(trigger(**settings), action, USB_DISK) is expected


def test_no_subsystem_property_fails_a_subsystem_filter() -> None:
    assert not device_matches(trigger(subsystem="block"), "add", {"DEVTYPE": "disk"})


def provoke_change(uevent: Path) -> None:
    try:
        uevent.write_text("change")
    except OSError as exc:
        pytest.skip(f"cannot write {uevent} to provoke a uevent ({exc.strerror}; needs root)")


async def test_a_kernel_change_uevent_on_lo_is_emitted() -> None:
    uevent = Path("/sys/class/net/lo/uevent")
    if not uevent.exists():  # noqa: ASYNC240 (one stat)
        pytest.skip(f"{uevent} does not exist (no loopback interface in sysfs)")
    seen: list[SourceEvent] = []
    source = UdevSource(trigger(subsystem="net", actions=["change"]))
    task = asyncio.create_task(source.run(seen.append))
    try:
        async with asyncio.timeout(DEADLINE_S):
            # The monitor opens in a thread: repeat the uevent until one arrives, so the
            # test never depends on winning a race with the socket's bind.
            while not any(event.fields["sys_name"] == "lo" for event in seen):
                assert not task.done(), task
                await asyncio.to_thread(provoke_change, uevent)
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    event = next(event for event in seen if event.fields["sys_name"] == "lo")
    assert event.fields["action"] == "change"
    assert event.fields["subsystem"] == "net"
    assert event.fields["SUBSYSTEM"] == "net"
    seqnum = event.fields["seqnum"]
    assert seqnum.isdigit()
    boot_id = BOOT_ID_PATH.read_text(encoding="ascii").strip()
    assert event.key == f"udev:{boot_id}:{seqnum}"
