"""The udev tool against this host's real /sys, called through the registry as a model would.

This host has no udevd and no udev database (so no ID_* properties) and no USB
bus: outputs must come from sysfs alone. Where the real hardware cannot show a
case (USB devices, partitions, model strings), the summaries are run on a fake
device directory laid out like sysfs, which is what they read.
"""

import base64
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolFailed, ToolOk, ToolRegistry
from sysward.tools.udev import UdevTool
from sysward.tools.udev.actions import bounded
from sysward.tools.udev.hardware import block_devices, pci_device, usb_device
from sysward.tools.udev.models import DeviceSummary
from sysward.tools.udev.mounts import MountEntry, parse_mountinfo, parse_mountinfo_line
from sysward.tools.udev.sysfs import DeviceFacts

CLASS_BLOCK = Path("/sys/class/block")
PCI_DEVICES = Path("/sys/bus/pci/devices")
USB_DEVICES = Path("/sys/bus/usb/devices")


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([UdevTool()])


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("udev", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, args: dict[str, object]) -> ToolErr:
    result = await registry.invoke("udev", action, args)
    assert isinstance(result, ToolErr), result
    return result


def names_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir()) if folder.exists() else []


def block_names() -> list[str]:
    return names_in(CLASS_BLOCK)


def root_device_number() -> tuple[int, int]:
    device = Path("/").stat().st_dev
    return os.major(device), os.minor(device)


def needs_block_devices() -> list[str]:
    names = block_names()
    if not names:
        pytest.skip("this host has no block devices")
    return names


def records(output: dict[str, JsonValue], key: str = "devices") -> list[dict[str, JsonValue]]:
    items = output[key]
    assert isinstance(items, list)
    return [item for item in items if isinstance(item, dict)]


# --- catalogue ---------------------------------------------------------------------------


def test_udev_offers_the_spec_actions_all_read_only(registry: ToolRegistry) -> None:
    effects = {spec.action: spec.effect.value for spec in registry.actions()}
    assert effects == {
        "list": "read",
        "info": "read",
        "usb": "read",
        "pci": "read",
        "block": "read",
    }


# --- list --------------------------------------------------------------------------------


async def test_list_block_returns_every_device_in_sys_class_block(registry: ToolRegistry) -> None:
    names = needs_block_devices()
    output = await call(registry, "list", subsystem="block", limit=500)
    devices = records(output)
    assert sorted(str(device["sys_name"]) for device in devices) == names
    assert output["matched"] == len(names) and output["truncated"] is False
    for device in devices:
        assert str(device["sys_path"]).startswith("/sys/devices/")
        assert device["subsystem"] == "block"
        assert device["device_node"] == f"/dev/{device['sys_name']}"


async def test_list_filters_by_sys_name_glob(registry: ToolRegistry) -> None:
    name = needs_block_devices()[0]
    output = await call(registry, "list", subsystem="block", sys_name=f"{name[:-1]}[{name[-1]}]")
    assert [device["sys_name"] for device in records(output)] == [name]


async def test_list_limit_truncates_and_reports_how_many_matched(registry: ToolRegistry) -> None:
    names = needs_block_devices()
    if len(names) < 2:
        pytest.skip("needs two block devices")
    output = await call(registry, "list", subsystem="block", limit=1)
    assert len(records(output)) == 1
    assert output["truncated"] is True and output["matched"] == len(names)


async def test_list_of_an_unknown_subsystem_is_not_found_with_the_choices(
    registry: ToolRegistry,
) -> None:
    error = (await fail(registry, "list", {"subsystem": "nosuchsubsystem"})).error
    assert error.code == "not_found"
    choices = error.details["choices"]
    assert isinstance(choices, list) and "block" in choices


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"subsystem": 7},
        {"subsystem": "-x"},
        {"subsystem": "../etc"},
        {"subsystem": "block\x00"},
        {"subsystem": "b" * 10_000},
        {"subsystem": "block", "sys_name": "-x"},
        {"subsystem": "block", "sys_name": "a/b"},
        {"subsystem": "block", "limit": 0},
        {"subsystem": "block", "limit": 100_000},
        {"subsystem": "block", "colour": "red"},
    ],
)
async def test_list_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "list", args)).error.code == "invalid_args"


def test_bounded_lists_stop_before_the_output_budget() -> None:
    item = DeviceSummary(
        sys_path="/sys/devices/" + "x" * 2000,
        sys_name="x",
        subsystem="block",
        device_type=None,
        driver=None,
        device_node=None,
    )
    kept, is_truncated = bounded([item] * 100, limit=100)
    assert 0 < len(kept) < 100 and is_truncated


