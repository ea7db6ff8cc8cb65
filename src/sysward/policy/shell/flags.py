"""Reading the options of the few commands whose options decide how dangerous they are."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Options:
    """Short letters and long names given, and the operands (everything else)."""

    letters: frozenset[str]
    longs: frozenset[str]
    operands: tuple[str, ...]

    def has(self, letter: str, long: str) -> bool:
        return letter in self.letters or long in self.longs


def options(args: tuple[str, ...]) -> Options:
    """GNU-style options: `-rf` clusters, `--long[=value]`, `--` ends them."""
    letters: set[str] = set()
    longs: set[str] = set()
    operands: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            operands.extend(args[i + 1 :])
            break
        if arg.startswith("--"):
            longs.add(arg.split("=", 1)[0])
        elif arg.startswith("-") and len(arg) > 1:
            letters.update(arg[1:])
        else:
            operands.append(arg)
    return Options(frozenset(letters), frozenset(longs), tuple(operands))


def is_recursive(args: tuple[str, ...]) -> bool:
    given = options(args)
    return given.has("r", "--recursive") or given.has("R", "--recursive")
