"""sysward.toml: the SPEC.md sample parses, and every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysward.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_SOCKET,
    Settings,
    config_path_from_env,
    load_settings,
    parse_settings,
)
from sysward.errors import ConfigError

# The config sketch of SPEC.md, verbatim.
SPEC_SAMPLE = """\
[daemon]
socket = "/run/sysward/sysward.sock"
state_dir = "/var/lib/sysward"
allowed_groups = ["sysward"]          # besides root

[llm.default]                          # any number of named endpoints
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5:7b-instruct"
api_key_env = "OPENAI_API_KEY"         # or api_key_file = "/run/credentials/sysward.service/llm"
tool_calls = "native"                  # "native" (tools/tool_calls) or "json" (JSON in content)
timeout_s = 120
max_retries = 4

[agents.ops]                           # agents declared here start with the daemon
role = "sysadmin"
llm = "default"
max_steps = 25

[[policy.rules]]
tool = "bash"
action = "exec"
match = { command = "rm -rf *" }
decision = "deny"                      # allow | deny | ask
reason = "never recursive deletes"

[[policy.rules]]
tool = "*"
decision = "allow"

[policy]
approval_timeout_s = 3600              # a pending `ask` expires to deny
redact_env = ["OPENAI_API_KEY"]        # values never written to the log
"""
SOURCE = "/etc/sysward/sysward.toml"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the n-th occurrence of `needle`."""
    matches = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return matches[occurrence - 1]


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as failed:
        parse_settings(text, source=SOURCE)
    assert failed.value.__cause__ is None
    return str(failed.value)


def test_spec_sample_parses() -> None:
    settings = parse_settings(SPEC_SAMPLE, source=SOURCE)
    assert settings.daemon.socket_path == Path("/run/sysward/sysward.sock")
    assert settings.daemon.events_dir == Path("/var/lib/sysward/events")
    endpoint = settings.llm["default"]
    assert (endpoint.model, endpoint.tool_calls, endpoint.timeout_s) == (
        "qwen2.5:7b-instruct",
        "native",
        120,
    )
    assert settings.agents["ops"].role == "sysadmin"
    assert [rule.decision for rule in settings.policy.rules] == ["deny", "allow"]
    assert settings.policy.rules[0].match == {"command": "rm -rf *"}
    assert settings.policy.approval_timeout_s == 3600
    assert settings.policy.redact_env == ["OPENAI_API_KEY"]


def test_empty_file_gives_defaults() -> None:
    settings = parse_settings("", source=SOURCE)
    assert settings == Settings()
    assert settings.daemon.socket_path == DEFAULT_SOCKET
    assert settings.daemon.keys_dir == Path("/var/lib/sysward/keys")


def test_bad_value_names_file_line_and_key() -> None:
    text = SPEC_SAMPLE.replace("timeout_s = 120", "timeout_s = -5")
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:{line_of(text, 'timeout_s = -5')}: llm.default.timeout_s:")
    assert "greater than 0" in message


def test_bad_decision_in_the_second_rule_names_its_index_and_line() -> None:
    text = SPEC_SAMPLE.replace('decision = "allow"', 'decision = "maybe"')
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:{line_of(text, 'maybe')}: policy.rules.1.decision:")
    assert "'allow', 'deny' or 'ask'" in message


def test_missing_decision_points_at_the_rules_table() -> None:
    text = SPEC_SAMPLE.replace('decision = "allow"\n', "")
    message = config_error(text)
    expected_line = line_of(text, "[[policy.rules]]", occurrence=2)
    assert message.startswith(f"{SOURCE}:{expected_line}: policy.rules.1.decision:")
    assert "required" in message.lower()


def test_agent_naming_an_undefined_endpoint_names_file_line_and_key() -> None:
    text = SPEC_SAMPLE.replace('llm = "default"', 'llm = "gpu"')
    message = config_error(text)
    assert message.startswith(
        f"{SOURCE}:{line_of(text, 'llm = ' + chr(34) + 'gpu')}: agents.ops.llm:"
    )
    assert "'gpu'" in message
    assert "defined: default" in message


def test_agent_using_the_default_endpoint_when_none_is_defined_points_at_the_agent() -> None:
    text = "[agents.ops]\nrole = 'default'\n"
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:1: agents.ops.llm:")
    assert "defined: none" in message


def test_every_undefined_endpoint_is_reported() -> None:
    text = (
        "[llm.a]\nbase_url = 'http://x'\nmodel = 'm'\n"
        "[agents.one]\nllm = 'b'\n[agents.two]\nllm = 'c'\n"
    )
    lines = config_error(text).splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        [f"{SOURCE}:5", "agents.one.llm"],
        [f"{SOURCE}:7", "agents.two.llm"],
    ]


