"""Reading an endpoint's API key from its environment variable or its file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sysward.config import LlmEndpoint
from sysward.llm.endpoint import display_url
from sysward.llm.errors import LlmCredentialError


def read_api_key(endpoint: LlmEndpoint, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The endpoint's key, or None when it has none configured.

    A configured source that is missing or empty is an error naming the source,
    never showing any part of the key.
    """
    if endpoint.api_key_env is not None:
        env = os.environ if environ is None else environ
        key, problem = _from_env(endpoint.api_key_env, env)
    elif endpoint.api_key_file is not None:
        key, problem = _from_file(endpoint.api_key_file)
    else:
        return None
    if key:
        return key
    url = display_url(endpoint.base_url)
    raise LlmCredentialError(f"LLM endpoint {url}: {problem}", url=url)


def _from_env(name: str, environ: Mapping[str, str]) -> tuple[str, str]:
    value = environ.get(name)
    if value is None:
        return "", f"api_key_env names environment variable {name}, which is not set"
    return value.strip(), f"environment variable {name} (api_key_env) is empty"


def _from_file(path: Path) -> tuple[str, str]:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return "", f"api_key_file {path} does not exist"
    except UnicodeDecodeError:
        return "", f"api_key_file {path} is not UTF-8 text"
    except OSError as exc:
        return "", f"api_key_file {path} cannot be read: {exc.strerror or type(exc).__name__}"
    return key, f"api_key_file {path} is empty"
