"""Roles: packaged role files, site overrides, errors that name the file and key, allowlists."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysward.agents.roles import Role, load_role_file, load_roles, packaged_roles_dir
from sysward.errors import ConfigError

WRITE_TOOLS = ("bash", "inotify")


def write_role(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def test_the_packaged_roles_load() -> None:
    roles = load_roles(packaged_roles_dir())
    assert {"default", "sysadmin"} <= set(roles)
    for name, role in roles.items():
        assert role.name == name
        assert role.prompt.strip()
        assert role.tools


def test_the_packaged_default_role_only_inspects() -> None:
    default = load_roles(packaged_roles_dir())["default"]
    assert default.allows("systemd", "status")
    assert not default.allows("systemd", "restart")
    assert not any(default.allows(tool, "exec") for tool in WRITE_TOOLS)
    assert not default.allows("file", "write")


def test_the_packaged_sysadmin_role_has_the_full_toolset() -> None:
    sysadmin = load_roles(packaged_roles_dir())["sysadmin"]
    assert sysadmin.allows("bash", "exec")
    assert sysadmin.allows("systemd", "restart")
    assert sysadmin.max_steps == 40


def test_a_site_role_overrides_a_packaged_role_of_the_same_name(tmp_path: Path) -> None:
    site = tmp_path / "roles"
    write_role(site, "default", 'description = "site"\nprompt = "Site prompt."\ntools = ["proc"]\n')
    roles = load_roles(packaged_roles_dir(), site)
    assert roles["default"].prompt == "Site prompt."
    assert roles["default"].tools == ["proc"]
    assert "sysadmin" in roles  # the others are still the packaged ones


def test_a_missing_site_directory_is_no_error(tmp_path: Path) -> None:
    roles = load_roles(packaged_roles_dir(), tmp_path / "absent")
    assert "default" in roles


def test_a_role_is_named_after_its_file(tmp_path: Path) -> None:
    path = write_role(tmp_path, "dba", 'description = "d"\nprompt = "p"\ntools = []\n')
    assert load_role_file(path).name == "dba"


def test_a_bad_value_names_the_file_line_and_key(tmp_path: Path) -> None:
    path = write_role(
        tmp_path, "ops", 'description = "d"\nprompt = "p"\ntools = ["bash"]\nmax_steps = 0\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_role_file(path)
    message = str(raised.value)
    assert f"{path}:4" in message
    assert "max_steps" in message


def test_a_missing_key_names_the_file_and_key(tmp_path: Path) -> None:
    path = write_role(tmp_path, "ops", 'description = "d"\ntools = ["bash"]\n')
    with pytest.raises(ConfigError, match=r"ops\.toml.*prompt"):
        load_role_file(path)


def test_an_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = write_role(tmp_path, "ops", 'description = "d"\nprompt = "p"\ntools = []\ntool = []\n')
    with pytest.raises(ConfigError, match=r"ops\.toml:4.*tool"):
        load_role_file(path)


def test_a_bad_policy_rule_names_its_key(tmp_path: Path) -> None:
    text = (
        'description = "d"\nprompt = "p"\ntools = []\n'
        '[[policy.rules]]\ntool = "bash"\ndecision = "maybe"\n'
    )
    path = write_role(tmp_path, "ops", text)
    with pytest.raises(ConfigError, match=r"policy\.rules\.0\.decision"):
        load_role_file(path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write_role(tmp_path, "ops", 'description = "unterminated\n')
    with pytest.raises(ConfigError, match=r"ops\.toml: invalid TOML"):
        load_role_file(path)


def test_one_bad_file_fails_loading_the_directory(tmp_path: Path) -> None:
    write_role(tmp_path, "good", 'description = "d"\nprompt = "p"\ntools = []\n')
    write_role(tmp_path, "worse", "prompt = 3\n")
    with pytest.raises(ConfigError, match=r"worse\.toml"):
        load_roles(tmp_path)


ROLE = Role(name="r", description="d", prompt="p", tools=["crypto", "systemd:status"])


@pytest.mark.parametrize(
    ("tool", "action", "allowed"),
    [
        ("crypto", "sha256", True),
        ("crypto", "anything", True),
        ("systemd", "status", True),
        ("systemd", "restart", False),
        ("bash", "exec", False),
        ("crypt", "sha256", False),
    ],
)
def test_a_bare_tool_allows_every_action_and_tool_action_just_one(
    tool: str, action: str, allowed: bool
) -> None:
    assert ROLE.allows(tool, action) is allowed
