"""Devices as seen in sysfs: facts copied out of pyudev, bounded attribute reads, path checks.

Everything here blocks (libudev and sysfs reads); the tool calls it with
``asyncio.to_thread``. A ``pyudev.Context`` is made per call because libudev
objects must not be shared between threads. Attributes are read from the
device directory directly rather than through libudev, so reads are bounded
and the same code reads a fake device tree in tests.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyudev

from sysward.tools.tool import ToolFailed

SYS_ROOT = Path("/sys")
DEVICES_ROOT = SYS_ROOT / "devices"

# One page: what the kernel's sysfs show() functions can return at most.
MAX_ATTRIBUTE_BYTES = 4096


@dataclass(frozen=True)
class DeviceFacts:
    """What pyudev knows about one device, copied out so it can leave the thread."""

    sys_path: Path
    sys_name: str
    subsystem: str | None
    device_type: str | None
    driver: str | None
    device_node: str | None
    properties: Mapping[str, str]

    def value_of(self, key: str) -> str | None:
        """A udev property, or None when absent or empty."""
        return self.properties.get(key) or None


def udev_context() -> pyudev.Context:
    """A fresh libudev context; ``unavailable`` when libudev is not installed."""
    try:
        return pyudev.Context()
    except ImportError as exc:
        raise ToolFailed(
            "unavailable",
            f"libudev cannot be loaded ({exc}); install the libudev1 package",
        ) from exc


def facts_of(device: pyudev.Device) -> DeviceFacts:
    """Copy a pyudev device's identity and properties into plain data."""
    return DeviceFacts(
        sys_path=Path(device.sys_path),
        sys_name=str(device.sys_name),
        subsystem=device.subsystem,
        device_type=device.device_type,
        driver=device.driver,
        device_node=device.device_node,
        properties={str(key): str(value) for key, value in device.properties.items()},
    )


def list_facts(subsystem: str) -> list[DeviceFacts]:
    """Every device of one subsystem, sorted by sys_path."""
    context = udev_context()
    devices = [facts_of(device) for device in context.list_devices(subsystem=subsystem)]
    return sorted(devices, key=lambda facts: str(facts.sys_path))


def known_subsystems() -> list[str]:
    """Subsystem names the kernel exposes (classes and buses)."""
    names: set[str] = set()
    for folder in (SYS_ROOT / "class", SYS_ROOT / "bus"):
        try:
            names.update(entry.name for entry in os.scandir(folder))
        except OSError:
            continue
    return sorted(names)


def resolve_device_path(raw: str) -> Path:
    """The real device directory ``raw`` names; refuses anything that leaves /sys."""
    resolved = Path(os.path.realpath(raw))
    if not resolved.is_relative_to(SYS_ROOT):
        raise ToolFailed(
            "permission_denied",
            f"sys_path must stay inside {SYS_ROOT}; {raw[:256]!r} resolves to "
            f"{str(resolved)[:256]!r}",
            {"resolved": str(resolved)[:256]},
        )
    # Devices live under /sys/devices; /sys/class, /sys/bus and /sys/block link there.
    if not resolved.is_relative_to(DEVICES_ROOT) or not (resolved / "uevent").is_file():
        raise ToolFailed(
            "not_found",
            f"no device at {str(resolved)[:256]!r} (devices are directories under "
            f"{DEVICES_ROOT}); find one with udev.list",
            {"sys_path": str(resolved)[:256]},
        )
    return resolved


def read_attribute(
    device_dir: Path, name: str, max_bytes: int = MAX_ATTRIBUTE_BYTES
) -> bytes | None:
    """Up to ``max_bytes + 1`` bytes of an attribute file, or None when it cannot be read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(device_dir / name, flags)
    except OSError:
        return None
    try:
        return os.read(fd, max_bytes + 1)
    except OSError:  # many attributes fail with EIO/EINVAL/ENODEV when the device says no
        return None
    finally:
        os.close(fd)


def attribute_text(device_dir: Path, name: str) -> str | None:
    """A text attribute with its trailing newline stripped; None if absent, empty or binary."""
    raw = read_attribute(device_dir, name)
    if raw is None or b"\x00" in raw:
        return None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text or None


def attribute_int(device_dir: Path, name: str, base: int = 10) -> int | None:
    """An integer attribute (``base`` 16 also accepts a ``0x`` prefix); None if not one."""
    text = attribute_text(device_dir, name)
    if text is None:
        return None
    try:
        return int(text, base)
    except ValueError:
        return None


def readable_attribute_names(device_dir: Path) -> list[str]:
    """Readable attribute files of a device directory, sorted, minus those only read on request."""
    names: list[str] = []
    try:
        entries = list(os.scandir(device_dir))
    except OSError:
        return names
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_mode & 0o444 and not _is_skipped(entry.name):
            names.append(entry.name)
    return sorted(names)


def _is_skipped(name: str) -> bool:
    # uevent repeats the properties. Reading PCI vpd can stall the device for seconds,
    # rom and resourceN are device memory: read them only when asked for by name.
    return name in _READ_ONLY_ON_REQUEST or (name.startswith("resource") and name != "resource")


_READ_ONLY_ON_REQUEST = frozenset({"uevent", "vpd", "rom"})
