"""The udev trigger source: device events (uevents) from a pyudev netlink monitor.

The monitor's socket is read on the event loop (``add_reader``); each wakeup
drains every device that is ready without blocking. Which events fire is the
pure ``device_matches``, so it is tested without a kernel.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from sysward.config import UdevTrigger
from sysward.triggers.source import Emit, SourceEvent, SourceUnavailable, clip

if TYPE_CHECKING:
    import pyudev

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
# udevd's control socket: present exactly when udevd runs and re-broadcasts events.
UDEVD_CONTROL_PATH = Path("/run/udev/control")
# A device event's properties become prompt fields; a few dozen is what real devices
# have, and the cap keeps an odd driver from flooding the prompt.
MAX_PROPERTIES = 64

_log = logging.getLogger(__name__)


def device_matches(settings: UdevTrigger, action: str, properties: Mapping[str, str]) -> bool:
    """Whether a device event passes the trigger's subsystem, actions and property globs.

    A property the trigger names but the device lacks is a mismatch, also for "*".
    """
    if settings.subsystem is not None and properties.get("SUBSYSTEM") != settings.subsystem:
        return False
    if action not in settings.actions:
        return False
    return all(
        name in properties and fnmatchcase(properties[name], pattern)
        for name, pattern in settings.properties.items()
    )


class UdevSource:
    """Watches kernel device events and emits those a UdevTrigger matches."""

    def __init__(self, settings: UdevTrigger) -> None:
        self.settings = settings

    async def run(self, emit: Emit) -> None:
        """Watch until cancelled; SourceUnavailable if the monitor cannot open or fails."""
        # Loading libudev and reading /proc are blocking file I/O: keep them off the loop.
        monitor, boot_id = await asyncio.to_thread(_open_monitor, self.settings.subsystem)
        loop = asyncio.get_running_loop()
        failed: asyncio.Future[None] = loop.create_future()
        fd = monitor.fileno()
        loop.add_reader(fd, self._drain, monitor, boot_id, emit, failed)
        try:
            await failed
        finally:
            loop.remove_reader(fd)

    def _drain(
        self, monitor: pyudev.Monitor, boot_id: str, emit: Emit, failed: asyncio.Future[None]
    ) -> None:
        while not failed.done():
            try:
                device = monitor.poll(timeout=0)
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    # The socket keeps working after an overflow; only the lost events are gone.
                    _log.warning("udev trigger: the netlink receive buffer overflowed; events lost")
                    continue
                failed.set_exception(
                    SourceUnavailable(f"reading device events failed: {exc.strerror or exc}")
                )
                return
            if device is None:
                return
            event = self._event_of(device, boot_id)
            if event is not None:
                emit(event)

    def _event_of(self, device: pyudev.Device, boot_id: str) -> SourceEvent | None:
        properties = {str(name): str(value) for name, value in device.properties.items()}
        action = str(device.action or properties.get("ACTION", ""))
        if not device_matches(self.settings, action, properties):
            return None
        seqnum = properties.get("SEQNUM", "")
        fields = {
            "action": action,
            "subsystem": clip(device.subsystem or ""),
            "sys_name": clip(device.sys_name),
            "device_path": clip(device.device_path),
            "device_node": clip(device.device_node or ""),
            "seqnum": seqnum,
        }
        for name, value in itertools.islice(properties.items(), MAX_PROPERTIES):
            fields.setdefault(clip(name), clip(value))
        # SEQNUM counts uevents since boot: with the boot id it names one event for good.
        key = f"udev:{boot_id}:{seqnum}" if seqnum else None
        return SourceEvent(key=key, fields=fields)


def _open_monitor(subsystem: str | None) -> tuple[pyudev.Monitor, str]:
    """A started netlink monitor (filtered by subsystem when given) and this boot's id."""
    try:
        import pyudev
    except ImportError as exc:
        raise SourceUnavailable("udev triggers need pyudev: pip install pyudev") from exc
    # udevd re-broadcasts each event on the "udev" group after its rules ran (adding ID_*
    # properties, device nodes in place). Without udevd (containers, minimal hosts) that
    # group stays silent forever, so fall back to the kernel's raw uevents.
    source = "udev" if UDEVD_CONTROL_PATH.exists() else "kernel"
    try:
        monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source=source)
        if subsystem is not None:
            monitor.filter_by(subsystem)
        monitor.start()
    except ImportError as exc:  # pyudev loads libudev itself, at the first Context
        raise SourceUnavailable(
            f"libudev cannot be loaded ({exc}); install the libudev1 package"
        ) from exc
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot listen to {source} device events ({exc.strerror or exc}); "
            "the daemon needs root or CAP_NET_ADMIN"
        ) from exc
    return monitor, _read_boot_id()


def _read_boot_id() -> str:
    try:
        return BOOT_ID_PATH.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot read {BOOT_ID_PATH} ({exc.strerror}); udev event keys need it "
            "(is /proc mounted?)"
        ) from exc
