"""Arguments and results of the udev tool's actions, with their bounds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sysward.tools.tool import ToolArgs

# Lists stop before this many bytes of JSON so they fit the registry's 64 KiB cap.
MAX_LIST_OUTPUT_BYTES = 48 * 1024
MAX_LIMIT = 500

# Names never start with '-', so nothing here can ever be mistaken for an option.
SUBSYSTEM_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SYS_NAME_PATTERN = r"^[A-Za-z0-9_.:!+@][A-Za-z0-9_.:!+@-]{0,127}$"
SYS_NAME_GLOB_PATTERN = r"^[A-Za-z0-9_.:!+@*?\[][A-Za-z0-9_.:!+@*?\[\]-]{0,127}$"
ATTRIBUTE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$"

Subsystem = Annotated[
    str,
    Field(
        pattern=SUBSYSTEM_PATTERN,
        description="Kernel subsystem, e.g. block, net, pci, usb, tty, input, sound",
    ),
]
Limit = Annotated[
    int, Field(ge=1, le=MAX_LIMIT, description=f"Most devices to return (1..{MAX_LIMIT})")
]


class Frozen(BaseModel):
    """Base of results: immutable data."""

    model_config = ConfigDict(frozen=True)


class ListArgs(ToolArgs):
    """Which devices to list."""

    subsystem: Subsystem
    sys_name: str | None = Field(
        None,
        pattern=SYS_NAME_GLOB_PATTERN,
        description="Optional shell glob on the kernel name, e.g. 'sd*', 'eth?', 'ttyS[0-3]'",
    )
    limit: Limit = 100


class DeviceSummary(Frozen):
    """Identity of a device."""

    sys_path: str
    sys_name: str
    subsystem: str | None
    device_type: str | None
    driver: str | None
    device_node: str | None


class DeviceList(Frozen):
    """Devices of one subsystem; ``truncated`` when more matched than were returned."""

    subsystem: str
    devices: list[DeviceSummary]
    matched: int
    truncated: bool


class InfoArgs(ToolArgs):
    """One device, by sys_path or by subsystem + sys_name."""

    sys_path: str | None = Field(
        None,
        max_length=4096,
        pattern=r"^/sys/",
        description="Device directory, e.g. /sys/class/net/eth0 or a sys_path from udev.list",
    )
    subsystem: str | None = Field(
        None,
        pattern=SUBSYSTEM_PATTERN,
        description="Subsystem of the device named by sys_name, e.g. block, net, pci",
    )
    sys_name: str | None = Field(
        None,
        pattern=SYS_NAME_PATTERN,
        description="Exact kernel name within `subsystem`, e.g. sda, eth0, 0000:00:1f.2",
    )
    attributes: list[Annotated[str, Field(pattern=ATTRIBUTE_PATTERN)]] | None = Field(
        None,
        max_length=64,
        description="Attribute files to read, e.g. ['size', 'ro']; default: every readable one",
    )
    max_attributes: int = Field(
        32, ge=0, le=64, description="Most attributes to read (0 skips attributes)"
    )
    parent_depth: int = Field(8, ge=0, le=16, description="How many parent devices to list")

    @model_validator(mode="after")
    def _one_way_to_name_the_device(self) -> InfoArgs:
        by_name = self.subsystem is not None or self.sys_name is not None
        if (self.sys_path is None) == (not by_name):
            raise ValueError("give either sys_path, or subsystem and sys_name (not both)")
        if by_name and (self.subsystem is None or self.sys_name is None):
            raise ValueError("subsystem and sys_name go together")
        return self


class Attribute(Frozen):
    """A sysfs attribute file's content (text, or base64 of short binary values)."""

    name: str
    value: str
    encoding: Literal["text", "base64"]
    truncated: bool


class Parent(Frozen):
    """One ancestor of a device, nearest first."""

    sys_path: str
    sys_name: str
    subsystem: str | None
    device_type: str | None
    driver: str | None


class DeviceInfo(Frozen):
    """A device's identity, udev properties, sysfs attributes and parents."""

    device: DeviceSummary
    properties: dict[str, str]
    properties_truncated: bool
    attributes: list[Attribute]
    attributes_truncated: bool
    skipped_attributes: list[str] = Field(
        description="Attributes that could not be read, or binary values over 4096 bytes"
    )
    parents: list[Parent]


class HardwareArgs(ToolArgs):
    """How many devices to return."""

    limit: Limit = 100


class UsbDevice(Frozen):
    """A USB device (not an interface); ids are 4-digit lowercase hex."""

    sys_path: str
    sys_name: str
    bus_number: int | None
    device_number: int | None
    vendor_id: str | None
    product_id: str | None
    manufacturer: str | None
    product: str | None
    serial: str | None
    speed_mbps: float | None
    usb_version: str | None
    device_class: str | None
    driver: str | None
    device_node: str | None
    vendor_name: str | None = Field(description="From the hardware database, when present")
    model_name: str | None = Field(description="From the hardware database, when present")


class UsbList(Frozen):
    """USB devices; empty when the host has no USB controller or device."""

    devices: list[UsbDevice]
    truncated: bool


class PciDevice(Frozen):
    """A PCI function; ids are 4-digit lowercase hex, class_code 6-digit hex."""

    slot: str
    sys_path: str
    vendor_id: str | None
    device_id: str | None
    subsystem_vendor_id: str | None
    subsystem_device_id: str | None
    class_code: str | None
    class_name: str | None
    revision: str | None
    driver: str | None
    vendor_name: str | None
    device_name: str | None


class PciList(Frozen):
    """PCI functions, sorted by slot."""

    devices: list[PciDevice]
    truncated: bool


class BlockArgs(ToolArgs):
    """Which block devices to list."""

    name: str | None = Field(
        None,
        pattern=SYS_NAME_GLOB_PATTERN,
        description="Optional shell glob on the device name, e.g. 'sd*', 'nvme0n1*'",
    )
    include_empty: bool = Field(
        False, description="Also list devices of size 0 (unused loop devices, empty drives)"
    )
    limit: Limit = 100


class Mount(Frozen):
    """Where a block device is mounted (from /proc/self/mountinfo)."""

    mount_point: str
    fs_type: str
    root: str = Field(description="Directory of the filesystem mounted there ('/' unless bind)")
    read_only: bool


class BlockDevice(Frozen):
    """A disk or partition; sizes in bytes."""

    name: str
    sys_path: str
    device_node: str | None
    type: Literal["disk", "partition"] | None
    major: int | None
    minor: int | None
    size_bytes: int | None
    read_only: bool | None
    removable: bool | None
    rotational: bool | None
    model: str | None
    vendor: str | None
    serial: str | None
    fs_type: str | None
    parent: str | None = Field(description="The disk a partition belongs to")
    partitions: list[str]
    mounts: list[Mount]


class BlockList(Frozen):
    """Block devices, disks each followed by their partitions."""

    devices: list[BlockDevice]
    truncated: bool
