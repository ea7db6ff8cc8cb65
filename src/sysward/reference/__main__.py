"""`python -m sysward.reference [--docs DIR] [--check]`: regenerate (or check) every reference page.

Every page is rendered before any is written, and each is replaced atomically,
so a generator that fails leaves the committed pages as they were.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sysward.reference import api, configuration, events
from sysward.tools import reference as tools_reference

PAGES: dict[str, Callable[[], str]] = {
    "api.md": lambda: api.render(api.api_document()),
    "events.md": lambda: events.render(events.topic_entries()),
    "configuration.md": configuration.render,
    "tools.md": lambda: tools_reference.render(tools_reference.reference_tools()),
}


def render_all() -> dict[str, str]:
    return {name: render() for name, render in PAGES.items()}


def stale_pages(docs: Path, rendered: dict[str, str]) -> list[str]:
    """The pages whose committed text differs from what the code renders."""
    stale = []
    for name, text in rendered.items():
        path = docs / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_pages(docs: Path, rendered: dict[str, str]) -> None:
    for name, text in rendered.items():
        target = docs / name
        partial = target.with_suffix(".md.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sysward.reference", description="Regenerate the reference docs."
    )
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="default: ./docs")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a page is stale"
    )
    args = parser.parse_args(argv)
    docs: Path = args.docs
    if not docs.is_dir():
        parser.error(f"{docs} is not a directory (run from the project root or pass --docs)")
    rendered = render_all()
    if args.check:
        stale = stale_pages(docs, rendered)
        for name in stale:
            sys.stderr.write(f"{docs / name} is stale: run `make docs`\n")
        return 1 if stale else 0
    write_pages(docs, rendered)
    sys.stdout.write("".join(f"wrote {docs / name}\n" for name in rendered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
