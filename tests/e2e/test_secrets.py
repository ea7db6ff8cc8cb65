"""Secrets never reach the event log or the model: a real syswardd, a scripted LLM, real files.

The prompt carries a `redact_env` secret and a bearer token, a tool result
carries a private key, and the model's answer carries the endpoint's own API
key. None of them may appear in the raw LMDB files nor in what the daemon
sends the model (bodies only: the API key belongs in the Authorization header).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import run_turn
from .daemon import GUARD_FIRED, DaemonLauncher

SECRET = "Db-Pa55word-e2e-7431"
BEARER = "abc.DEF-9876543210xyz"
API_KEY = "sk-e2e-0123456789abcdefghijklmnop"


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def write_secret_config(root: Path, llm_url: str) -> tuple[Path, Path]:
    state_dir, socket_path = root / "state", root / "sysward.sock"
    config = root / "sysward.toml"
    config.write_text(
        f"""
[daemon]
state_dir = "{state_dir}"
socket = "{socket_path}"
allowed_groups = ["sysward-e2e-nobody"]

[llm.default]
base_url = "{llm_url}"
model = "scripted-model"
api_key_env = "SYSWARD_E2E_LLM_KEY"
max_retries = 0
timeout_s = 30

[agents.ops]
role = "sysadmin"

[policy]
redact_env = ["SYSWARD_E2E_DB_SECRET"]

