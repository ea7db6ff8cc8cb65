"""packaging/manpage.py: syswardd(8) and sysward(1) carry every option and command there is."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysward.cli.main import build_parser as build_cli_parser
from sysward.daemon.main import build_parser as build_daemon_parser

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "packaging" / "manpage.py"
OVERSTRIKE = re.compile(".\b")


def generate(out_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(GENERATOR), str(out_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("man")
    result = generate(out_dir)
    assert result.returncode == 0, result.stderr
    return {"syswardd": out_dir / "man8" / "syswardd.8", "sysward": out_dir / "man1" / "sysward.1"}


def rendered(page: Path) -> str:
    """The page as `man` shows it, on lines wide enough that nothing is wrapped."""
    env = os.environ | {"MANWIDTH": "400"}
    command = ["man", "--no-hyphenation", "--no-justification", "-l", str(page)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return OVERSTRIKE.sub("", result.stdout)  # bold/underline as "x\bx" when not on a tty


def option_strings(parser: argparse.ArgumentParser) -> Iterator[str]:
    for action in parser._actions:
        yield from action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield name
                yield from option_strings(subparser)


needs_man = pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed")


@needs_man
@pytest.mark.parametrize(
    ("name", "build"), [("syswardd", build_daemon_parser), ("sysward", build_cli_parser)]
)
def test_every_option_and_command_is_in_the_page(
    pages: dict[str, Path], name: str, build: type[argparse.ArgumentParser]
) -> None:
    text = rendered(pages[name])
    missing = sorted({option for option in option_strings(build()) if option not in text})
    assert missing == []


@needs_man
def test_every_leaf_command_has_its_own_entry(pages: dict[str, Path]) -> None:
    text = rendered(pages["sysward"])
    for command in (
        "sysward agent create NAME --role R",
        "sysward log verify",
        "sysward ask AGENT TEXT",
    ):
        assert command in text


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("name", ["syswardd", "sysward"])
def test_pages_are_valid_roff(pages: dict[str, Path], name: str) -> None:
    command = ["groff", "-man", "-Tutf8", "-ww", "-z", str(pages[name])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")


def test_pages_name_their_section_and_version(pages: dict[str, Path]) -> None:
    from sysward import __version__

    assert pages["syswardd"].read_text().startswith(f'.TH SYSWARDD 8 "" "sysward {__version__}"')
    assert pages["sysward"].read_text().startswith(f'.TH SYSWARD 1 "" "sysward {__version__}"')


def test_generator_without_an_output_dir_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "usage: manpage.py OUT_DIR" in result.stderr
