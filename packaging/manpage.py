"""Man pages syswardd(8) and sysward(1), rendered from the programs' real argparse parsers.

`python packaging/manpage.py OUT_DIR` writes OUT_DIR/man8/syswardd.8 and
OUT_DIR/man1/sysward.1 with the sysward that this python imports, so an option
added to a parser is in the page of the next build. Only the prose that no
parser knows (files, environment, signals, exit codes) is written here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sysward import __version__
from sysward.cli import main as cli_main
from sysward.config import DEFAULT_CONFIG_PATH, DEFAULT_SOCKET, DEFAULT_STATE_DIR
from sysward.control.client import SOCKET_ENV
from sysward.daemon.main import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from sysward.daemon.main import build_parser as build_daemon_parser

# Options every sysward command accepts; listed once under OPTIONS, not per command.
GLOBAL_OPTIONS = frozenset({"-h", "--help", "--socket", "--json"})


@dataclass(frozen=True, slots=True)
class Page:
    """One man page: a parser plus the sections only people can write."""

    parser: argparse.ArgumentParser
    section: int
    summary: str
    sections: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return self.parser.prog

    @property
    def filename(self) -> str:
        return f"man{self.section}/{self.name}.{self.section}"


def escape(text: str) -> str:
    """Text as roff: backslashes and dashes escaped, no line read as a request."""
    lines = text.replace("\\", "\\e").replace("-", "\\-").splitlines()
    return "\n".join(f"\\&{line}" if line.startswith((".", "'")) else line for line in lines)


def render(page: Page) -> str:
    parser = page.parser
    title = f'.TH {page.name.upper()} {page.section} "" "sysward {__version__}" "sysward"'
    # No hyphenation: option and variable names must stay whole for copy and paste.
    out = [title, ".nh", ".SH NAME", f"{page.name} \\- {escape(page.summary)}"]
    out += [".SH SYNOPSIS", _usage(parser, skip=frozenset())]
    out += [".SH DESCRIPTION", escape(parser.description or page.summary)]
    out += [".SH OPTIONS", *_options(parser, skip=frozenset())]
    commands = list(_commands(parser, page.name))
    if commands:
        out += [".SH COMMANDS", *commands]
    for heading, body in page.sections:
        out += [f".SH {heading}", body]
    return "\n".join(out) + "\n"


def _usage(parser: argparse.ArgumentParser, *, skip: frozenset[str]) -> str:
    actions = [action for action in parser._actions if not _skipped(action, skip)]
    formatter = parser._get_formatter()
    usage = formatter._format_actions_usage(actions, parser._mutually_exclusive_groups)
    return f"\\fB{escape(parser.prog)}\\fR {escape(usage)}".rstrip()


def _skipped(action: argparse.Action, skip: frozenset[str]) -> bool:
    return bool(skip.intersection(action.option_strings))


def _options(parser: argparse.ArgumentParser, *, skip: frozenset[str]) -> list[str]:
    formatter = parser._get_formatter()
    lines: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or _skipped(action, skip):
            continue
        # Positionals without help are already named in the synopsis.
        if action.help == argparse.SUPPRESS or not (action.help or action.option_strings):
            continue
        invocation = formatter._format_action_invocation(action)
        text = formatter._expand_help(action) if action.help else ""
        lines += [".TP", f".B {escape(invocation)}", escape(text)]
    return lines


def _commands(parser: argparse.ArgumentParser, prefix: str) -> Iterable[str]:
    """Every leaf command (`sysward agent create`), its summary and its own options."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, subparser in action.choices.items():
            if any(isinstance(a, argparse._SubParsersAction) for a in subparser._actions):
                yield from _commands(subparser, f"{prefix} {name}")
                continue
            yield from _command(subparser, summaries[name])


def _command(parser: argparse.ArgumentParser, summary: str) -> list[str]:
    lines = [".TP", _usage(parser, skip=GLOBAL_OPTIONS), escape(summary)]
    options = _options(parser, skip=GLOBAL_OPTIONS)
    if options:
        lines += [".RS", *options, ".RE"]
    return lines


