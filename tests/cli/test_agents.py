"""`sysward agents` and `sysward agent create|start|stop|rm`."""

from __future__ import annotations

from typing import Any

from .fake_daemon import FakeDaemon


def test_agents_is_an_aligned_table(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agents")
    assert result.code == 0
    header, ops, audit = result.out.splitlines()
    assert header.split() == ["NAME", "STATE", "ROLE", "LLM", "ORIGIN", "MODE", "RESTARTS", "TURN"]
    assert ops.split() == ["ops", "idle", "sysadmin", "default", "config", "read-write", "0", "-"]
    assert audit.split()[-3:] == ["read-only", "2", "t_01JDAUDIT00000000000000000"]
    assert header.index("STATE") == ops.index("idle") == audit.index("busy")


def test_agents_json_is_the_list_of_agent_infos(daemon: FakeDaemon, cli: Any) -> None:
    agents = cli("agents", "--json").json()
    assert [agent["name"] for agent in agents] == ["ops", "audit"]
    assert agents[1]["read_only"] is True


def test_no_agents_says_how_to_make_one(daemon: FakeDaemon, cli: Any) -> None:
    daemon.agents.clear()
    result = cli("agents")
    assert result.code == 0
    assert "sysward agent create" in result.out


def test_create_sends_only_the_options_given(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agent", "create", "web", "--role", "default")
    assert result.code == 0
    assert result.out.strip() == "created agent web (role default, llm default): idle"
    body = daemon.requests_to("/v1/agents")[0].json()
    assert body == {"name": "web", "role": "default", "read_only": False}


def test_create_with_every_option(daemon: FakeDaemon, cli: Any) -> None:
    argv = ["agent", "create", "web", "--role", "sysadmin", "--llm", "local"]
    result = cli(*argv, "--max-steps", "7", "--read-only", "--json")
    assert result.code == 0
    assert result.json()["max_steps"] == 7
    body = daemon.requests_to("/v1/agents")[0].json()
    assert body == {
        "name": "web",
        "role": "sysadmin",
        "llm": "local",
        "max_steps": 7,
        "read_only": True,
    }


def test_create_an_existing_agent_fails_with_the_daemons_reason(
    daemon: FakeDaemon, cli: Any
) -> None:
    result = cli("agent", "create", "ops", "--role", "default")
    assert result.code == 1
    assert "agent_exists" in result.err


def test_create_with_an_unknown_role_fails(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agent", "create", "web", "--role", "nosuch")
    assert result.code == 1
    assert "unknown role 'nosuch'" in result.err


def test_create_without_a_role_is_a_usage_error(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agent", "create", "web")
    assert result.code == 2
    assert "--role" in result.err
    assert daemon.requests == []


def test_stop_and_start_report_the_new_state(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("agent", "stop", "ops").out.strip() == "stopped ops: stopped"
    assert cli("agent", "start", "ops").out.strip() == "started ops: idle"
    paths = [request.path for request in daemon.requests]
    assert paths == ["/v1/agents/ops/stop", "/v1/agents/ops/start"]


def test_rm_removes_a_runtime_agent(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agent", "rm", "audit")
    assert (result.code, result.out.strip()) == (0, "removed audit")
    assert daemon.requests[0].method == "DELETE"
    assert "audit" not in daemon.agents


def test_rm_json_prints_a_document_even_without_a_body(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("agent", "rm", "audit", "--json").json() == {"agent": "audit", "result": "removed"}


def test_rm_of_a_config_agent_is_a_conflict(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agent", "rm", "ops")
    assert result.code == 1
    assert "agent_from_config" in result.err
    assert "sysward.toml" in result.err


def test_unknown_agent_is_a_failure_naming_it(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("agent", "start", "nosuch")
    assert result.code == 1
    assert result.err.strip() == "sysward: agent_not_found: no agent named 'nosuch'"


def test_agent_names_are_escaped_in_the_path(daemon: FakeDaemon, cli: Any) -> None:
    cli("agent", "stop", "a/b")
    assert daemon.requests[0].path == "/v1/agents/a%2Fb/stop"
