"""Malformed and hostile requests against a real syswardd (hypothesis).

Every answer must be a proper answer: never a 500, every error in the
`{"error": {...}}` shape; afterwards the daemon still serves, and the log is
whole: seqs 1..last_seq with no gap and an intact hash chain.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .daemon import DAEMON_MODULE, write_config

READY_TIMEOUT_S = 20.0
DEAD_LLM = "http://127.0.0.1:9/v1"  # nothing listens: turns fail fast, the daemon survives

ROUTES = [
    ("GET", "/v1/health"),
    ("GET", "/v1/agents"),
    ("POST", "/v1/agents"),
    ("GET", "/v1/agents/{name}"),
    ("DELETE", "/v1/agents/{name}"),
    ("POST", "/v1/agents/{name}/start"),
    ("POST", "/v1/agents/{name}/stop"),
    ("POST", "/v1/agents/{name}/prompt"),
    ("GET", "/v1/agents/{name}/history"),
    ("GET", "/v1/turns/{name}"),
    ("GET", "/v1/events"),
    ("GET", "/v1/events/stream"),
    ("GET", "/v1/approvals"),
    ("POST", "/v1/approvals/{name}"),
    ("GET", "/v1/tools"),
    ("POST", "/v1/log/verify"),
    ("GET", "/metrics"),
    ("GET", "/v1/openapi.json"),
]
QUERY_KEYS = ["topic", "type", "agent", "turn", "since", "until", "limit", "wait", "x"]
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "ops",
            "..",
            "../../etc/passwd",
            "%00",
            "a" * 300,
            "agent.>",
            "*",
            ">.x",
            "-1",
            "0",
            "18446744073709551616",
            "2026-13-45T99:99:99Z",
            "2026-01-01T00:00:00+05:00",
            "\u202e\u0000",
            "NaN",
            "t_" + "z" * 200,
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
near_valid_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": hostile_text,
        "role": st.sampled_from(["default", "sysadmin", "nope"]) | hostile_text,
        "llm": hostile_text,
        "max_steps": st.integers(min_value=-(2**70), max_value=2**70) | hostile_text,
        "read_only": json_values,
        "text": hostile_text,
        "wait": st.just(False) | json_values,
        "decision": st.sampled_from(["approve", "deny", "maybe"]),
        "reason": hostile_text,
    },
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=200),
    st.sampled_from([b"{", b"[]", b"null", b'{"a":', b"\xff\xfe", b"1e999", b'"x"']),
    json_values.map(lambda value: json.dumps(value).encode()),
    near_valid_bodies.map(lambda value: json.dumps(value).encode()),
)
# What a client can send at all: printable ASCII without surrounding blanks.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(
    str.strip
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", "a/b"]
        )
        | header_text,
        "last-event-id": header_text,
        "x-request-id": header_text,
        "accept": st.sampled_from(["application/json", "*/*"]) | header_text,
    },
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes | None, dict[str, str]]:
    if draw(st.integers(0, 4)) > 0:  # mostly real routes, so bodies and params get checked
        method, template = draw(st.sampled_from(ROUTES))
        if draw(st.integers(0, 3)) == 0:
            method = draw(st.sampled_from(METHODS))
    else:
        method = draw(st.sampled_from(METHODS))
        segments = draw(st.lists(hostile_text, min_size=1, max_size=4))
        template = "/" + "/".join(quote(segment, safe="") or "_" for segment in segments)
    name = draw(st.sampled_from(["ops", "fz"]) | hostile_text)
    encoded = quote(name, safe="") if draw(st.booleans()) else quote(name, safe="/")
    path = template.replace("{name}", encoded or "x")
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), hostile_text, max_size=4))
    return method, path, query, draw(bodies), draw(headers)


@pytest.fixture(scope="module")
def daemon_socket() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    socket_path = root / "sysward.sock"
    config = write_config(
        root / "sysward.toml",
        state_dir=root / "state",
        socket_path=socket_path,
        llm_url=DEAD_LLM,
        agents={"ops": "default"},
    )
    stderr = (root / "syswardd.stderr").open("wb")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(root / "notify"))
    process = subprocess.Popen(
        [sys.executable, *DAEMON_MODULE, "--config", str(config), "--heartbeat", "0.2"],
        stdin=subprocess.DEVNULL,
        stdout=stderr,
        stderr=stderr,
        env={**os.environ, "NOTIFY_SOCKET": str(root / "notify")},
    )
    try:
        wait_until_ready(notify, process)
        yield socket_path
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stderr.close()
        notify.close()
        shutil.rmtree(root, ignore_errors=True)


def wait_until_ready(notify: socket.socket, process: subprocess.Popen[bytes]) -> None:
    """Bounded wait for READY=1 on the test's NOTIFY_SOCKET (synchronous: hypothesis)."""
    notify.settimeout(READY_TIMEOUT_S)
    lines: list[str] = []
    while "READY=1" not in lines:
        assert process.poll() is None, "syswardd exited before READY"
        lines += notify.recv(65536).decode().split("\n")


@pytest.fixture(scope="module")
def client(daemon_socket: Path) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(uds=str(daemon_socket))
    with httpx.Client(transport=transport, base_url="http://sysward", timeout=10.0) as client:
        yield client


def check_answer(response: httpx.Response, method: str) -> None:
    assert response.status_code < 500, response.read()
    if response.status_code < 400 or method == "HEAD":
        return
    body: Any = json.loads(response.read())
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_hostile_requests_never_get_a_500(
    client: httpx.Client,
    request: tuple[str, str, dict[str, str], bytes | None, dict[str, str]],
) -> None:
    method, path, query, body, request_headers = request
    with client.stream(
        method, path, params=query, content=body, headers=request_headers
    ) as response:
        event(f"{response.status_code}")  # see --hypothesis-show-statistics
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            assert response.status_code == 200
            return  # a live stream: never ends on its own
        check_answer(response, method)


def test_the_log_is_whole_after_the_fuzzing(client: httpx.Client) -> None:
    health = client.get("/v1/health").json()
    seqs: list[int] = []
    since = 0
    while since < health["last_seq"]:
        page = client.get("/v1/events", params={"since": since, "limit": 10_000}).json()
        seqs += [event["seq"] for event in page["events"]]
        since = page["next_since"]
    report = client.post("/v1/log/verify").json()
    assert health["status"] == "ok"
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= health["last_seq"]
    assert report["ok"] is True, report