# --- info --------------------------------------------------------------------------------


async def test_info_by_class_path_resolves_to_the_device_and_reads_its_attributes(
    registry: ToolRegistry,
) -> None:
    name = needs_block_devices()[0]
    output = await call(registry, "info", sys_path=f"/sys/class/block/{name}")
    device = output["device"]
    assert isinstance(device, dict)
    real = (CLASS_BLOCK / name).resolve()
    assert device["sys_path"] == str(real) and device["sys_name"] == name
    properties = output["properties"]
    assert isinstance(properties, dict) and properties["SUBSYSTEM"] == "block"
    attributes = {str(item["name"]): item for item in records(output, "attributes")}
    size = (CLASS_BLOCK / name / "size").read_text().strip()
    assert attributes["size"]["value"] == size and attributes["size"]["encoding"] == "text"
    assert "uevent" not in attributes


async def test_info_lists_parents_nearest_first(registry: ToolRegistry) -> None:
    name = needs_block_devices()[0]
    output = await call(registry, "info", subsystem="block", sys_name=name, max_attributes=0)
    device = output["device"]
    assert isinstance(device, dict)
    child = Path(str(device["sys_path"]))
    for parent in records(output, "parents"):
        parent_path = Path(str(parent["sys_path"]))
        assert child.is_relative_to(parent_path) and child != parent_path
        child = parent_path


async def test_info_reads_only_the_requested_attributes(registry: ToolRegistry) -> None:
    name = needs_block_devices()[0]
    output = await call(
        registry, "info", subsystem="block", sys_name=name, attributes=["size", "no_such_attr"]
    )
    assert [item["name"] for item in records(output, "attributes")] == ["size"]
    assert output["skipped_attributes"] == ["no_such_attr"]


async def test_info_caps_the_attribute_count(registry: ToolRegistry) -> None:
    name = needs_block_devices()[0]
    output = await call(registry, "info", subsystem="block", sys_name=name, max_attributes=2)
    assert len(records(output, "attributes")) == 2
    assert output["attributes_truncated"] is True


async def test_info_returns_short_binary_attributes_as_base64(registry: ToolRegistry) -> None:
    slots = names_in(PCI_DEVICES)
    if not slots:
        pytest.skip("this host has no PCI device")
    output = await call(registry, "info", subsystem="pci", sys_name=slots[0], attributes=["config"])
    (config,) = records(output, "attributes")
    assert config["encoding"] == "base64"
    raw = base64.b64decode(str(config["value"]))
    vendor = int((PCI_DEVICES / slots[0] / "vendor").read_text(), 16)
    assert int.from_bytes(raw[:2], "little") == vendor


@pytest.mark.parametrize(
    "sys_path", ["/sys/../etc", "/sys/class/../../etc/passwd", "/sys/../../../root"]
)
async def test_info_refuses_paths_that_escape_sys(registry: ToolRegistry, sys_path: str) -> None:
    assert (await fail(registry, "info", {"sys_path": sys_path})).error.code == "permission_denied"


@pytest.mark.parametrize(
    "args",
    [
        {"sys_path": "/sys/devices/no_such_device"},
        {"sys_path": "/sys/class/block/no_such_disk"},
        {"sys_path": "/sys/kernel"},
        {"sys_path": "/sys/devices"},
        {"sys_path": "/sys/"},
        {"subsystem": "block", "sys_name": "no_such_disk"},
    ],
)
async def test_info_of_a_missing_device_is_not_found(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "info", args)).error.code == "not_found"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"subsystem": "block"},
        {"sys_name": "vda"},
        {"sys_path": "/sys/class/block/vda", "subsystem": "block", "sys_name": "vda"},
        {"sys_path": "dev/sda"},
        {"sys_path": "-x"},
        {"sys_path": "/sys/class/block/vda\x00"},
        {"sys_path": "/sys/" + "a" * 5000},
        {"subsystem": "block", "sys_name": "-x"},
        {"subsystem": "block", "sys_name": "../vda"},
        {"subsystem": "block", "sys_name": "vda", "attributes": ["../../etc/passwd"]},
        {"subsystem": "block", "sys_name": "vda", "attributes": ["a"] * 65},
        {"subsystem": "block", "sys_name": "vda", "parent_depth": 99},
        {"subsystem": "block", "sys_name": "vda", "max_attributes": "many"},
    ],
)
async def test_info_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "info", args)).error.code == "invalid_args"


