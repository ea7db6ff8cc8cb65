"""The demo model's final answer, composed from the tool results the daemon sent it.

Only the fields the answer shows are read, so a tool that grows new fields never
breaks the demo; a result that does not parse (an error, or one cut short to fit
the context window) is reported as such instead of guessed at.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

MODEL_LABEL = "scripted demo model (no LLM)"
TOP_PROCESSES = 3

M = TypeVar("M", bound=BaseModel)


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ToolOutcome(_Read):
    """The standard result envelope: `ok` and `output`, or `ok: false` and `error`."""

    ok: bool
    output: JsonValue = None
    error: dict[str, JsonValue] | None = None


class FileChunk(_Read):
    path: str
    content: str


class Process(_Read):
    pid: int
    name: str | None
    cpu_percent: float | None
    rss_bytes: int | None


class Processes(_Read):
    processes: list[Process]
    total: int


class Address(_Read):
    family: str
    address: str


class Interface(_Read):
    name: str
    is_up: bool
    addresses: list[Address]


class Interfaces(_Read):
    interfaces: list[Interface]


class Mount(_Read):
    mount_point: str


class BlockDevice(_Read):
    name: str
    type: str | None
    size_bytes: int | None
    fs_type: str | None
    mounts: list[Mount]


class BlockDevices(_Read):
    devices: list[BlockDevice]


def compose_answer(results: Mapping[str, str]) -> str:
    """The report, from tool results keyed by the function that produced them."""
    lines = [f"Inspection report ({MODEL_LABEL}; every fact below comes from a tool result):"]
    for function, describe in _DESCRIBERS.items():
        if function in results:
            lines.append(f"- {describe(results[function])}")
    if len(lines) == 1:
        lines.append("- no inspection tool was offered, so there is nothing to report")
    return "\n".join(lines)


def describe_os_release(raw: str) -> str:
    chunk = _output(raw, FileChunk)
    if isinstance(chunk, str):
        return f"OS: {chunk}"
    fields = dict(_os_release_field(line) for line in chunk.content.splitlines() if "=" in line)
    name = fields.get("PRETTY_NAME") or fields.get("NAME") or "not named in the file"
    return f"OS: {name} (from {chunk.path})"


def _os_release_field(line: str) -> tuple[str, str]:
    key, _, value = line.partition("=")
    try:
        words = shlex.split(value)
    except ValueError:
        words = [value]
    return key.strip(), " ".join(words)


def describe_processes(raw: str) -> str:
    listing = _output(raw, Processes)
    if isinstance(listing, str):
        return f"Processes: {listing}"
    top = [
        f"{p.name or '?'} (pid {p.pid}, {p.cpu_percent or 0:.1f}% cpu, {_size(p.rss_bytes)})"
        for p in listing.processes[:TOP_PROCESSES]
    ]
    return f"Processes: {listing.total} running; busiest: {', '.join(top) or 'none listed'}"


def describe_interfaces(raw: str) -> str:
    listing = _output(raw, Interfaces)
    if isinstance(listing, str):
        return f"Network: {listing}"
    up = [
        f"{interface.name} ({', '.join(a.address for a in interface.addresses) or 'no address'})"
        for interface in listing.interfaces
        if interface.is_up
    ]
    down = len(listing.interfaces) - len(up)
    return f"Network: up: {'; '.join(up) or 'none'} ({down} more interface(s) down)"


def describe_block_devices(raw: str) -> str:
    listing = _output(raw, BlockDevices)
    if isinstance(listing, str):
        return f"Block devices: {listing}"
    devices = [
        f"{device.name} {device.type or 'device'} {_size(device.size_bytes)}"
        + (f" {device.fs_type}" if device.fs_type else "")
        + "".join(f" on {mount.mount_point}" for mount in device.mounts)
        for device in listing.devices
    ]
    return f"Block devices: {'; '.join(devices) or 'none found'}"


def _output(raw: str, model: type[M]) -> M | str:
    """The parsed output, or a short reason the result cannot be read."""
    try:
        outcome = ToolOutcome.model_validate_json(raw)
    except ValidationError:
        return "the result was cut short or is not JSON, so it is not summarised"
    if not outcome.ok:
        error = outcome.error or {}
        return f"the tool failed ({error.get('code', 'error')}: {error.get('message', '')})"
    try:
        return model.model_validate(outcome.output)
    except ValidationError:
        return f"the result is not in the expected shape: {json.dumps(outcome.output)[:120]}"


def _size(size_bytes: int | None) -> str:
    if size_bytes is None:
        return "size unknown"
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


_DESCRIBERS: dict[str, Callable[[str], str]] = {
    "file_read": describe_os_release,
    "net_interfaces": describe_interfaces,
    "proc_list": describe_processes,
    "udev_block": describe_block_devices,
}
