"""Where an endpoint's chat completions are, and how its URL is shown to operators."""

from __future__ import annotations

import httpx


def completions_url(base_url: str) -> str:
    """`{base_url}/chat/completions`, with or without a trailing slash on the base."""
    return base_url.rstrip("/") + "/chat/completions"


def display_url(url: str) -> str:
    """The URL without any `user:password@` part, fit for messages and logs."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(invalid URL)"
    if not parsed.userinfo:
        return url
    return str(parsed.copy_with(username=None, password=None))
