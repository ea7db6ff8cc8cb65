"""docs/configuration.md is generated from config.Settings and the role model."""

from __future__ import annotations

import re
import tomllib

import pytest

from sysward.agents.roles import Role
from sysward.config import Settings, parse_settings
from sysward.errors import ConfigError
from sysward.reference.configuration import (
    REGENERATE,
    Section,
    leaf_keys,
    render,
    role_sections,
    sections,
)
from sysward.reference.endpoints import EXAMPLES, EndpointExample

from .conftest import DOCS

DOC = DOCS / "configuration.md"


def test_docs_configuration_md_matches_the_settings_model() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        f"docs/configuration.md is stale: run `{REGENERATE}` (or `make docs`)"
    )


@pytest.mark.parametrize(
    "section", [*sections(Settings), *role_sections()], ids=lambda section: section.header
)
def test_every_key_has_a_description(section: Section) -> None:
    for name, field in leaf_keys(section).items():
        assert field.description, (
            f"{section.model.__name__}.{name} has no Field(description=...); "
            "add one, then run `make docs`"
        )


def test_the_tables_of_sysward_toml_are_all_there() -> None:
    headers = [section.header for section in sections(Settings)]
    assert headers == [
        "`[daemon]`",
        "`[llm.NAME]`",
        "`[agents.NAME]`",
        "`[policy]`",
        "`[[policy.rules]]`",
    ]


def test_every_key_of_every_table_is_on_the_page() -> None:
    text = DOC.read_text(encoding="utf-8")
    for section in sections(Settings):
        for name in leaf_keys(section):
            assert f"| `{name}` |" in text


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.title)
def test_every_endpoint_example_is_a_valid_config(example: EndpointExample) -> None:
    settings = parse_settings(example.toml, source=example.title)
    assert settings.llm["default"].base_url.endswith("/v1")


def test_every_toml_block_on_the_page_is_valid() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= len(EXAMPLES) + 2
    for block in blocks:
        if "prompt" in block:
            Role.model_validate({**tomllib.loads(block), "name": "example"})
        else:
            parse_settings(block, source="docs/configuration.md")


def test_an_invalid_example_would_be_caught() -> None:
    with pytest.raises(ConfigError, match="timeout_s"):
        parse_settings('[llm.default]\nbase_url = "http://x/v1"\nmodel = "m"\ntimeout_s = 0\n')