def _table(rows: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f".TP\n.B {escape(term)}\n{escape(text)}" for term, text in rows)


def daemon_page() -> Page:
    sections = (
        ("SIGNALS", _table(daemon_signals())),
        ("ENVIRONMENT", _table(daemon_environment())),
        ("FILES", _table(FILES)),
        ("EXIT STATUS", _table(daemon_exit_codes())),
        ("SEE ALSO", "\\fBsysward\\fR(1), \\fBsystemctl\\fR(1), \\fBsd_notify\\fR(3)"),
    )
    summary = "the sysward daemon: durable LLM agents for a Linux server"
    return Page(build_daemon_parser(), 8, summary, sections)


def cli_page() -> Page:
    sections = (
        ("ENVIRONMENT", _table(cli_environment())),
        ("FILES", _table(FILES[-1:])),
        ("EXIT STATUS", _table(cli_exit_codes())),
        ("SEE ALSO", "\\fBsyswardd\\fR(8)"),
    )
    summary = "control the sysward daemon over its Unix socket"
    return Page(cli_main.build_parser(), 1, summary, sections)


def daemon_signals() -> list[tuple[str, str]]:
    return [
        (
            "SIGTERM, SIGINT",
            "stop: refuse new work, let in-flight steps become durable "
            "(at most --stop-timeout seconds), then exit 0",
        ),
        (
            "SIGHUP",
            "re-read the config file and roles; a rejected file keeps the running "
            "configuration and is logged",
        ),
    ]


def daemon_environment() -> list[tuple[str, str]]:
    return [
        ("SYSWARD_CONFIG", f"config file when --config is not given ({DEFAULT_CONFIG_PATH})"),
        (
            "NOTIFY_SOCKET, WATCHDOG_USEC",
            "set by systemd: readiness, status and watchdog pings (every WATCHDOG_USEC/2) go there",
        ),
        ("LISTEN_FDS, LISTEN_PID", "set by systemd (sysward.socket): serve the passed socket"),
    ]


def cli_environment() -> list[tuple[str, str]]:
    return [(SOCKET_ENV, f"the control socket (default {DEFAULT_SOCKET})")]


FILES = (
    (str(DEFAULT_CONFIG_PATH), "the configuration (TOML), validated at start"),
    ("/etc/sysward/roles/", "site roles; a file there overrides the packaged role of its name"),
    ("/usr/share/sysward/roles/", "packaged roles: default (read-only) and sysadmin"),
    (f"{DEFAULT_STATE_DIR}/", "the event log (events/) and its signing key (keys/)"),
    (str(DEFAULT_SOCKET), "the control socket (mode 0660, group sysward)"),
)


def daemon_exit_codes() -> list[tuple[str, str]]:
    return [
        (str(EXIT_OK), "stopped by a signal after a clean drain"),
        (str(EXIT_FAILED), "could not start (the log says why) or the server failed"),
        (str(EXIT_INTERRUPTED), "interrupted before the daemon was running"),
    ]


def cli_exit_codes() -> list[tuple[str, str]]:
    return [
        (str(cli_main.EXIT_OK), "success"),
        (str(cli_main.EXIT_FAILED), "the daemon reported a failure"),
        (str(cli_main.EXIT_USAGE), "usage error"),
        (
            str(cli_main.EXIT_UNREACHABLE),
            "the daemon is unreachable (the message names the socket and how to start the daemon)",
        ),
        (str(cli_main.EXIT_PERMISSION), "permission denied (not root, not in allowed_groups)"),
    ]


def write_pages(out_dir: Path) -> list[Path]:
    written = []
    for page in (daemon_page(), cli_page()):
        path = out_dir / page.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(page), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: manpage.py OUT_DIR  (writes man8/syswardd.8, man1/sysward.1)\n")
        return 2
    for path in write_pages(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
