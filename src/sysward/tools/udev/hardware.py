"""USB, PCI and block device summaries built from device facts and sysfs attributes.

These read attributes from ``facts.sys_path`` only, and use udev database
properties (``ID_*``) only when present: on a host without udevd they are
absent and every field still comes from sysfs itself. Blocking: run in a thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sysward.tools.udev.models import BlockDevice, Mount, PciDevice, UsbDevice
from sysward.tools.udev.mounts import MountEntry
from sysward.tools.udev.sysfs import DeviceFacts, attribute_int, attribute_text

# Sizes in sysfs `size` are always in 512-byte sectors, whatever the logical block size.
SECTOR_BYTES = 512

# PCI base classes (PCI Code and Assignment Specification), for a readable class_name
# without the pci.ids database.
PCI_BASE_CLASSES = {
    0x00: "unclassified",
    0x01: "mass storage controller",
    0x02: "network controller",
    0x03: "display controller",
    0x04: "multimedia controller",
    0x05: "memory controller",
    0x06: "bridge",
    0x07: "communication controller",
    0x08: "generic system peripheral",
    0x09: "input device controller",
    0x0A: "docking station",
    0x0B: "processor",
    0x0C: "serial bus controller",
    0x0D: "wireless controller",
    0x0E: "intelligent controller",
    0x0F: "satellite communications controller",
    0x10: "encryption controller",
    0x11: "signal processing controller",
    0x12: "processing accelerator",
    0x13: "non-essential instrumentation",
    0x40: "coprocessor",
    0xFF: "unassigned class",
}


def hex_id(value: str | None, digits: int = 4) -> str | None:
    """Normalise '0x8086', '8086' or '8086\\n' to '8086'; None if not hex."""
    if value is None:
        return None
    text = value.strip().lower().removeprefix("0x")
    try:
        return f"{int(text, 16):0{digits}x}"
    except ValueError:
        return None


def _id_pair(value: str | None) -> tuple[str | None, str | None]:
    """Split a 'VVVV:DDDD' property into normalised ids."""
    if value is None or ":" not in value:
        return None, None
    first, second = value.split(":", 1)
    return hex_id(first), hex_id(second)


def usb_device(facts: DeviceFacts) -> UsbDevice:
    """A USB device summary from its sysfs attributes."""
    directory = facts.sys_path
    speed = attribute_text(directory, "speed")
    try:
        speed_mbps = float(speed) if speed is not None else None
    except ValueError:
        speed_mbps = None
    return UsbDevice(
        sys_path=str(directory),
        sys_name=facts.sys_name,
        bus_number=attribute_int(directory, "busnum"),
        device_number=attribute_int(directory, "devnum"),
        vendor_id=hex_id(attribute_text(directory, "idVendor")),
        product_id=hex_id(attribute_text(directory, "idProduct")),
        manufacturer=attribute_text(directory, "manufacturer"),
        product=attribute_text(directory, "product"),
        serial=attribute_text(directory, "serial"),
        speed_mbps=speed_mbps,
        usb_version=attribute_text(directory, "version"),
        device_class=hex_id(attribute_text(directory, "bDeviceClass"), 2),
        driver=facts.driver,
        device_node=facts.device_node,
        vendor_name=facts.value_of("ID_VENDOR_FROM_DATABASE"),
        model_name=facts.value_of("ID_MODEL_FROM_DATABASE"),
    )


def pci_device(facts: DeviceFacts) -> PciDevice:
    """A PCI function summary from its uevent properties, falling back to attributes."""
    directory = facts.sys_path
    vendor_id, device_id = _id_pair(facts.value_of("PCI_ID"))
    sub_vendor, sub_device = _id_pair(facts.value_of("PCI_SUBSYS_ID"))
    class_code = hex_id(facts.value_of("PCI_CLASS") or attribute_text(directory, "class"), 6)
    return PciDevice(
        slot=facts.value_of("PCI_SLOT_NAME") or facts.sys_name,
        sys_path=str(directory),
        vendor_id=vendor_id or hex_id(attribute_text(directory, "vendor")),
        device_id=device_id or hex_id(attribute_text(directory, "device")),
        subsystem_vendor_id=sub_vendor or hex_id(attribute_text(directory, "subsystem_vendor")),
        subsystem_device_id=sub_device or hex_id(attribute_text(directory, "subsystem_device")),
        class_code=class_code,
        class_name=PCI_BASE_CLASSES.get(int(class_code[:2], 16)) if class_code else None,
        revision=hex_id(attribute_text(directory, "revision"), 2),
        driver=facts.driver,
        vendor_name=facts.value_of("ID_VENDOR_FROM_DATABASE"),
        device_name=facts.value_of("ID_MODEL_FROM_DATABASE"),
    )


def _device_number(facts: DeviceFacts) -> tuple[int | None, int | None]:
    text = attribute_text(facts.sys_path, "dev")
    major, minor = facts.value_of("MAJOR"), facts.value_of("MINOR")
    if (major is None or minor is None) and text and ":" in text:
        major, minor = text.split(":", 1)
    try:
        return (int(major), int(minor)) if major and minor else (None, None)
    except ValueError:
        return None, None


def _flag(value: int | None) -> bool | None:
    return None if value is None else value != 0


def block_device(
    facts: DeviceFacts, partitions: list[str], mounts: Mapping[tuple[int, int], list[MountEntry]]
) -> BlockDevice:
    """A disk or partition summary; a partition reports its disk's removable/rotational/model."""
    directory = facts.sys_path
    is_partition = facts.device_type == "partition"
    disk_dir = directory.parent if is_partition else directory
    major, minor = _device_number(facts)
    sectors = attribute_int(directory, "size")
    mounted = mounts.get((major, minor), []) if major is not None and minor is not None else []
    return BlockDevice(
        name=facts.sys_name,
        sys_path=str(directory),
        device_node=facts.device_node,
        type="partition" if is_partition else "disk" if facts.device_type == "disk" else None,
        major=major,
        minor=minor,
        size_bytes=None if sectors is None else sectors * SECTOR_BYTES,
        read_only=_flag(attribute_int(directory, "ro")),
        removable=_flag(attribute_int(disk_dir, "removable")),
        rotational=_flag(attribute_int(disk_dir, "queue/rotational")),
        model=facts.value_of("ID_MODEL") or attribute_text(disk_dir, "device/model"),
        vendor=facts.value_of("ID_VENDOR") or attribute_text(disk_dir, "device/vendor"),
        serial=facts.value_of("ID_SERIAL_SHORT") or attribute_text(disk_dir, "device/serial"),
        fs_type=facts.value_of("ID_FS_TYPE") or (mounted[0].fs_type if mounted else None),
        parent=disk_dir.name if is_partition else None,
        partitions=partitions,
        mounts=[
            Mount(
                mount_point=entry.mount_point,
                fs_type=entry.fs_type,
                root=entry.root,
                read_only=entry.is_read_only,
            )
            for entry in mounted
        ],
    )


def block_devices(
    devices: Iterable[DeviceFacts], mounts: Mapping[tuple[int, int], list[MountEntry]]
) -> list[BlockDevice]:
    """Every block device, each disk followed by its partitions."""
    facts = list(devices)
    partitions: dict[str, list[DeviceFacts]] = {}
    for device in facts:
        if device.device_type == "partition":
            partitions.setdefault(device.sys_path.parent.name, []).append(device)
    names = {device.sys_name for device in facts}
    ordered: list[BlockDevice] = []
    for device in sorted(facts, key=_natural):
        if device.device_type == "partition" and device.sys_path.parent.name in names:
            continue  # listed right after its disk
        children = sorted(partitions.get(device.sys_name, []), key=_natural)
        ordered.append(block_device(device, [child.sys_name for child in children], mounts))
        ordered.extend(block_device(child, [], mounts) for child in children)
    return ordered


def _natural(device: DeviceFacts) -> tuple[int, str]:
    # loop2 before loop10, sda2 before sda10: names of a family differ only in their number.
    return len(device.sys_name), device.sys_name
