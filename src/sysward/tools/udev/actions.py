"""The udev tool: devices the kernel knows, read from sysfs through libudev.

Every action only reads. libudev and sysfs calls block, so each runs in a
thread under a deadline. The host may have no udevd (containers, minimal VMs):
then no udev database exists and no ``ID_*`` property is set; every field
here still comes from sysfs, and database fields are filled only when present.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import TypeVar

from pydantic import BaseModel

from sysward.tools.requirement import host_path, shared_library
from sysward.tools.tool import Effect, Tool, ToolFailed, action
from sysward.tools.udev.details import device_info, summary
from sysward.tools.udev.hardware import block_devices, pci_device, usb_device
from sysward.tools.udev.models import (
    MAX_LIST_OUTPUT_BYTES,
    BlockArgs,
    BlockDevice,
    BlockList,
    DeviceInfo,
    DeviceList,
    HardwareArgs,
    InfoArgs,
    ListArgs,
    PciList,
    UsbList,
)
from sysward.tools.udev.mounts import mounts_by_device
from sysward.tools.udev.sysfs import DEVICES_ROOT, known_subsystems, list_facts

DEFAULT_TIMEOUT_S = 10.0
MAX_SUBSYSTEM_CHOICES = 100

# pyudev loads libudev with ctypes at each call; without sysfs there are no devices to read.
UDEV_NEEDS = (
    shared_library("udev", install="install the libudev1 package (apt install libudev1)"),
    host_path(
        DEVICES_ROOT,
        what=f"sysfs ({DEVICES_ROOT})",
        install="mount sysfs on /sys (in a container, start it with /sys mounted)",
    ),
)

_T = TypeVar("_T")
_Item = TypeVar("_Item", bound=BaseModel)


class UdevTool(Tool):
    """Inspect hardware and kernel devices: any subsystem, USB, PCI and block devices.

    Read-only. Data comes from sysfs; fields from the udev hardware database
    (vendor names, ID_* properties) appear only on hosts where udevd runs.
    """

    name = "udev"

    def __init__(self, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    @action(effect=Effect.READ, requires=UDEV_NEEDS)
    async def list(self, args: ListArgs) -> DeviceList:
        """Devices of one subsystem (block, net, pci, usb, tty, ...), optionally by name glob."""
        return await self._off_loop(_device_list, args)

    @action(effect=Effect.READ, requires=UDEV_NEEDS)
    async def info(self, args: InfoArgs) -> DeviceInfo:
        """One device by sys_path or subsystem + sys_name: properties, attributes, parents."""
        return await self._off_loop(device_info, args)

    @action(effect=Effect.READ, requires=UDEV_NEEDS)
    async def usb(self, args: HardwareArgs) -> UsbList:
        """USB devices: bus/device numbers, vendor/product ids and strings, speed, driver."""
        return await self._off_loop(_usb_list, args)

    @action(effect=Effect.READ, requires=UDEV_NEEDS)
    async def pci(self, args: HardwareArgs) -> PciList:
        """PCI functions: slot, vendor/device and subsystem ids, class, driver."""
        return await self._off_loop(_pci_list, args)

    @action(effect=Effect.READ, requires=UDEV_NEEDS)
    async def block(self, args: BlockArgs) -> BlockList:
        """Disks and partitions: size, flags, model, partitions and where each is mounted."""
        return await self._off_loop(_block_list, args)

    async def _off_loop(self, function: Callable[[_T], _Item], args: _T) -> _Item:
        deadline = asyncio.timeout(self.timeout_s)
        try:
            async with deadline:
                return await asyncio.to_thread(function, args)
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise ToolFailed(
                "timeout",
                f"reading sysfs took longer than {self.timeout_s} s (a device may be hung); "
                "ask for one device with udev.info or retry later",
                {"timeout_s": self.timeout_s},
            ) from exc


def bounded(items: Sequence[_Item], limit: int) -> tuple[list[_Item], bool]:
    """The first ``limit`` items that fit the output budget, and whether any were left out."""
    kept: list[_Item] = []
    budget = MAX_LIST_OUTPUT_BYTES
    for item in items[:limit]:
        budget -= len(item.model_dump_json()) + 1
        if budget < 0:
            break
        kept.append(item)
    return kept, len(kept) < len(items)


def _device_list(args: ListArgs) -> DeviceList:
    devices = [
        summary(facts)
        for facts in list_facts(args.subsystem)
        if args.sys_name is None or fnmatchcase(facts.sys_name, args.sys_name)
    ]
    if not devices:
        known = known_subsystems()
        if args.subsystem not in known:
            raise ToolFailed(
                "not_found",
                f"this host has no subsystem {args.subsystem!r}; see details.choices",
                {"subsystem": args.subsystem, "choices": list(known[:MAX_SUBSYSTEM_CHOICES])},
            )
    kept, is_truncated = bounded(devices, args.limit)
    return DeviceList(
        subsystem=args.subsystem, devices=kept, matched=len(devices), truncated=is_truncated
    )


def _usb_list(args: HardwareArgs) -> UsbList:
    devices = [
        usb_device(facts) for facts in list_facts("usb") if facts.device_type == "usb_device"
    ]
    devices.sort(key=lambda device: (device.bus_number or 0, device.device_number or 0))
    kept, is_truncated = bounded(devices, args.limit)
    return UsbList(devices=kept, truncated=is_truncated)


def _pci_list(args: HardwareArgs) -> PciList:
    devices = sorted((pci_device(facts) for facts in list_facts("pci")), key=lambda d: d.slot)
    kept, is_truncated = bounded(devices, args.limit)
    return PciList(devices=kept, truncated=is_truncated)


def _block_list(args: BlockArgs) -> BlockList:
    devices = [
        device
        for device in block_devices(list_facts("block"), mounts_by_device())
        if _is_wanted(device, args)
    ]
    kept, is_truncated = bounded(devices, args.limit)
    return BlockList(devices=kept, truncated=is_truncated)


def _is_wanted(device: BlockDevice, args: BlockArgs) -> bool:
    if args.name is not None and not fnmatchcase(device.name, args.name):
        return False
    return args.include_empty or bool(device.size_bytes)