async def test_sysfs_that_does_not_answer_is_a_timeout() -> None:
    release = threading.Event()

    def hung_read(_: None) -> DeviceSummary:
        # A real blocking call standing in for a hung sysfs read, which cannot be made here.
        release.wait(5)
        return DeviceSummary.model_construct()

    tool = UdevTool(timeout_s=0.05)
    try:
        with pytest.raises(ToolFailed) as failure:
            await tool._off_loop(hung_read, None)
    finally:
        release.set()
    assert failure.value.code == "timeout"


# --- usb ---------------------------------------------------------------------------------


async def test_usb_lists_the_hosts_usb_devices(registry: ToolRegistry) -> None:
    # This host has no USB bus at all (/sys/bus/usb is absent): the list is empty.
    expected = [name for name in names_in(USB_DEVICES) if ":" not in name]
    output = await call(registry, "usb")
    assert len(records(output)) == len(expected)
    assert output["truncated"] is False


def write_attributes(directory: Path, attributes: dict[str, str]) -> None:
    for name, value in attributes.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(f"{value}\n")


def fake_facts(sys_path: Path, **fields: object) -> DeviceFacts:
    values: dict[str, object] = {
        "sys_path": sys_path,
        "sys_name": sys_path.name,
        "subsystem": None,
        "device_type": None,
        "driver": None,
        "device_node": None,
        "properties": {},
    }
    values.update(fields)
    return DeviceFacts(**values)  # type: ignore[arg-type]


def test_usb_summary_reads_a_usb_device_directory(tmp_path: Path) -> None:
    # No USB device exists here: a directory laid out like /sys/bus/usb/devices/1-1 stands in.
    device = tmp_path / "1-1"
    write_attributes(
        device,
        {
            "busnum": "1",
            "devnum": "4",
            "idVendor": "046d",
            "idProduct": "C52B",
            "manufacturer": "Logitech",
            "product": "USB Receiver",
            "speed": "12",
            "version": " 2.00",
            "bDeviceClass": "00",
        },
    )
    facts = fake_facts(device, subsystem="usb", device_type="usb_device", driver="usb")
    summary = usb_device(facts)
    assert (summary.bus_number, summary.device_number) == (1, 4)
    assert (summary.vendor_id, summary.product_id) == ("046d", "c52b")
    assert (summary.manufacturer, summary.product, summary.serial) == (
        "Logitech",
        "USB Receiver",
        None,
    )
    assert summary.speed_mbps == 12.0 and summary.usb_version == "2.00"
    assert summary.driver == "usb" and summary.vendor_name is None


# --- pci ---------------------------------------------------------------------------------


async def test_pci_lists_every_function_with_ids_from_sysfs(registry: ToolRegistry) -> None:
    slots = names_in(PCI_DEVICES)
    output = await call(registry, "pci")
    devices = records(output)
    assert [device["slot"] for device in devices] == slots
    for device in devices:
        directory = PCI_DEVICES / str(device["slot"])
        assert device["vendor_id"] == (directory / "vendor").read_text().strip()[2:]
        assert device["class_code"] == (directory / "class").read_text().strip()[2:]
        assert device["vendor_name"] is None or isinstance(device["vendor_name"], str)


def test_pci_summary_falls_back_to_attributes_without_uevent_properties(tmp_path: Path) -> None:
    device = tmp_path / "0000:00:1f.2"
    write_attributes(
        device,
        {
            "vendor": "0x8086",
            "device": "0x2922",
            "subsystem_vendor": "0x1af4",
            "subsystem_device": "0x1100",
            "class": "0x010601",
            "revision": "0x02",
        },
    )
    summary = pci_device(fake_facts(device, subsystem="pci", driver="ahci"))
    assert summary.slot == "0000:00:1f.2"
    assert (summary.vendor_id, summary.device_id) == ("8086", "2922")
    assert (summary.subsystem_vendor_id, summary.subsystem_device_id) == ("1af4", "1100")
    assert summary.class_code == "010601" and summary.class_name == "mass storage controller"
    assert summary.revision == "02" and summary.driver == "ahci"


# --- block -------------------------------------------------------------------------------


