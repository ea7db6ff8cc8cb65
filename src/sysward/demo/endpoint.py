"""Which model the demo talks to: the scripted demo model, or a real endpoint from the env.

`SYSWARD_DEMO_BASE_URL` (+ `SYSWARD_DEMO_MODEL`, key in `SYSWARD_DEMO_API_KEY` or
`OPENAI_API_KEY`) switches to a real OpenAI-compatible endpoint. The key stays in
the environment: the config names only the variable, which is also redacted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sysward.demo.errors import DemoError
from sysward.demo.findings import MODEL_LABEL

BASE_URL_ENV = "SYSWARD_DEMO_BASE_URL"
MODEL_ENV = "SYSWARD_DEMO_MODEL"
KEY_ENVS = ("SYSWARD_DEMO_API_KEY", "OPENAI_API_KEY")
SCRIPTED_MODEL_NAME = "scripted-demo-model"
AGENT = "ops"
ROLE = "sysadmin"
LLM_NAME = "demo"


@dataclass(frozen=True, slots=True)
class DemoEndpoint:
    """An OpenAI-compatible endpoint; `base_url` is None for the scripted model until it runs."""

    label: str
    model: str
    is_scripted: bool
    base_url: str | None = None
    api_key_env: str | None = None


def endpoint_from_env(env: Mapping[str, str] | None = None) -> DemoEndpoint:
    env = os.environ if env is None else env
    base_url = env.get(BASE_URL_ENV, "").strip()
    if not base_url:
        return DemoEndpoint(label=MODEL_LABEL, model=SCRIPTED_MODEL_NAME, is_scripted=True)
    model = env.get(MODEL_ENV, "").strip()
    if not model:
        raise DemoError(f"{BASE_URL_ENV} is set, so {MODEL_ENV} must name the model to use")
    if not base_url.startswith(("http://", "https://")):
        raise DemoError(f"{BASE_URL_ENV} must start with http:// or https://, got {base_url!r}")
    key_env = next((name for name in KEY_ENVS if env.get(name)), None)
    return DemoEndpoint(
        label=f"real model {model} at {base_url}",
        model=model,
        is_scripted=False,
        base_url=base_url,
        api_key_env=key_env,
    )


def write_config(path: Path, endpoint: DemoEndpoint, state_dir: Path) -> Path:
    """The demo's sysward.toml: one endpoint, agent `ops` (role sysadmin, read-only)."""
    if endpoint.base_url is None:
        raise DemoError("the model endpoint has no address yet")
    # A scripted model answers at once; a real one may be slow, and may rate-limit.
    timeout_s, retries = (30, 1) if endpoint.is_scripted else (120, 4)
    lines = [
        f"# Written by `make demo` (python -m sysward.demo); model: {endpoint.label}",
        "[daemon]",
        f"state_dir = {json.dumps(str(state_dir))}",
        "",
        f"[llm.{LLM_NAME}]",
        f"base_url = {json.dumps(endpoint.base_url)}",
        f"model = {json.dumps(endpoint.model)}",
        f"timeout_s = {timeout_s}",
        f"max_retries = {retries}",
    ]
    if endpoint.api_key_env is not None:
        lines.append(f"api_key_env = {json.dumps(endpoint.api_key_env)}")
    lines += [
        "",
        f"[agents.{AGENT}]",
        f'role = "{ROLE}"',
        f'llm = "{LLM_NAME}"',
        "max_steps = 12",
        "# The demo only looks: any write a model attempts is denied by policy.",
        "read_only = true",
    ]
    if endpoint.api_key_env is not None:
        lines += ["", "[policy]", f"redact_env = [{json.dumps(endpoint.api_key_env)}]"]
    path.write_text("\n".join(lines) + "\n")
    return path
