"""Parse a command line with bashlex into a `ShellAnalysis`.

Nested command lines (`$(…)`, backticks, `<(…)`, `bash -c`, `eval`, a here-doc fed
to a shell) are parsed again, down to `MAX_DEPTH` levels; whatever cannot be seen
is named in `ShellAnalysis.unanalysed` so the policy can refuse to guess.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from itertools import count
from typing import Any

import bashlex

from sysward.policy.shell import bashlex_guard
from sysward.policy.shell.model import HereDoc, Redirect, ShellAnalysis, SimpleCommand
from sysward.policy.shell.words import dequote
from sysward.policy.shell.wrappers import (
    find_exec_commands,
    reads_script_from_stdin,
    script_of,
    wrapped_command_start,
)

bashlex_guard.install()

MAX_DEPTH = 4
MAX_SOURCE_CHARS = 64 * 1024

_EXPANSIONS = frozenset({"parameter", "commandsubstitution", "processsubstitution"})
_SUBSTITUTIONS = {"commandsubstitution": "$(…)", "processsubstitution": "<(…)"}
_SKIPPED = frozenset({"reservedword", "operator", "pipe", "tilde", "parameter", "heredoc"})
# bashlex fails on quoted here-doc delimiters (`<<'EOF'`); the quotes only stop
# expansion in the body, so they are dropped before parsing and remembered.
_QUOTED_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'(\w+)'|\"(\w+)\"|\\(\w+))")


@dataclass(frozen=True, slots=True)
class _Context:
    depth: int = 0
    via: str | None = None
    pipeline: int | None = None
    stage: int = 0
    is_background: bool = False
    function: str | None = None
    cwd: str | None = None
    redirects: tuple[Redirect, ...] = ()


def analyse(source: str, cwd: str | None = None) -> ShellAnalysis:
    """Analyse one command line as `bash -c` would run it (in `cwd`, if known)."""
    if len(source) > MAX_SOURCE_CHARS:
        return ShellAnalysis(source, parse_error=f"longer than {MAX_SOURCE_CHARS} characters")
    walker = _Walker()
    try:
        error = walker.script(source, _Context(cwd=cwd))
    except RecursionError:
        error = "nested too deeply to analyse"
    return ShellAnalysis(
        source=source,
        commands=tuple(walker.commands),
        heredocs=tuple(walker.heredocs),
        unanalysed=tuple(walker.unanalysed),
        parse_error=error,
        functions=tuple(walker.functions),
    )


def _unquoted_delimiter(match: re.Match[str]) -> str:
    return match.group(2) or match.group(3) or match.group(4)


def _parse(source: str) -> tuple[str, list[Any], frozenset[str]]:
    quoted = frozenset(_unquoted_delimiter(m) for m in _QUOTED_HEREDOC.finditer(source))
    text = _QUOTED_HEREDOC.sub(lambda m: f"<<{m.group(1)}{_unquoted_delimiter(m)}", source)
    if not text.strip():
        return text, [], quoted
    return text, list(bashlex.parse(text)), quoted


@dataclass(slots=True)
class _Parts:
    argv: list[str] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)
    computed: set[int] = field(default_factory=set)
    redirects: list[Redirect] = field(default_factory=list)
    stdin: list[HereDoc] = field(default_factory=list)


class _Walker:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.heredocs: list[HereDoc] = []
        self.unanalysed: list[str] = []
        self.functions: list[str] = []
        self._pipelines = count()
        self._quoted: frozenset[str] = frozenset()
        self._texts: list[str] = []

    def script(self, source: str, ctx: _Context) -> str | None:
        """Walk one command line; returns why it could not be parsed, if it could not."""
        try:
            text, nodes, quoted = _parse(source)
        except RecursionError:
            raise
        # bashlex raises assorted internal errors (ParsingError, NotImplementedError for
        # `case`/`[[`/`$((…))`, AttributeError, IndexError) on input it cannot represent;
        # every one of them means the same to the policy: this line was not understood.
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        self._quoted = self._quoted | quoted
        self._walk(text, nodes, ctx)
        return None

    def _walk(self, text: str, nodes: list[Any], ctx: _Context) -> None:
        """Walk nodes parsed from `text` (their positions index into it)."""
        self._texts.append(text)
        try:
            for node in nodes:
                self._node(node, ctx)
        finally:
            self._texts.pop()

    def _word(self, node: Any) -> str:
        start, end = node.pos
        return dequote(self._texts[-1][start:end])

    def _nested(self, source: str, ctx: _Context, via: str) -> None:
        if ctx.depth >= MAX_DEPTH:
            self.unanalysed.append(f"`{via}` nests deeper than {MAX_DEPTH} levels")
            return
        error = self.script(source, replace(ctx, depth=ctx.depth + 1, via=via))
        if error is not None:
            self.unanalysed.append(f"the script run by `{via}` cannot be parsed ({error})")

    def _node(self, node: Any, ctx: _Context) -> SimpleCommand | None:
        kind = node.kind
        if kind == "command":
            return self._command(node, ctx)
        if kind == "list":
            self._list(node.parts, ctx)
        elif kind == "pipeline":
            self._pipeline(node, ctx)
        elif kind == "compound":
            redirects = tuple(self._redirect(r, ctx) for r in getattr(node, "redirects", []))
            self._list(node.list, replace(ctx, redirects=ctx.redirects + redirects))
        elif kind == "function":
            self.functions.append(node.name.word)
            self._node(node.body, replace(ctx, function=node.name.word))
        elif kind in ("for", "if", "while", "until"):
            self._list(node.parts, ctx)
        elif kind in ("word", "assignment"):
            self._expansions(node, ctx)
        elif kind in _SUBSTITUTIONS:
            via = _SUBSTITUTIONS[kind]
            self._node(node.command, replace(ctx, via=via, pipeline=None, stage=0))
        elif kind not in _SKIPPED:
            self.unanalysed.append(f"shell construct `{kind}` is not analysed")
        return None

    def _list(self, parts: list[Any], ctx: _Context) -> None:
        for i, part in enumerate(parts):
            if part.kind in ("operator", "reservedword", "pipe"):
                continue
            following = parts[i + 1] if i + 1 < len(parts) else None
            is_background = following is not None and getattr(following, "op", "") == "&"
            child = replace(ctx, is_background=ctx.is_background or is_background)
            command = self._node(part, child)
            if command is not None and command.name == "cd":
                ctx = replace(ctx, cwd=_cwd_after_cd(command, ctx.cwd))

    def _pipeline(self, node: Any, ctx: _Context) -> None:
        pipeline = next(self._pipelines)
        stages = [p for p in node.parts if p.kind not in ("pipe", "reservedword")]
        for stage, part in enumerate(stages):
            self._node(part, replace(ctx, pipeline=pipeline, stage=stage))

    def _expansions(self, word: Any, ctx: _Context) -> None:
        for part in getattr(word, "parts", []):
            self._node(part, ctx)

    def _redirect(self, node: Any, ctx: _Context) -> Redirect:
        target = node.output
        if isinstance(target, int):
            return Redirect(node.type, f"&{target}")
        if isinstance(target, str):  # `<&-` / `>&-`: bashlex gives the bare "-" (close the fd)
            return Redirect(node.type, f"&{target}")
        self._expansions(target, ctx)
        is_computed = any(p.kind in _EXPANSIONS for p in getattr(target, "parts", []))
        return Redirect(node.type, self._word(target), is_computed)

    def _command(self, node: Any, ctx: _Context) -> SimpleCommand:
        parts = self._parts(node, ctx)
        command = SimpleCommand(
            argv=tuple(parts.argv),
            assignments=tuple(parts.assignments),
            redirects=tuple(parts.redirects),
            computed=frozenset(parts.computed),
            via=ctx.via,
            depth=ctx.depth,
            pipeline=ctx.pipeline,
            stage=ctx.stage,
            is_background=ctx.is_background,
            function=ctx.function,
            cwd=ctx.cwd,
        )
        for doc in parts.stdin:
            self.heredocs.append(replace(doc, command=command.text))
            if doc.is_expanding:
                self._heredoc_expansions(doc.body, ctx)
        self._add(command, ctx, tuple(doc.body for doc in parts.stdin))
        return command

    def _parts(self, node: Any, ctx: _Context) -> _Parts:
        parts = _Parts(redirects=list(ctx.redirects))
        for part in node.parts:
            if part.kind == "assignment" and not parts.argv:
                parts.assignments.append(self._word(part))
                self._expansions(part, ctx)
            elif part.kind in ("word", "assignment"):
                if any(p.kind in _EXPANSIONS for p in getattr(part, "parts", [])):
                    parts.computed.add(len(parts.argv))
                parts.argv.append(self._word(part))
                self._expansions(part, ctx)
            elif part.kind == "redirect":
                parts.redirects.append(self._redirect(part, ctx))
                parts.stdin.extend(self._heredoc(part))
        if parts.argv and re.search(r"[*?\[]", parts.argv[0]):
            parts.computed.add(0)
        return parts

    def _heredoc(self, node: Any) -> list[HereDoc]:
        if node.type == "<<<" and not isinstance(node.output, int):
            return [HereDoc("", node.output.word, is_expanding=False)]
        heredoc = getattr(node, "heredoc", None)
        if heredoc is None or isinstance(node.output, int):
            return []
        delimiter = node.output.word
        lines = heredoc.value.split("\n")
        if lines and lines[-1].strip() == delimiter:
            lines = lines[:-1]
        return [HereDoc("", "\n".join(lines), is_expanding=delimiter not in self._quoted)]

    def _heredoc_expansions(self, body: str, ctx: _Context) -> None:
        """Commands substituted into an unquoted here-doc's body run before its command."""
        if "$(" not in body and "`" not in body:
            return
        # A here-doc body expands like a double-quoted word, with `"` literal.
        quoted = '"' + body.replace('"', '\\"') + '"'
        try:
            nodes = list(bashlex.parse(quoted))
        except Exception as exc:  # the same assorted bashlex failures as in `script`
            self.unanalysed.append(f"a here-doc body cannot be parsed ({type(exc).__name__})")
            return
        words = [word for node in nodes for word in getattr(node, "parts", [])]
        self._walk(quoted, words, replace(ctx, via="here-doc"))

    def _add(self, command: SimpleCommand, ctx: _Context, stdin: tuple[str, ...]) -> None:
        self.commands.append(command)
        start = wrapped_command_start(command.argv)
        if start is not None:
            self._add(_inner(command, start, command.name), ctx, stdin)
        for begin, end in find_exec_commands(command):
            self._add(_inner(command, begin, "find -exec", end), ctx, ())
        script = script_of(command)
        if script is not None and script.is_computed:
            self.unanalysed.append(f"`{command.text}` runs a script computed at run time")
        elif script is not None:
            self._nested(script.text, ctx, script.via)
        if reads_script_from_stdin(command):
            for body in stdin:
                self._nested(body, ctx, f"{command.name} <<here-doc")


def _inner(command: SimpleCommand, start: int, via: str, end: int | None = None) -> SimpleCommand:
    stop = len(command.argv) if end is None else end
    return replace(
        command,
        argv=command.argv[start:stop],
        assignments=(),
        redirects=(),
        computed=frozenset(i - start for i in command.computed if start <= i < stop),
        via=via,
    )


def _cwd_after_cd(command: SimpleCommand, cwd: str | None) -> str | None:
    if command.computed or len(command.args) > 1:
        return None
    target = command.args[0] if command.args else "~"
    if target == "~" or target.startswith("~/"):
        target = "/root" + target[1:]
    if target.startswith("/"):
        return posixpath.normpath(target)
    return posixpath.normpath(posixpath.join(cwd, target)) if cwd else None
