"""Loading config + roles together, and describing what a reload changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysward.config import parse_settings
from sysward.daemon.reload import ConfigSource, describe_reload, keep_location
from sysward.errors import ConfigError

BASE = """
[daemon]
state_dir = "/var/lib/sysward"
allowed_groups = ["sysward"]

[llm.default]
base_url = "http://127.0.0.1:1/v1"
model = "m"

[agents.ops]
role = "default"
"""


def test_dev_mode_needs_no_config_file(tmp_path: Path) -> None:
    source = ConfigSource(tmp_path / "missing.toml", state_dir=tmp_path / "state")
    settings, roles = source.load()
    assert settings.daemon.socket_path == tmp_path / "state" / "sysward.sock"
    assert {"default", "sysadmin"} <= set(roles)


def test_without_dev_mode_a_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        ConfigSource(tmp_path / "missing.toml").load()


def test_site_roles_beside_the_config_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "roles").mkdir()
    (tmp_path / "roles" / "auditor.toml").write_text(
        'description = "a"\nprompt = "p"\ntools = []\n'
    )
    config = tmp_path / "sysward.toml"
    config.write_text(BASE.replace('role = "default"', 'role = "auditor"'))
    _, roles = ConfigSource(config).load()
    assert "auditor" in roles


def test_an_agent_with_an_unknown_role_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "sysward.toml"
    config.write_text(BASE.replace('role = "default"', 'role = "ghost"'))
    with pytest.raises(ConfigError, match=r"agents\.ops\.role: unknown role 'ghost'"):
        ConfigSource(config).load()


def test_a_reload_names_changed_keys_and_those_needing_a_restart() -> None:
    source = ConfigSource(Path("/etc/sysward/sysward.toml"))
    old = parse_settings(BASE)
    new = parse_settings(
        BASE.replace('["sysward"]', '["adm"]').replace('model = "m"', 'model = "m2"')
        + '\n[policy]\nredact_env = ["X"]\n'
    )
    report = describe_reload(source, (old, {}), (new, {}))
    assert report.changed == ["daemon.allowed_groups", "llm.default", "policy.redact_env"]
    assert report.restart_required == ["llm.default"]


def test_an_unchanged_reload_changes_nothing() -> None:
    settings = parse_settings(BASE)
    report = describe_reload(ConfigSource(Path("x")), (settings, {}), (settings, {}))
    assert (report.changed, report.restart_required) == ([], [])


def test_the_running_location_is_kept() -> None:
    old = parse_settings(BASE)
    new = parse_settings(BASE.replace("/var/lib/sysward", "/srv/elsewhere"))
    kept = keep_location(old, new)
    assert kept.daemon.state_dir == Path("/var/lib/sysward")
    report = describe_reload(ConfigSource(Path("x")), (old, {}), (new, {}))
    assert report.restart_required == ["daemon.state_dir"]


def test_new_allowed_paths_take_a_restart() -> None:
    # The file tool is built once at start; a reload must not pretend to confine it anew.
    old = parse_settings(BASE)
    new = parse_settings(BASE + '\n[policy]\nallowed_paths = ["/srv"]\n')
    report = describe_reload(ConfigSource(Path("x")), (old, {}), (new, {}))
    assert report.restart_required == ["policy.allowed_paths"]
