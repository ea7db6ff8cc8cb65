"""Reading the configuration (config file + roles) and describing what a reload changed.

A reload applies the new settings and roles to everything that reads them
afterwards (auth groups, agents created or restarted later); changes that are
wired in at start (socket, state dir, LLM endpoints, config agents) are
reported as needing a restart. The tools are built once at start too, so
`policy.allowed_paths` (the file tool's roots) also takes a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, JsonValue

from sysward.agents.roles import Role, load_roles, packaged_roles_dir
from sysward.config import Settings, config_path_from_env, load_settings
from sysward.errors import ConfigError

ROLES_DIR_NAME = "roles"
# Keys whose change takes effect only when the daemon restarts.
RESTART_PREFIXES = (
    "daemon.socket",
    "daemon.state_dir",
    "llm.",
    "agents.",
    "policy.allowed_paths",
)


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """Where the configuration comes from: the config file, its roles dir, a dev state dir."""

    config_path: Path
    state_dir: Path | None = None

    @classmethod
    def from_args(cls, config: Path | None, state_dir: Path | None) -> ConfigSource:
        return cls(config_path_from_env(config), state_dir.absolute() if state_dir else None)

    @property
    def roles_dir(self) -> Path:
        """Site roles beside the config file (`/etc/sysward/roles` for the default path)."""
        return self.config_path.parent / ROLES_DIR_NAME

    def load(self) -> tuple[Settings, dict[str, Role]]:
        """Settings and roles, checked together; ConfigError says what is wrong and where."""
        # Dev mode (--state-dir) runs without a config file: defaults are fine.
        settings = load_settings(self.config_path, missing_ok=self.state_dir is not None)
        if self.state_dir is not None:
            settings = settings.with_state_dir(self.state_dir)
        roles = load_roles(packaged_roles_dir(), self.roles_dir)
        for name, agent in settings.agents.items():
            if agent.role not in roles:
                known = ", ".join(sorted(roles)) or "none"
                raise ConfigError(
                    f"{self.config_path}: agents.{name}.role: unknown role {agent.role!r} "
                    f"(roles: {known})"
                )
        return settings, roles


class ReloadReport(BaseModel):
    """The `data` of a `daemon.reloaded` event."""

    config: str
    changed: list[str]
    restart_required: list[str]

    def to_data(self) -> dict[str, JsonValue]:
        return self.model_dump(mode="json")


def keep_location(old: Settings, new: Settings) -> Settings:
    """The new settings, but where the running daemon keeps its state and socket."""
    daemon = new.daemon.model_copy(
        update={"socket": old.daemon.socket, "state_dir": old.daemon.state_dir}
    )
    return new.model_copy(update={"daemon": daemon})


def describe_reload(
    source: ConfigSource,
    old: tuple[Settings, Mapping[str, Role]],
    new: tuple[Settings, Mapping[str, Role]],
) -> ReloadReport:
    changed = _changed_keys(_flatten(old[0]), _flatten(new[0]))
    changed += [f"roles.{name}" for name in _changed_keys(_dump(old[1]), _dump(new[1]))]
    restart = [key for key in changed if key.startswith(RESTART_PREFIXES)]
    return ReloadReport(config=str(source.config_path), changed=changed, restart_required=restart)


def _flatten(settings: Settings) -> dict[str, JsonValue]:
    """`section.key` → value, one level into each section (e.g. `llm.default`)."""
    flat: dict[str, JsonValue] = {}
    for section, value in settings.model_dump(mode="json").items():
        if isinstance(value, dict):
            flat.update({f"{section}.{key}": item for key, item in value.items()})
        else:
            flat[section] = value
    return flat


def _dump(models: Mapping[str, BaseModel]) -> dict[str, JsonValue]:
    return {name: model.model_dump(mode="json") for name, model in models.items()}


def _changed_keys(old: Mapping[str, JsonValue], new: Mapping[str, JsonValue]) -> list[str]:
    keys = set(old) | set(new)
    return sorted(key for key in keys if old.get(key) != new.get(key))
