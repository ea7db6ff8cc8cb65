"""Commands that run other commands: wrappers to unwrap, script strings to parse.

`sudo -u www rm x` runs `rm x`; `bash -c 'rm x'` and `eval rm x` run the script
`rm x`; `find . -exec rm {} ;` runs `rm {}`. The policy checks what really runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sysward.policy.shell.model import SimpleCommand

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")

_SHELL_OPTION = re.compile(r"[-+][A-Za-z]+|--[a-z][a-z-]*")
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh"})


@dataclass(frozen=True, slots=True)
class Wrapper:
    """How a wrapper's own options look, so the wrapped command can be found."""

    takes_value: frozenset[str] = frozenset()
    operands: int = 0
    allows_assignments: bool = False
    runs_nothing: frozenset[str] = frozenset()


def _wrapper(
    takes_value: str = "", operands: int = 0, *, assigns: bool = False, runs_nothing: str = ""
) -> Wrapper:
    return Wrapper(
        frozenset(takes_value.split()), operands, assigns, frozenset(runs_nothing.split())
    )


WRAPPERS: dict[str, Wrapper] = {
    "sudo": _wrapper(
        "-u -g -C -D -h -p -r -t -U -T --user --group --chdir --host --prompt --role --type "
        "--other-user --close-from --command-timeout",
        assigns=True,
        runs_nothing="-l -v -k -K --list --validate",
    ),
    "doas": _wrapper("-u -C"),
    "env": _wrapper("-u -C -S --unset --chdir --split-string", assigns=True),
    "nice": _wrapper("-n --adjustment"),
    "ionice": _wrapper("-c -n --class --classdata", runs_nothing="-p -P -u --pid --pgid --uid"),
    "timeout": _wrapper("-s -k --signal --kill-after", operands=1),
    "xargs": _wrapper(
        "-a -d -E -I -L -n -P -s --arg-file --delimiter --max-args --max-procs --max-chars "
        "--max-lines --process-slot-var"
    ),
    "command": _wrapper(runs_nothing="-v -V"),
    "builtin": _wrapper(),
    "exec": _wrapper("-a"),
    "nohup": _wrapper(),
    "time": _wrapper("-o -f --output --format"),
    "stdbuf": _wrapper("-i -o -e --input --output --error"),
    "setsid": _wrapper(),
    "chroot": _wrapper("--userspec --groups", operands=1),
    "nsenter": _wrapper("-t -S -G --target --setuid --setgid --wd"),
    "unbuffer": _wrapper(),
    "busybox": _wrapper(),
    "chrt": _wrapper(operands=1, runs_nothing="-p --pid"),
    "taskset": _wrapper(operands=1, runs_nothing="-p --pid"),
}


def wrapped_command_start(argv: tuple[str, ...]) -> int | None:
    """The index in `argv` where the command run by the wrapper `argv[0]` starts."""
    spec = WRAPPERS.get(argv[0].rsplit("/", 1)[-1]) if argv else None
    if spec is None:
        return None
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg in spec.runs_nothing:
            return None
        if arg.startswith("-") and len(arg) > 1:
            i += 2 if arg in spec.takes_value else 1
        elif spec.allows_assignments and _ASSIGNMENT.match(arg):
            i += 1
        else:
            break
    i += spec.operands
    return i if i < len(argv) else None


def _shell_script_index(argv: tuple[str, ...]) -> tuple[bool, int]:
    """For a shell's argv: (has -c, index of its first operand)."""
    has_c = False
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-o", "+o", "-O", "+O"):
            i += 2
            continue
        if arg == "--":
            return has_c, i + 1
        # Only a well-formed option is skipped; anything else is taken as the script,
        # so a malformed line is analysed rather than waved through.
        if _SHELL_OPTION.fullmatch(arg):
            has_c = has_c or (not arg.startswith("--") and "c" in arg[1:])
            i += 1
            continue
        break
    return has_c, i


def reads_script_from_stdin(command: SimpleCommand) -> bool:
    """A shell with neither `-c` nor a script file runs whatever arrives on stdin."""
    if command.name not in SHELLS:
        return False
    has_c, operand = _shell_script_index(command.argv)
    return not has_c and (operand >= len(command.argv) or "-s" in command.argv)


def _option_value(argv: tuple[str, ...], short: str, long: str) -> int | None:
    for i, arg in enumerate(argv[1:], start=1):
        if arg in (short, long) and i + 1 < len(argv):
            return i + 1
    return None


@dataclass(frozen=True, slots=True)
class Script:
    """A script string a command runs: `text` is parsed again as a command line."""

    via: str
    text: str
    is_computed: bool


def script_of(command: SimpleCommand) -> Script | None:
    """The script string run by `bash -c S`, `su -c S`, `env -S S` or `eval ARGS`."""
    argv, name = command.argv, command.name
    index: int | None = None
    if name in SHELLS:
        has_c, operand = _shell_script_index(argv)
        index = operand if has_c and operand < len(argv) else None
    elif name in ("su", "runuser"):
        index = _option_value(argv, "-c", "--command")
    elif name == "env":
        index = _option_value(argv, "-S", "--split-string")
    elif name == "eval" and len(argv) > 1:
        computed = any(command.is_arg_computed(i) for i in range(len(command.args)))
        return Script("eval", " ".join(command.args), computed)
    if index is None:
        return None
    return Script(f"{name} {argv[index - 1]}", argv[index], index in command.computed)


FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def find_exec_commands(command: SimpleCommand) -> list[tuple[int, int]]:
    """The argv slices `find … -exec CMD ;` runs, as (start, end) indexes."""
    if command.name != "find":
        return []
    slices: list[tuple[int, int]] = []
    i = 1
    while i < len(command.argv):
        if command.argv[i] in FIND_EXEC:
            end = i + 1
            while end < len(command.argv) and command.argv[end] not in (";", "+"):
                end += 1
            if end > i + 1:
                slices.append((i + 1, end))
            i = end
        i += 1
    return slices
