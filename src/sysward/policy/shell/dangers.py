"""Dangerous patterns: allowed by no rule without an operator's approval.

A rule may say `allow` for a command name; these patterns make the same
command able to change the host or run code the policy cannot read, so an
`allow` becomes `ask` (a `deny` stays a deny).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from sysward.policy.shell.flags import is_recursive, options
from sysward.policy.shell.model import Finding, ShellAnalysis, SimpleCommand
from sysward.policy.shell.paths import is_harmless_target
from sysward.policy.shell.wrappers import FIND_EXEC, SHELLS, reads_script_from_stdin

DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c", "nc", "ncat", "socat"})
_INTERPRETER = re.compile(r"(python|perl|ruby|node|nodejs|php|lua|tclsh|pwsh|Rscript)[\d.]*")
_INLINE_PROGRAM = frozenset({"-c", "-e", "-E", "-r", "--eval", "--command"})
_FIND_WRITES = FIND_EXEC | {"-delete", "-fprint", "-fprint0", "-fprintf", "-fls"}
# Commands xargs may feed arguments to without changing anything.
XARGS_READERS = frozenset({
    "cat", "head", "tail", "grep", "egrep", "fgrep", "zgrep", "ls", "stat", "file", "wc",
    "echo", "printf", "md5sum", "sha1sum", "sha256sum", "sha512sum", "du", "readlink",
    "realpath", "basename", "dirname", "getent", "dig", "host",
})  # fmt: skip
_LOADER_VARIABLE = re.compile(
    r"(LD_[A-Z_]+|PATH|BASH_ENV|ENV|IFS|PROMPT_COMMAND|SHELLOPTS|BASHOPTS|PS4|"
    r"PYTHONPATH|PYTHONSTARTUP|PERL5LIB|PERL5OPT|NODE_OPTIONS|GCONV_PATH)="
)


# Options that turn an inspection command into a change (letters, long names).
_CHANGING_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "journalctl": (
        "",
        ("--vacuum-size", "--vacuum-time", "--vacuum-files", "--rotate", "--flush", "--sync",
         "--setup-keys", "--relinquish-var", "--smart-relinquish-var", "--update-catalog"),
    ),
    "dmesg": ("cCDEn", ("--clear", "--read-clear", "--console-off", "--console-on",
                        "--console-level")),
    "ss": ("K", ("--kill",)),
    "date": ("s", ("--set",)),
    "hostname": ("bF", ("--boot", "--file")),
    "file": ("C", ("--compile",)),
}  # fmt: skip


def is_interpreter(name: str) -> bool:
    return name in SHELLS or _INTERPRETER.fullmatch(name) is not None


def dangers(analysis: ShellAnalysis) -> list[Finding]:
    """Every dangerous pattern in the analysed command line, each named once."""
    found = {finding.reason: finding for finding in _downloads_run(analysis)}
    for command in analysis.commands:
        for check in _CHECKS:
            for reason in check(command):
                found.setdefault(reason, Finding(reason, command.label))
    return list(found.values())


def _downloads_run(analysis: ShellAnalysis) -> Iterator[Finding]:
    stages: dict[int, list[SimpleCommand]] = {}
    for command in analysis.commands:
        if command.pipeline is not None:
            stages.setdefault(command.pipeline, []).append(command)
    for commands in stages.values():
        downloads = [c.stage for c in commands if c.name in DOWNLOADERS]
        for command in commands:
            if downloads and is_interpreter(command.name) and command.stage > min(downloads):
                yield Finding(f"a download is piped into {command.name}", command.label)


def _redirections(command: SimpleCommand) -> Iterator[str]:
    for redirect in command.redirects:
        if redirect.is_write and not is_harmless_target(redirect.target):
            yield f"output is written to the file {redirect.target}"


def _file_writers(command: SimpleCommand) -> Iterator[str]:
    given = options(command.args)
    if command.name == "tee":
        for path in given.operands:
            if not is_harmless_target(path):
                yield f"tee writes to the file {path}"
    elif command.name == "find" and _FIND_WRITES & set(command.args):
        flag = sorted(_FIND_WRITES & set(command.args))[0]
        yield f"find {flag} runs commands or changes files"
    elif command.name == "sed" and given.has("i", "--in-place"):
        yield "sed -i edits files in place"
    elif command.name == "sort" and given.has("o", "--output"):
        yield "sort -o writes a file"
    elif command.name == "uniq" and len(given.operands) > 1:
        yield f"uniq writes its output file {given.operands[1]}"
    elif command.name == "dd" and any(a.startswith("of=") for a in command.args):
        yield "dd writes a file"


def _runs_unseen_code(command: SimpleCommand) -> Iterator[str]:
    name = command.name
    if name == "eval":
        yield "eval runs a string as a command line"
    elif name in ("source", "."):
        yield f"{name} runs a script file the policy cannot read"
    elif command.is_name_computed:
        yield f"the command name {command.argv[0]} is only known at run time"
    elif reads_script_from_stdin(command) and command.stage > 0:
        yield f"text is piped into {name} and run as a script"
    elif name not in SHELLS and is_interpreter(name):
        if _INLINE_PROGRAM & set(command.args) or command.computed:
            yield f"{name} runs a program the policy cannot read"
    elif name in ("awk", "gawk", "mawk", "nawk") and _awk_can_act(command.args):
        yield f"the {name} program can run commands or write files"


def _awk_can_act(args: tuple[str, ...]) -> bool:
    if any(a.startswith("-f") or a.startswith("--file") for a in args):
        return True
    return any(re.search(r"system|\||>|getline", a) for a in args if not a.startswith("-"))


def _changes_host(command: SimpleCommand) -> Iterator[str]:
    if command.name == "crontab":
        yield "crontab changes scheduled jobs"
    if command.name in _CHANGING_OPTIONS:
        letters, longs = _CHANGING_OPTIONS[command.name]
        given = options(command.args)
        changing = [f"-{c}" for c in sorted(given.letters & set(letters))]
        changing += sorted(given.longs & set(longs))
        if changing or (command.name == "hostname" and given.operands):
            yield f"{command.name} {' '.join(changing) or 'NAME'} changes the host"
    if command.via == "xargs" and command.name not in XARGS_READERS:
        yield f"xargs runs {command.name or command.argv[0]} on input the policy cannot see"
    if command.name == "rm" and is_recursive(command.args):
        computed = [a for i, a in enumerate(command.args) if command.is_arg_computed(i)]
        if computed:
            yield f"recursive rm of a path only known at run time ({computed[0]})"
    environment = command.assignments
    if command.name in ("env", "sudo"):
        environment = environment + command.args
    for assignment in environment:
        if _LOADER_VARIABLE.match(assignment):
            yield f"{assignment.split('=', 1)[0]} is set, changing what code runs"


_CHECKS: tuple[Callable[[SimpleCommand], Iterator[str]], ...] = (
    _redirections,
    _file_writers,
    _runs_unseen_code,
    _changes_host,
)
