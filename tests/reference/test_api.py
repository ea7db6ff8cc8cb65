"""docs/api.md is generated from the control app's OpenAPI document and must match it."""

from __future__ import annotations

import re
from pathlib import Path

from cli.real_daemon import real_daemon
from sysward.control.client import ControlClient
from sysward.reference.api import REGENERATE, api_document, render

from .conftest import DOCS

DOC = DOCS / "api.md"


def test_docs_api_md_matches_the_openapi_document() -> None:
    assert DOC.read_text(encoding="utf-8") == render(api_document()), (
        f"docs/api.md is stale: run `{REGENERATE}` (or `make docs`)"
    )


def test_every_route_and_method_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    for path, item in api_document()["paths"].items():
        for method in item:
            assert f"\n### {method.upper()} {path}\n" in text


def test_spec_minimum_routes_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for route in (
        "GET /v1/health",
        "POST /v1/agents/{name}/prompt",
        "GET /v1/events/stream",
        "GET /v1/approvals",
        "POST /v1/approvals/{approval}",
        "POST /v1/log/verify",
        "GET /metrics",
    ):
        assert f"### {route}\n" in text


def test_every_path_in_the_curl_examples_is_a_real_route() -> None:
    routes = [_route_pattern(path) for path in api_document()["paths"]]
    routes.append(re.compile(r"^/v1/openapi\.json$"))
    examples = re.findall(r"http://sysward(/[^\s'?]*)", DOC.read_text(encoding="utf-8"))
    assert len(examples) >= 10
    for path in examples:
        assert any(route.match(path) for route in routes), f"{path} is not a route"


def test_a_route_of_the_wrong_shape_is_not_taken_for_a_real_one() -> None:
    routes = [_route_pattern(path) for path in api_document()["paths"]]
    assert not any(route.match("/v1/agents/ops/explode") for route in routes)


def test_the_document_a_real_daemon_serves_renders_the_same_page(short_tmp: Path) -> None:
    with real_daemon(short_tmp, []) as daemon:
        served = ControlClient(str(daemon.socket_path), timeout_s=10).get("/v1/openapi.json")
    assert render(served) == render(api_document())


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