async def test_block_reports_where_the_root_filesystem_is_mounted(registry: ToolRegistry) -> None:
    major, minor = root_device_number()
    output = await call(registry, "block", include_empty=True, limit=500)
    matching = [d for d in records(output) if (d["major"], d["minor"]) == (major, minor)]
    if not matching:
        pytest.skip("/ is not on a block device of this host (overlay, tmpfs, ...)")
    (device,) = matching
    mounts = records(device, "mounts")
    assert "/" in [mount["mount_point"] for mount in mounts]
    sectors = int((CLASS_BLOCK / str(device["name"]) / "size").read_text())
    assert device["size_bytes"] == sectors * 512
    assert device["fs_type"] == mounts[0]["fs_type"]


async def test_block_hides_empty_devices_unless_asked(registry: ToolRegistry) -> None:
    names = needs_block_devices()
    everything = records(await call(registry, "block", include_empty=True, limit=500))
    assert sorted(str(device["name"]) for device in everything) == names
    non_empty = records(await call(registry, "block", limit=500))
    assert all(device["size_bytes"] for device in non_empty)
    assert len(non_empty) == sum(1 for device in everything if device["size_bytes"])


@pytest.mark.parametrize(
    "args", [{"name": "-x"}, {"name": "a/b"}, {"limit": -1}, {"include_empty": "maybe"}]
)
async def test_block_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "block", args)).error.code == "invalid_args"


def test_block_summaries_nest_partitions_under_their_disk(tmp_path: Path) -> None:
    # This host has no partitioned disk: a tree laid out like /sys/block/sda stands in.
    disk = tmp_path / "sda"
    write_attributes(
        disk,
        {
            "size": "2048",
            "ro": "0",
            "removable": "1",
            "queue/rotational": "0",
            "dev": "8:0",
            "device/model": "Flash Disk",
            "device/vendor": "ACME",
        },
    )
    write_attributes(disk / "sda1", {"size": "1024", "ro": "1", "dev": "8:1"})
    write_attributes(disk / "sda2", {"size": "512", "ro": "0", "dev": "8:2"})
    facts = [
        fake_facts(disk / "sda2", device_type="partition"),
        fake_facts(disk, device_type="disk", device_node="/dev/sda"),
        fake_facts(disk / "sda1", device_type="partition"),
    ]
    boot = MountEntry(8, 1, "/", "/boot", is_read_only=True, fs_type="vfat", source="/dev/sda1")
    devices = block_devices(facts, {(8, 1): [boot]})
    assert [device.name for device in devices] == ["sda", "sda1", "sda2"]
    sda, sda1, _ = devices
    assert sda.partitions == ["sda1", "sda2"] and sda.type == "disk" and sda.parent is None
    assert (sda.size_bytes, sda.removable, sda.rotational) == (2048 * 512, True, False)
    assert (sda.model, sda.vendor) == ("Flash Disk", "ACME")
    assert sda1.parent == "sda" and sda1.type == "partition" and sda1.read_only is True
    assert sda1.removable is True and sda1.model == "Flash Disk"
    assert [(m.mount_point, m.fs_type, m.read_only) for m in sda1.mounts] == [
        ("/boot", "vfat", True)
    ]
    assert sda1.fs_type == "vfat" and (sda1.major, sda1.minor) == (8, 1)


# --- mountinfo ---------------------------------------------------------------------------


def test_mountinfo_lines_parse_with_optional_fields_and_escapes() -> None:
    line = "36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:2 - ext3 /dev/root ro"
    entry = parse_mountinfo_line(line)
    assert entry == MountEntry(
        98, 0, "/mnt1", "/mnt/my disk", is_read_only=False, fs_type="ext3", source="/dev/root"
    )


def test_malformed_mountinfo_lines_are_skipped() -> None:
    text = "garbage\n27 1 254:0 / / ro,relatime - ext4 /dev/vda rw\n1 2 x:y / / rw - a b c\n"
    (entry,) = parse_mountinfo(text)
    assert entry.mount_point == "/" and entry.is_read_only


def _escape(path: str) -> str:
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40))
def test_mount_points_round_trip_through_mountinfo_escaping(mount_point: str) -> None:
    text = f"1 0 8:1 / {_escape(mount_point)} rw - ext4 /dev/sda1 rw\n"
    (entry,) = parse_mountinfo(text)
    assert entry.mount_point == mount_point


async def test_results_are_json_within_the_registry_cap(registry: ToolRegistry) -> None:
    for action, args in [("list", {"subsystem": "block"}), ("pci", {}), ("block", {})]:
        result = await registry.invoke("udev", action, args)
        assert isinstance(result, ToolOk), result
        assert len(TOOL_RESULT.dump_json(result)) < 64 * 1024