@pytest.mark.parametrize(
    ("section_line", "bad_key", "key_path"),
    [
        ("[daemon]", "sockett", "daemon.sockett"),
        ("[llm.default]", "temperature", "llm.default.temperature"),
        ("[agents.ops]", "max_stepz", "agents.ops.max_stepz"),
        ("[policy]", "approval_timeout", "policy.approval_timeout"),
    ],
)
def test_unknown_keys_are_rejected_with_their_line(
    section_line: str, bad_key: str, key_path: str
) -> None:
    text = SPEC_SAMPLE.replace(section_line, f"{section_line}\n{bad_key} = 1", 1)
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:{line_of(text, bad_key + ' = 1')}: {key_path}:")
    assert "Extra inputs are not permitted" in message


def test_unknown_top_level_table_is_rejected() -> None:
    text = SPEC_SAMPLE + "\n[deamon]\nsocket = 'x'\n"
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:{line_of(text, '[deamon]')}: deamon:")


def test_both_key_sources_point_at_the_endpoint() -> None:
    text = SPEC_SAMPLE.replace(
        'api_key_env = "OPENAI_API_KEY"', 'api_key_env = "K"\napi_key_file = "/run/k"'
    )
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:{line_of(text, '[llm.default]')}: llm.default:")
    assert "not both" in message


def test_invalid_endpoint_name_is_rejected() -> None:
    text = "[llm.'bad name']\nbase_url = 'http://x'\nmodel = 'm'\n"
    message = config_error(text)
    assert message.startswith(f"{SOURCE}:1: llm.bad name")


def test_several_problems_are_reported_one_per_line() -> None:
    text = SPEC_SAMPLE.replace("timeout_s = 120", "timeout_s = 0").replace(
        "max_retries = 4", "max_retries = 99"
    )
    lines = config_error(text).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{SOURCE}:{line_of(text, 'timeout_s')}: llm.default.timeout_s:")
    assert lines[1].startswith(f"{SOURCE}:{line_of(text, 'max_retries')}: llm.default.max_retries:")


def test_dotted_keys_are_located_too() -> None:
    text = (
        'llm.default.base_url = "http://x"\nllm.default.model = "m"\nllm.default.timeout_s = -1\n'
    )
    assert config_error(text).startswith(f"{SOURCE}:3: llm.default.timeout_s:")


def test_toml_syntax_error_reports_its_position() -> None:
    text = '[daemon]\nsocket = "/run/x.sock"\nstate_dir = \n'
    message = config_error(text)
    assert message.startswith(f"{SOURCE}: invalid TOML:")
    assert "line 3" in message
    assert "column" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="not found") as failed:
        load_settings(path)
    assert str(path) in str(failed.value)


def test_missing_file_gives_defaults_when_allowed(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml", missing_ok=True) == Settings()


def test_unreadable_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path)


def test_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "sysward.toml"
    path.write_bytes(b"[daemon]\nsocket = '\xff'\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(path)


def test_errors_from_a_file_name_that_file(tmp_path: Path) -> None:
    path = tmp_path / "sysward.toml"
    path.write_text("[agents.ops]\nmax_steps = 0\n")
    with pytest.raises(ConfigError) as failed:
        load_settings(path)
    assert str(failed.value).startswith(f"{path}:2: agents.ops.max_steps:")


def test_loaded_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "sysward.toml"
    path.write_text(SPEC_SAMPLE)
    assert load_settings(path) == parse_settings(SPEC_SAMPLE)


def test_with_state_dir_puts_everything_under_one_directory(tmp_path: Path) -> None:
    settings = parse_settings(SPEC_SAMPLE).with_state_dir(tmp_path)
    assert settings.daemon.socket_path == tmp_path / "sysward.sock"
    assert settings.daemon.events_dir == tmp_path / "events"
    assert settings.daemon.keys_dir == tmp_path / "keys"
    assert settings.llm == parse_settings(SPEC_SAMPLE).llm


def test_explicit_config_path_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSWARD_CONFIG", "/from/env.toml")
    assert config_path_from_env(Path("/explicit.toml")) == Path("/explicit.toml")


def test_sysward_config_environment_variable_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSWARD_CONFIG", "/from/env.toml")
    assert config_path_from_env() == Path("/from/env.toml")


@pytest.mark.parametrize("value", [None, ""])
def test_default_config_path_without_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("SYSWARD_CONFIG", raising=False)
    else:
        monkeypatch.setenv("SYSWARD_CONFIG", value)
    assert config_path_from_env() == DEFAULT_CONFIG_PATH
