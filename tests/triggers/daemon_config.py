"""The config of the trigger tests' runtimes: a scripted LLM, one agent, then the trigger."""

from __future__ import annotations

from pathlib import Path

from sysward.config import Settings, parse_settings

HEADER = """
[llm.default]
base_url = "{base_url}"
model = "scripted"
max_retries = 0

[agents.ops]
role = "{role}"
"""


def settings_with(
    base_url: str, trigger: str, state_dir: Path, *, role: str = "default"
) -> Settings:
    """`trigger` is the TOML of the [triggers.*] tables, already filled in."""
    header = HEADER.format(base_url=base_url, role=role)
    return parse_settings(header + trigger).with_state_dir(state_dir)
