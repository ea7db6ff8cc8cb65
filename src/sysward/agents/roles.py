"""Roles: what an agent is for — its system prompt, the tools it may use, its limits.

Packaged roles ship in `roles/`; a site role of the same name in
`/etc/sysward/roles/` overrides it.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sysward.config import PolicyRule, describe_validation_error
from sysward.errors import ConfigError

SITE_ROLES_DIR = Path("/etc/sysward/roles")


class RolePolicy(BaseModel):
    """Policy rules of a role, checked before the global ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[PolicyRule] = Field(default_factory=list)


class Role(BaseModel):
    """One role file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = Field(description="What the role is for")
    prompt: str = Field(min_length=1, description="The system prompt")
    tools: list[str] = Field(description="Allowed tools, as `tool` or `tool:action`")
    model: str | None = Field(
        None, description="Accepted but not used yet: the agent's endpoint names the model"
    )
    max_steps: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="LLM calls per turn for run-time agents created without max_steps",
    )
    policy: RolePolicy = Field(default_factory=RolePolicy)

    def allows(self, tool: str, action: str) -> bool:
        """The role's allowlist: `tool` allows every action, `tool:action` just one."""
        return tool in self.tools or f"{tool}:{action}" in self.tools


def packaged_roles_dir() -> Path:
    return Path(str(resources.files("sysward") / "roles"))


def load_role_file(path: Path) -> Role:
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read role file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return Role.model_validate({**raw, "name": path.stem})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, text, str(path))) from None


def load_roles(*dirs: Path) -> dict[str, Role]:
    """Every role in the given directories; later directories override earlier ones."""
    roles: dict[str, Role] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            roles[path.stem] = load_role_file(path)
    return roles


def default_roles() -> dict[str, Role]:
    """Packaged roles, overridden by site roles."""
    return load_roles(packaged_roles_dir(), SITE_ROLES_DIR)
