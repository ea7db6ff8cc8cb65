"""Everything about one device: udev properties, sysfs attributes and its parents.

Blocking (libudev and sysfs reads): the tool runs ``device_info`` in a thread.
Output is bounded: property and attribute counts, value sizes and a byte
budget keep the result well inside the registry's 64 KiB cap.
"""

from __future__ import annotations

import base64
import codecs
from pathlib import Path

import pyudev

from sysward.tools.tool import ToolFailed
from sysward.tools.udev.models import Attribute, DeviceInfo, DeviceSummary, InfoArgs, Parent
from sysward.tools.udev.sysfs import (
    MAX_ATTRIBUTE_BYTES,
    DeviceFacts,
    facts_of,
    read_attribute,
    readable_attribute_names,
    resolve_device_path,
    udev_context,
)

MAX_PROPERTIES = 128
MAX_VALUE_CHARS = 1024
# Binary attributes of up to one page (PCI config space, descriptors) come back as base64.
MAX_BINARY_BYTES = MAX_ATTRIBUTE_BYTES
ATTRIBUTE_BUDGET_BYTES = 24 * 1024
MAX_SKIPPED_NAMES = 64


def summary(facts: DeviceFacts) -> DeviceSummary:
    """The identity fields of a device."""
    return DeviceSummary(
        sys_path=str(facts.sys_path),
        sys_name=facts.sys_name,
        subsystem=facts.subsystem,
        device_type=facts.device_type,
        driver=facts.driver,
        device_node=facts.device_node,
    )


def find_device(context: pyudev.Context, args: InfoArgs) -> pyudev.Device:
    """The device ``args`` names; ``not_found`` if there is none."""
    try:
        if args.sys_path is not None:
            return pyudev.Devices.from_sys_path(context, str(resolve_device_path(args.sys_path)))
        return pyudev.Devices.from_name(context, args.subsystem, args.sys_name)
    except pyudev.DeviceNotFoundError as exc:
        raise ToolFailed(
            "not_found",
            f"{exc}; list devices with udev.list (subsystem) to find the right name",
        ) from exc


def device_info(args: InfoArgs) -> DeviceInfo:
    """Identity, properties, attributes and parents of the device ``args`` names."""
    device = find_device(udev_context(), args)
    facts = facts_of(device)
    properties = dict(sorted(facts.properties.items())[:MAX_PROPERTIES])
    attributes, is_cut, skipped = read_attributes(facts.sys_path, args)
    return DeviceInfo(
        device=summary(facts),
        properties={key: _clip(value) for key, value in properties.items()},
        properties_truncated=len(facts.properties) > MAX_PROPERTIES,
        attributes=attributes,
        attributes_truncated=is_cut,
        skipped_attributes=skipped,
        parents=_parents(device, args.parent_depth),
    )


def read_attributes(directory: Path, args: InfoArgs) -> tuple[list[Attribute], bool, list[str]]:
    """The requested (or all readable) attributes within the count and byte budgets."""
    names = list(args.attributes) if args.attributes is not None else None
    if names is None:
        names = readable_attribute_names(directory)
    attributes: list[Attribute] = []
    skipped: list[str] = []
    budget = ATTRIBUTE_BUDGET_BYTES
    for name in names:
        if len(attributes) >= args.max_attributes:
            return attributes, True, skipped
        attribute = read_one(directory, name)
        if attribute is None:
            if len(skipped) < MAX_SKIPPED_NAMES:
                skipped.append(name)
            continue
        budget -= len(attribute.name) + len(attribute.value) + 64
        if budget < 0:
            return attributes, True, skipped
        attributes.append(attribute)
    return attributes, False, skipped


def read_one(directory: Path, name: str) -> Attribute | None:
    """One attribute: text if UTF-8 without NUL, base64 if short binary, None otherwise."""
    raw = read_attribute(directory, name)
    if raw is None:
        return None
    text = _decoded(raw, is_cut=len(raw) > MAX_ATTRIBUTE_BYTES)
    if text is not None:
        text = text.rstrip("\n")
        return Attribute(
            name=name, value=_clip(text), encoding="text", truncated=len(text) > MAX_VALUE_CHARS
        )
    if len(raw) > MAX_BINARY_BYTES:
        return None
    encoded = base64.b64encode(raw).decode("ascii")
    return Attribute(name=name, value=encoded, encoding="base64", truncated=False)


def _decoded(raw: bytes, *, is_cut: bool) -> str | None:
    """UTF-8 text without NUL, or None; a cut read may end inside a character."""
    if b"\x00" in raw:
        return None
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(raw, final=not is_cut)
    except UnicodeDecodeError:
        return None


def _clip(value: str) -> str:
    return value[:MAX_VALUE_CHARS]


def _parents(device: pyudev.Device, depth: int) -> list[Parent]:
    parents: list[Parent] = []
    parent = device.parent
    while parent is not None and len(parents) < depth:
        parents.append(
            Parent(
                sys_path=str(parent.sys_path),
                sys_name=str(parent.sys_name),
                subsystem=parent.subsystem,
                device_type=parent.device_type,
                driver=parent.driver,
            )
        )
        parent = parent.parent
    return parents
