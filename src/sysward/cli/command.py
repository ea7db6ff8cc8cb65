"""What a CLI command is: a handler given a Context, registered on a CommandSet."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

from sysward.control.client import ControlClient


class Context(NamedTuple):
    """What every command gets: the daemon's client and whether to print JSON."""

    client: ControlClient
    is_json: bool


Handler = Callable[[Context, argparse.Namespace], int]


class CommandSet:
    """A level of subcommands; every command also accepts the global options."""

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        common: argparse.ArgumentParser,
    ) -> None:
        self._subparsers = subparsers
        self._common = common

    def add(self, name: str, handler: Handler, summary: str) -> argparse.ArgumentParser:
        """A command `name`; its parser is returned for the command's own arguments."""
        parser = self._parser(name, summary)
        parser.set_defaults(handler=handler)
        return parser

    def group(self, name: str, summary: str) -> CommandSet:
        """A command with subcommands of its own (`agent create`, `log verify`)."""
        parser = self._parser(name, summary)
        subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
        return CommandSet(subparsers, self._common)

    def _parser(self, name: str, summary: str) -> argparse.ArgumentParser:
        return self._subparsers.add_parser(
            name, help=summary, description=summary, parents=[self._common]
        )
