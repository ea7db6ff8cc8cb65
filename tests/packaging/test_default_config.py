"""packaging/sysward.toml, shipped as /etc/sysward/sysward.toml: valid, and safe by default."""

from __future__ import annotations

import configparser
from pathlib import Path

from sysward.daemon.reload import ConfigSource

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "packaging" / "sysward.toml"
CREDENTIAL_LINE = '# api_key_file = "/run/credentials/sysward.service/llm"'


def test_default_config_starts_one_ops_agent_on_a_local_ollama() -> None:
    settings, roles = ConfigSource(CONFIG).load()
    assert list(settings.agents) == ["ops"]
    assert settings.agents["ops"].role in roles
    assert settings.llm["default"].base_url == "http://127.0.0.1:11434/v1"


def test_default_config_lets_no_write_run_without_an_operator() -> None:
    settings, _ = ConfigSource(CONFIG).load()
    # With no catch-all allow, write actions fall through to "ask" (SPEC: approvals).
    allow_all = [r for r in settings.policy.rules if r.decision == "allow" and r.tool == "*"]
    assert allow_all == []
    assert any(
        r.decision == "deny" and r.match == {"command": "rm -rf *"} for r in settings.policy.rules
    )


def test_uncommented_api_key_file_names_the_units_credential(tmp_path: Path) -> None:
    text = CONFIG.read_text()
    assert CREDENTIAL_LINE in text
    config = tmp_path / "sysward.toml"
    config.write_text(text.replace(CREDENTIAL_LINE, CREDENTIAL_LINE.removeprefix("# ")))
    settings, _ = ConfigSource(config).load()
    key_file = settings.llm["default"].api_key_file
    assert key_file is not None
    unit = configparser.RawConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "systemd" / "sysward.service")
    name, _, source = unit["Service"]["LoadCredential"].partition(":")
    # systemd exposes LoadCredential=NAME:SOURCE at /run/credentials/<unit>/NAME.
    assert key_file == Path("/run/credentials/sysward.service") / name
    assert source == "/etc/sysward/credentials/llm"
