"""The control client: JSON requests, typed errors and SSE over a real Unix socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sysward.config import DEFAULT_SOCKET as CONFIG_DEFAULT_SOCKET
from sysward.control.client import (
    DEFAULT_SOCKET,
    ApiError,
    ControlClient,
    DaemonUnreachable,
    PermissionDenied,
    ProtocolError,
    SseEvent,
    StreamTimeout,
    error_from,
    parse_sse,
    path_segment,
    socket_path_from,
    url,
)

from .fake_daemon import FakeDaemon


def client_for(daemon: FakeDaemon) -> ControlClient:
    return ControlClient(str(daemon.socket_path), timeout_s=5)


def test_get_returns_the_decoded_json_body(daemon: FakeDaemon) -> None:
    health = client_for(daemon).get("/v1/health")
    assert health["status"] == "ok"
    assert daemon.requests[0].headers["accept"] == "application/json"


def test_post_sends_a_json_body(daemon: FakeDaemon) -> None:
    client_for(daemon).post("/v1/agents", {"name": "web", "role": "default"})
    request = daemon.requests_to("/v1/agents")[0]
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"name": "web", "role": "default"}


def test_an_answer_without_a_body_is_none(daemon: FakeDaemon) -> None:
    client_for(daemon).post("/v1/agents", {"name": "web", "role": "default"})
    assert client_for(daemon).delete("/v1/agents/web") is None


def test_error_bodies_become_api_errors_with_their_fields(daemon: FakeDaemon) -> None:
    with pytest.raises(ApiError) as caught:
        client_for(daemon).get("/v1/agents/nosuch")
    assert (caught.value.status, caught.value.code) == (404, "agent_not_found")
    assert "nosuch" in caught.value.message
    assert caught.value.body()["error"]["code"] == "agent_not_found"


def test_403_is_permission_denied_with_the_details(daemon: FakeDaemon) -> None:
    daemon.is_forbidden = True
    with pytest.raises(PermissionDenied) as caught:
        client_for(daemon).get("/v1/health")
    assert caught.value.status == 403
    assert caught.value.details == {"uid": 1000}


def test_a_missing_socket_is_unreachable_and_says_how_to_start(short_tmp: Path) -> None:
    path = str(short_tmp / "absent.sock")
    with pytest.raises(DaemonUnreachable) as caught:
        ControlClient(path).get("/v1/health")
    message = str(caught.value)
    assert path in message
    assert "systemctl start sysward" in message
    assert "syswardd --state-dir" in message


def test_a_stale_socket_file_is_unreachable(short_tmp: Path) -> None:
    path = short_tmp / "stale.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()  # the file stays, nothing listens: a daemon that died
    with pytest.raises(DaemonUnreachable, match="stale socket"):
        ControlClient(str(path)).get("/v1/health")


def test_a_peer_that_hangs_up_without_answering_is_unreachable(short_tmp: Path) -> None:
    path = short_tmp / "hangup.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    try:
        with pytest.raises(DaemonUnreachable):
            ControlClient(str(path), timeout_s=0.2).get("/v1/health")
    finally:
        listener.close()


def test_a_body_that_is_not_json_is_a_protocol_error(daemon: FakeDaemon) -> None:
    with pytest.raises(ProtocolError):
        client_for(daemon).get("/metrics")
    assert b"sysward_last_seq" in client_for(daemon).request_bytes("GET", "/metrics")


def test_error_bodies_not_in_the_api_shape_still_become_api_errors() -> None:
    error = error_from(502, b"<html>bad gateway</html>")
    assert (error.status, error.code, error.message) == (
        502,
        "http_502",
        "<html>bad gateway</html>",
    )
    assert isinstance(error_from(403, b""), PermissionDenied)


def test_the_socket_comes_from_the_option_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYSWARD_SOCKET", "/env.sock")
    assert socket_path_from("/opt.sock") == "/opt.sock"
    assert socket_path_from(None) == "/env.sock"
    monkeypatch.delenv("SYSWARD_SOCKET")
    assert socket_path_from(None) == DEFAULT_SOCKET == str(CONFIG_DEFAULT_SOCKET)


def test_urls_drop_absent_parameters_and_escape_segments() -> None:
    assert url("/v1/events", {"topic": "tool.*", "agent": None, "since": 5}) == (
        "/v1/events?topic=tool.%2A&since=5"
    )
    assert url("/v1/health") == "/v1/health"
    assert path_segment("a/b c") == "a%2Fb%20c"


def test_streams_yield_events_and_skip_heartbeats(daemon: FakeDaemon) -> None:
    client = client_for(daemon)
    with client.stream("GET", "/v1/events/stream", query={"since": 0}) as stream:
        messages = [message for _, message in zip(range(3), stream, strict=False)]
    assert [message.id for message in messages] == ["1", "2", "3"]
    assert messages[0].event == "daemon.started"
    assert messages[0].json()["seq"] == 1
    assert daemon.requests[0].headers["accept"] == "text/event-stream"


def test_a_resumed_stream_sends_last_event_id(daemon: FakeDaemon) -> None:
    with client_for(daemon).stream("GET", "/v1/events/stream", last_event_id="2") as stream:
        first = next(iter(stream))
    assert first.id == "3"
    assert daemon.requests[0].headers["last-event-id"] == "2"


def test_a_silent_stream_times_out(short_tmp: Path) -> None:
    daemon = FakeDaemon(short_tmp / "quiet.sock", heartbeat_s=30).start()
    try:
        client = client_for(daemon)
        with (
            client.stream("GET", "/v1/events/stream", read_timeout_s=0.2) as stream,
            pytest.raises(StreamTimeout),
        ):
            list(stream)
    finally:
        daemon.stop()


def test_streaming_a_json_route_is_a_protocol_error(daemon: FakeDaemon) -> None:
    with pytest.raises(ProtocolError, match="expected an event stream"):
        client_for(daemon).stream("GET", "/v1/health")


def test_a_stream_refused_with_an_error_raises_it(daemon: FakeDaemon) -> None:
    with pytest.raises(ApiError, match="agent_not_found"):
        client_for(daemon).stream("POST", "/v1/agents/nosuch/prompt", body={"text": "hi"})


def test_sse_parsing_follows_the_format() -> None:
    lines = [
        ": stream open",
        "",
        "id: 7",
        "event: tool.bash",
        "data: {",
        'data:"a": 1}',
        "",
        "event: dropped",
        "",
        "data: cut off at the end",
    ]
    assert list(parse_sse(lines)) == [
        SseEvent("tool.bash", '{\n"a": 1}', "7"),
        SseEvent("dropped", "", "7"),
    ]


messages = st.lists(
    st.tuples(
        st.from_regex(r"[a-z][a-z.]{0,20}", fullmatch=True),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n")),
        st.integers(min_value=1, max_value=2**62),
    ),
    max_size=8,
)


@given(messages)
def test_sse_round_trips_any_json_data(items: list[tuple[str, str, int]]) -> None:
    lines: list[str] = []
    for event, text, seq in items:
        lines += [f"id: {seq}", f"event: {event}", f"data: {json.dumps(text)}", ": keepalive", ""]
    parsed = list(parse_sse(lines))
    assert [(m.event, m.json(), int(m.id or 0)) for m in parsed] == items


def test_the_cli_imports_neither_pydantic_nor_httpx() -> None:
    code = (
        "import sys, sysward.cli.main; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'httpx', 'anyio'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
