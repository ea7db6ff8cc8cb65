"""The function names offered in native mode (`<tool>_<action>`) and the way back.

Names are built from the offered ToolSpecs and mapped back through the same
table, so a tool or action containing `_` (`crypto_generate_key`) still resolves;
names that would collide or break the OpenAI name rules are made unique and valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from sysward.llm.messages import ToolSpec

MAX_NAME_CHARS = 64
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_FOLDED_SEPARATORS = re.compile(r"[^a-z0-9]+")


def function_name(tool: str, action: str) -> str:
    """The default function name of a (tool, action): `systemd_status`."""
    name = _INVALID_CHARS.sub("_", f"{tool}_{action}")
    return name[:MAX_NAME_CHARS]


def fold_name(name: str) -> str:
    """A lenient form of a name: `Systemd.Status`, `systemd:status` → `systemd_status`."""
    return _FOLDED_SEPARATORS.sub("_", name.lower()).strip("_")


class FunctionTable:
    """The offered (tool, action) pairs by function name, and their names by pair."""

    def __init__(self, specs: Sequence[ToolSpec]) -> None:
        self._by_name: dict[str, ToolSpec] = {}
        self._name_by_pair: dict[tuple[str, str], str] = {}
        for spec in specs:
            pair = (spec.tool, spec.action)
            if pair in self._name_by_pair:
                continue
            name = self._unused(function_name(spec.tool, spec.action))
            self._by_name[name] = spec
            self._name_by_pair[pair] = name
        self._by_folded = _unique_folds(self._by_name)

    def __iter__(self) -> Iterator[tuple[str, ToolSpec]]:
        return iter(self._by_name.items())

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def name_for(self, tool: str, action: str) -> str:
        """The function name of a pair; pairs not offered get the default name."""
        return self._name_by_pair.get((tool, action)) or function_name(tool, action)

    def resolve(self, name: str) -> ToolSpec | None:
        """The offered spec a function name refers to, tolerating case and separators."""
        spec = self._by_name.get(name)
        if spec is None:
            spec = self._by_folded.get(fold_name(name))
        return spec

    def resolve_pair(self, tool: str, action: str) -> ToolSpec | None:
        """The offered spec of a (tool, action) as a model wrote it."""
        name = self._name_by_pair.get((tool, action))
        if name is not None:
            return self._by_name[name]
        return self.resolve(f"{tool}_{action}")

    def _unused(self, name: str) -> str:
        if name not in self._by_name:
            return name
        for number in range(2, len(self._by_name) + 3):
            suffix = f"_{number}"
            candidate = name[: MAX_NAME_CHARS - len(suffix)] + suffix
            if candidate not in self._by_name:
                return candidate
        raise AssertionError("unreachable: a free suffix always exists")


def _unique_folds(by_name: dict[str, ToolSpec]) -> dict[str, ToolSpec]:
    folded: dict[str, ToolSpec | None] = {}
    for name, spec in by_name.items():
        key = fold_name(name)
        folded[key] = None if key in folded else spec
    return {key: spec for key, spec in folded.items() if spec is not None}
