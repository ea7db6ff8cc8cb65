"""A private, real ``dbus-daemon`` for tests, and a small D-Bus service exported on it.

The daemon listens on a socket in tmp_path with a config of our own: anyone
may own and call anything, except that calls to ``org.sysward.Forbidden`` are
denied (a real AccessDenied). ``org.sysward.Activatable`` has a service file,
so it is listed as activatable without running.
"""

# No `from __future__ import annotations`: dbus-fast reads the D-Bus signatures from
# the evaluated annotations of the service methods.

import asyncio
import contextlib
import select
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated

import pytest
from dbus_fast import DBusError, PropertyAccess, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBytes,
    DBusDict,
    DBusInt32,
    DBusInt64,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt32,
    DBusVariant,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

SERVICE = "org.sysward.Test"
FORBIDDEN = "org.sysward.Forbidden"
ACTIVATABLE = "org.sysward.Activatable"
PATH = "/org/sysward/Test"
INTERFACE = "org.sysward.Test"
START_TIMEOUT_S = 5.0

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <deny send_destination="{forbidden}"/>
  </policy>
</busconfig>
"""

Pair = Annotated[tuple[str, dict[int, str]], DBusSignature("(sa{us})")]
StrMap = Annotated[dict[str, str], DBusSignature("a{ss}")]
StrList = Annotated[list[str], DBusSignature("as")]


class SampleInterface(ServiceInterface):
    """Methods with assorted signatures, two properties, a signal, and a method that fails."""

    def __init__(self) -> None:
        super().__init__(INTERFACE)
        self.count = 7
        self.calls: list[str] = []
        self.is_hanging = asyncio.Event()

    @dbus_method()
    def Echo(self, text: DBusStr) -> DBusStr:
        self.calls.append("Echo")
        return text

    @dbus_method()
    def Add(self, a: DBusInt32, b: DBusInt32) -> DBusInt64:
        return a + b

    @dbus_method()
    def Reverse(self, data: DBusBytes) -> DBusBytes:
        return data[::-1]

    @dbus_method()
    def Describe(self, options: DBusDict) -> StrMap:
        """The signature of each option's variant value."""
        return {key: value.signature for key, value in options.items()}

    @dbus_method()
    def Wrap(self, value: DBusVariant) -> DBusVariant:
        return Variant("(sv)", ["wrapped", value])

    @dbus_method()
    def Identity(self, value: DBusVariant) -> DBusVariant:
        return value

    @dbus_method()
    def Swap(self, pair: Pair) -> Pair:
        name, table = pair
        return (name[::-1], {key + 1: text for key, text in table.items()})

    @dbus_method()
    def Many(self, count: DBusUInt32) -> StrList:
        return [str(index) for index in range(count)]

    @dbus_method()
    def Path(self) -> DBusObjectPath:
        return PATH + "/child"

    @dbus_method()
    def Fail(self) -> None:
        raise DBusError("org.sysward.Test.Error.Broken", "it broke on purpose")

    @dbus_method()
    async def Hang(self) -> None:
        self.is_hanging.set()
        await asyncio.Event().wait()  # never replies: the caller's timeout must fire

    @dbus_property(access=PropertyAccess.READ)
    def Label(self) -> DBusStr:
        return "sample"

    @dbus_property()
    def Count(self) -> DBusUInt32:
        return self.count

    @Count.setter
    def Count(self, value: DBusUInt32) -> None:
        self.count = value

    @dbus_signal()
    def Changed(self) -> DBusStr:
        return "changed"


class DBusDaemon:
    """A running ``dbus-daemon``; ``address`` is what clients connect to."""

    def __init__(self, process: subprocess.Popen[str], address: str) -> None:
        self.process = process
        self.address = address

    def stop(self) -> None:
        """Terminate the daemon and reap it (bounded)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=START_TIMEOUT_S)


def start_dbus_daemon(root: Path) -> DBusDaemon:
    """Start a private bus in ``root``; returns once it prints its address (it listens then)."""
    binary = shutil.which("dbus-daemon")
    if binary is None:
        pytest.skip("dbus-daemon is not installed (make deps-system installs package dbus)")
    services = root / "services"
    services.mkdir(parents=True, exist_ok=True)
    (root / "bus").unlink(missing_ok=True)  # left by an earlier daemon in this root
    (services / f"{ACTIVATABLE}.service").write_text(
        f"[D-BUS Service]\nName={ACTIVATABLE}\nExec=/bin/false\n"
    )
    config = root / "bus.conf"
    config.write_text(_CONFIG.format(socket=root / "bus", services=services, forbidden=FORBIDDEN))
    with (root / "daemon.log").open("w") as log:
        process = subprocess.Popen(
            [binary, f"--config-file={config}", "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    daemon = DBusDaemon(process, "")
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
    daemon.address = process.stdout.readline().strip() if ready else ""
    if not daemon.address:
        daemon.stop()
        pytest.fail(f"dbus-daemon printed no address within {START_TIMEOUT_S} s")
    return daemon


@pytest.fixture
def dbus_daemon(tmp_path: Path) -> Iterator[DBusDaemon]:
    """A private dbus-daemon, stopped after the test even when it fails."""
    daemon = start_dbus_daemon(tmp_path / "dbus")
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
async def sample_service(dbus_daemon: DBusDaemon) -> AsyncIterator[SampleInterface]:
    """``SampleInterface`` exported at PATH (and a child object) as org.sysward.Test.

    org.sysward.Forbidden is owned by a second connection: the bus policy denies
    sending to any name a connection owns, so it must not share one with the service.
    """
    bus = await MessageBus(bus_address=dbus_daemon.address).connect()
    forbidden = await MessageBus(bus_address=dbus_daemon.address).connect()
    try:
        sample = SampleInterface()
        bus.export(PATH, sample)
        bus.export(PATH + "/child", SampleInterface())
        forbidden.export(PATH, SampleInterface())
        await bus.request_name(SERVICE)
        await forbidden.request_name(FORBIDDEN)
        yield sample
    finally:
        for connection in (bus, forbidden):
            connection.disconnect()
            # A test may have stopped the daemon under us: the bus then ended with EOFError.
            with contextlib.suppress(EOFError, OSError):
                async with asyncio.timeout(START_TIMEOUT_S):
                    await connection.wait_for_disconnect()
