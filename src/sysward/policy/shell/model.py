"""What a shell command line is made of, as the policy sees it."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

# Redirection operators that open their target for writing.
WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})


@dataclass(frozen=True, slots=True)
class Redirect:
    """One redirection: `op` as written, `target` a file name or `&N` for a descriptor."""

    op: str
    target: str
    is_computed: bool = False

    @property
    def is_write(self) -> bool:
        return self.op in WRITE_OPS and not self.target.startswith("&")


@dataclass(frozen=True, slots=True)
class HereDoc:
    """A here-document or here-string fed to a command's standard input."""

    command: str
    body: str
    is_expanding: bool


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """One command that would run: its argv after leading `VAR=value` assignments.

    `via` says how it was reached (`None` at top level, else e.g. `sudo`, `$(…)`,
    `bash -c`, `find -exec`); `computed` holds the argv indexes whose value is only
    known at run time (parameter or command substitution, globs in the name).
    """

    argv: tuple[str, ...]
    assignments: tuple[str, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    computed: frozenset[int] = frozenset()
    via: str | None = None
    depth: int = 0
    pipeline: int | None = None
    stage: int = 0
    is_background: bool = False
    function: str | None = None
    cwd: str | None = None

    @property
    def text(self) -> str:
        """The argv joined with single spaces: what rule globs are matched against."""
        return " ".join(self.argv)

    @property
    def label(self) -> str:
        """How the command is named to an operator (a bare `> file` has no argv)."""
        shown = [*self.assignments, *self.argv] or [f"{r.op} {r.target}" for r in self.redirects]
        return " ".join(shown)

    @property
    def name(self) -> str:
        """The command name without its directory (`/bin/rm` → `rm`)."""
        return posixpath.basename(self.argv[0]) if self.argv else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]

    @property
    def is_name_computed(self) -> bool:
        return 0 in self.computed

    def is_arg_computed(self, index: int) -> bool:
        """Whether `args[index]` is only known at run time."""
        return index + 1 in self.computed


@dataclass(frozen=True, slots=True)
class ShellAnalysis:
    """Everything a command line would run, and what could not be seen.

    `parse_error` is set when the line could not be parsed at all; `unanalysed`
    names the pieces that were parsed but whose content stays unknown (a script
    computed at run time, nesting past the depth bound, an unparseable `bash -c`).
    """

    source: str
    commands: tuple[SimpleCommand, ...] = ()
    heredocs: tuple[HereDoc, ...] = ()
    unanalysed: tuple[str, ...] = ()
    parse_error: str | None = None
    functions: tuple[str, ...] = field(default=())

    @property
    def is_fully_analysed(self) -> bool:
        return self.parse_error is None and not self.unanalysed


@dataclass(frozen=True, slots=True)
class Finding:
    """A hard block or a dangerous pattern, and the command it was found in."""

    reason: str
    command: str
