"""`python -m sysward.reference`: regenerate every reference page, or check them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysward.reference.__main__ import PAGES, main, render_all


def test_it_writes_every_page_as_the_generators_render_it(tmp_path: Path) -> None:
    assert main(["--docs", str(tmp_path)]) == 0
    rendered = render_all()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(PAGES)
    for name, text in rendered.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text


def test_check_passes_on_fresh_pages_and_names_a_stale_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--docs", str(tmp_path)])
    assert main(["--docs", str(tmp_path), "--check"]) == 0
    stale = tmp_path / "events.md"
    stale.write_text(stale.read_text() + "hand edit\n")
    assert main(["--docs", str(tmp_path), "--check"]) == 1
    assert f"{stale} is stale: run `make docs`" in capsys.readouterr().err


def test_check_writes_nothing(tmp_path: Path) -> None:
    assert main(["--docs", str(tmp_path), "--check"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_missing_docs_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--docs", str(tmp_path / "nope")])
    assert exited.value.code == 2