[[policy.rules]]
tool = "*"
decision = "allow"
"""
    )
    return config, socket_path


def secret_fragments(pem: str) -> list[bytes]:
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return [SECRET.encode(), BEARER.encode(), API_KEY.encode(), *(line.encode() for line in body)]


async def test_secrets_reach_neither_the_log_nor_the_model(
    short_tmp: Path, launcher: DaemonLauncher
) -> None:
    pem = private_key_pem()
    key_file = short_tmp / "id_rsa"
    key_file.write_text(pem)
    script = [
        tool_calls_completion(native_call("file_read", {"path": str(key_file)}, call_id="r1")),
        text_completion(f"done; your key is {API_KEY}"),
    ]
    async with ScriptedLlmServer(script) as llm:
        config, socket_path = write_secret_config(short_tmp, llm.base_url)
        env = {"SYSWARD_E2E_LLM_KEY": API_KEY, "SYSWARD_E2E_DB_SECRET": SECRET}
        daemon = await launcher.launch(["--config", str(config)], socket_path=socket_path, env=env)
        async with daemon.client() as client:
            turn = await run_turn(
                client, "ops", f"connect with {SECRET}, header Authorization: Bearer {BEARER}"
            )
            events = await all_events(client)
        assert await daemon.terminate() == 0
        llm.verify()

    assert turn[-1]["data"]["status"] == "completed"
    fragments = secret_fragments(pem)
    assert len(llm.requests) == 2
    for request in llm.requests:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert not [f for f in fragments if f in request.body], request.text
    tool_message = llm.requests[1].text
    assert "[REDACTED:private_key]" in tool_message
    assert "[REDACTED:env]" in tool_message and "[REDACTED:bearer]" in tool_message

    stored = b"".join(path.read_bytes() for path in (short_tmp / "state/events").glob("*.mdb"))
    assert b"[REDACTED:private_key]" in stored  # the log was written and is readable
    assert not [f for f in fragments if f in stored]

    # The last event of each topic: the final answer is the last agent.message.
    redacted = {event["topic"]: event["context"]["redacted"] for event in events}
    assert (redacted.get("agent.prompt") or 0) >= 2
    assert (redacted.get("tool.file") or 0) >= 1
    assert (redacted.get("agent.message") or 0) >= 1
    assert redacted.get("agent.started") is None


async def all_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/events", params={"agent": "ops", "limit": 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    events = body["events"] if isinstance(body, dict) else body
    assert isinstance(events, list)
    return events


# Issue #16: files holding each secret shape, read by the agent's file tool.
SHAPE_SECRETS = {
    "app.ini": ("[db]\nhost = db.internal\npassword = Ini-Pa55-e2e-4411\n", "Ini-Pa55-e2e-4411"),
    "app.toml": ('[db]\ndb_password = "Toml-Pa55-e2e-4412"\n', "Toml-Pa55-e2e-4412"),
    "app.yaml": ("db:\n  password: Yaml-Pa55-e2e-4413\n", "Yaml-Pa55-e2e-4413"),
    "app.env": ("DB_PASSWORD=Env-Pa55-e2e-4414\nDEBUG=1\n", "Env-Pa55-e2e-4414"),
    "app.json": ('{"db": {"password": "Json-Pa55-e2e-4415"}}\n', "Json-Pa55-e2e-4415"),
    "escaped.sh": ('export CMD="db_password = \\"Esc-Pa55-e2e-4416\\""\n', "Esc-Pa55-e2e-4416"),
    "url.txt": ("postgres://app:Url-Pa55-e2e-4417@db:5432/app\n", "Url-Pa55-e2e-4417"),
    "curl.txt": ("Authorization: Bearer Brr.e2e-4418-token\n", "Brr.e2e-4418-token"),
    "gh.txt": (
        "token ghp_" + "e2eE2eE2eE2eE2eE2eE2eE2eE2eE2eE2e4419\n",
        "ghp_" + "e2eE2eE2eE2eE2eE2eE2eE2eE2eE2eE2e4419",
    ),
    "slack.txt": ("xoxb-" + "123456789012-1234567890123-e2eSlackToken4420\n", "e2eSlackToken4420"),
    "aws.txt": ("aws_access_key_id = AKIA" + "E2EXAMPLE4421ABC\n", "AKIA" + "E2EXAMPLE4421ABC"),
    # An AWS credentials CSV: the secret has no name beside it, only its key id.
    "aws.csv": (
        "User name,Access key ID,Secret access key\n"
        + "ci,AKIA"
        + "E2EXAMPLE4422ABC,e2eSecret/K7MDENG/bPxRfiCYE2EKEY4422wxyz\n",
        "e2eSecret/K7MDENG/bPxRfiCYE2EKEY4422wxyz",
    ),
    "cookie.txt": (
        "Set-Cookie: sid=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtNDQyMyJ9."
        + "e2eSignature4423AbCdEfGhIjKlMnOpQrStUv; HttpOnly\n",
        "eyJzdWIiOiJlMmUtNDQyMyJ9.e2eSignature4423AbCdEfGhIjKlMnOpQrStUv",
    ),
}


def openssh_private_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


def escaped_forms(secret: str) -> list[bytes]:
    quoted = json.dumps(secret)[1:-1]
    twice = json.dumps(quoted)[1:-1]
    return [form.encode() for form in {secret, quoted, twice}]


async def test_every_secret_shape_in_files_is_kept_from_the_log_and_the_model(
    short_tmp: Path, launcher: DaemonLauncher
) -> None:
    files = short_tmp / "files"
    files.mkdir()
    for name, (text, _) in SHAPE_SECRETS.items():
        (files / name).write_text(text)
    # A JSON document holding another file's text: the secret sits in a JSON string.
    (files / "nested.json").write_text(json.dumps({"file": SHAPE_SECRETS["app.toml"][0]}))
    ssh_key = openssh_private_key()
    (files / "id_ed25519").write_text(ssh_key)
    names = [*SHAPE_SECRETS, "nested.json", "id_ed25519"]
    calls = [
        native_call("file_read", {"path": str(files / name)}, call_id=f"r{index}")
        for index, name in enumerate(names)
    ]
    script = [tool_calls_completion(*calls), text_completion("read them all")]
    async with ScriptedLlmServer(script) as llm:
        config, socket_path = write_secret_config(short_tmp, llm.base_url)
        env = {"SYSWARD_E2E_LLM_KEY": API_KEY, "SYSWARD_E2E_DB_SECRET": SECRET}
        daemon = await launcher.launch(["--config", str(config)], socket_path=socket_path, env=env)
        async with daemon.client() as client:
            turn = await run_turn(client, "ops", "read the app's config files")
            events = await all_events(client)
        assert await daemon.terminate() == 0
        llm.verify()
    assert turn[-1]["data"]["status"] == "completed"
    assert GUARD_FIRED not in daemon.stderr  # redacted by the redactor, not the last resort

    forbidden = {
        form
        for name, (text, secret) in SHAPE_SECRETS.items()
        for form in [*escaped_forms(secret), base64.b64encode(text.encode())]
    }
    forbidden |= {f.encode() for f in ssh_key.splitlines() if f and not f.startswith("-----")}
    forbidden.add(base64.b64encode(ssh_key.encode()))
    stored = b"".join(
        path.read_bytes() for path in (short_tmp / "state").rglob("*") if path.is_file()
    )
    bodies = [request.body for request in llm.requests]
    leaks = [form for form in forbidden if form in stored or any(form in body for body in bodies)]
    assert not leaks
    results = [
        event for event in events if event["topic"] == "tool.file" and event["type"] == "result"
    ]
    assert len(results) == len(names)
    assert all((event["context"]["redacted"] or 0) >= 1 for event in results)
