"""Requirements: what an action needs from the host, probed on the real filesystem and PATH."""

from pathlib import Path

import pytest

from sysward.tools.requirement import first_missing, host_path, program, shared_library


def test_a_program_on_path_is_met() -> None:
    assert program("sh", install="install dash").missing() is None


def test_a_missing_program_says_what_and_how_to_install() -> None:
    reason = program("no-such-command-xyz", install="install the xyz package").missing()
    assert reason == (
        "the no-such-command-xyz command is not available on this host; install the xyz package"
    )


def test_a_program_installed_later_is_found_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    requirement = program("late-tool", install="install it")
    assert requirement.missing() is not None
    executable = tmp_path / "late-tool"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    assert requirement.missing() is None


def test_a_found_program_is_not_probed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable = tmp_path / "once-tool"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    requirement = program("once-tool", install="install it")
    assert requirement.missing() is None
    executable.unlink()
    # The action itself reports a program removed while the daemon runs.
    assert requirement.missing() is None


def test_a_library_the_linker_finds_is_met() -> None:
    assert shared_library("c", install="install libc6").missing() is None


def test_a_missing_library_names_it() -> None:
    reason = shared_library("sysward-none", install="install nothing").missing()
    assert reason is not None and reason.startswith("the libsysward-none library is not")


def test_a_host_path_is_met_only_when_it_exists(tmp_path: Path) -> None:
    present = host_path(tmp_path, what="the test dir", install="make it")
    absent = host_path(tmp_path / "gone", what="the gone dir", install="make it")
    assert present.missing() is None
    assert absent.missing() == "the gone dir is not available on this host; make it"


def test_first_missing_reports_the_first_unmet_requirement(tmp_path: Path) -> None:
    met = host_path(tmp_path, what="a", install="-")
    first = host_path(tmp_path / "x", what="x", install="make x")
    second = host_path(tmp_path / "y", what="y", install="make y")
    assert first_missing((met, first, second)) == "x is not available on this host; make x"
    assert first_missing((met,)) is None
