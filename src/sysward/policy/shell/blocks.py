"""Hard blocks: commands no rule can allow, because they destroy the host.

Each check looks at one `SimpleCommand` (wrappers already unwrapped, nested
scripts already parsed), so `sudo rm -rf /`, `bash -c 'rm -rf /'` and
`$(echo rm) -rf /` are all seen.
"""

from __future__ import annotations

from collections.abc import Callable

from sysward.policy.shell.flags import is_recursive, options
from sysward.policy.shell.model import Finding, ShellAnalysis, SimpleCommand
from sysward.policy.shell.paths import is_block_device, is_system_path
from sysward.policy.shell.wrappers import FIND_EXEC

_FILESYSTEM_WIPERS = frozenset({"mke2fs", "wipefs", "blkdiscard"})
_PERMISSIONS = frozenset({"chmod", "chown", "chgrp"})


def hard_blocks(analysis: ShellAnalysis) -> list[Finding]:
    """Every hard block in the analysed command line (empty: none)."""
    found: list[Finding] = []
    for command in analysis.commands:
        for check in _CHECKS:
            reason = check(command)
            if reason is not None:
                found.append(Finding(f"hard block: {reason}", command.label))
    return found


def _system_targets(command: SimpleCommand, operands: tuple[str, ...]) -> list[str]:
    """The operands that are system directories, relative ones named with their cwd."""
    return [
        path if path.startswith(("/", "~")) else f"{path} in {command.cwd}"
        for path in operands
        if is_system_path(path, command.cwd)
    ]


def _recursive_removal(command: SimpleCommand) -> str | None:
    if command.name != "rm":
        return None
    given = options(command.args)
    if "--no-preserve-root" in given.longs:
        return "rm --no-preserve-root"
    targets = _system_targets(command, given.operands)
    if is_recursive(command.args) and targets:
        return f"recursive rm of the system directory {targets[0]}"
    return None


def _recursive_permissions(command: SimpleCommand) -> str | None:
    if command.name not in _PERMISSIONS or not is_recursive(command.args):
        return None
    targets = _system_targets(command, options(command.args).operands)
    if targets:
        return f"recursive {command.name} of the system directory {targets[0]}"
    return None


def _find_deleting_system(command: SimpleCommand) -> str | None:
    if command.name != "find":
        return None
    starts: list[str] = []
    for arg in command.args:
        if arg.startswith(("-", "(", "!")):
            break
        starts.append(arg)
    targets = _system_targets(command, tuple(starts))
    deletes = "-delete" in command.args or any(
        arg in FIND_EXEC and i + 1 < len(command.args) and command.args[i + 1] in ("rm", "shred")
        for i, arg in enumerate(command.args)
    )
    if targets and deletes:
        return f"find deleting under the system directory {targets[0]}"
    return None


def _disk_writer(command: SimpleCommand) -> str | None:
    name, args = command.name, command.args
    if name.startswith("mkfs") or name in _FILESYSTEM_WIPERS:
        return f"{name} destroys filesystems"
    devices = [a for a in args if is_block_device(a)]
    if name in ("shred", "tee") and devices:
        return f"{name} writes to the block device {devices[0]}"
    if name == "dd":
        outputs = [a[3:] for a in args if a.startswith("of=") and is_block_device(a[3:])]
        if outputs:
            return f"dd writes to the block device {outputs[0]}"
    for redirect in command.redirects:
        if redirect.is_write and is_block_device(redirect.target):
            return f"redirection writes to the block device {redirect.target}"
    return None


def _computed_destroyer(command: SimpleCommand) -> str | None:
    if not command.is_name_computed:
        return None
    given = options(command.args)
    looks_destructive = (
        "--no-preserve-root" in given.longs
        or (is_recursive(command.args) and bool(_system_targets(command, given.operands)))
        or any(is_block_device(a) or is_block_device(a.removeprefix("of=")) for a in command.args)
    )
    if looks_destructive:
        return f"a command computed at run time ({command.argv[0]}) with destructive arguments"
    return None


def _fork_bomb(command: SimpleCommand) -> str | None:
    calls_itself = command.function is not None and command.argv[:1] == (command.function,)
    if calls_itself and (command.pipeline is not None or command.is_background):
        return f"fork bomb: function {command.function} starts copies of itself"
    return None


_CHECKS: tuple[Callable[[SimpleCommand], str | None], ...] = (
    _recursive_removal,
    _recursive_permissions,
    _find_deleting_system,
    _disk_writer,
    _computed_destroyer,
    _fork_bomb,
)
