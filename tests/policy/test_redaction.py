"""Redaction: which secrets are replaced, which look-alikes survive, and streaming."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import JsonValue

from sysward.config import parse_settings
from sysward.policy.redaction import Redactor, SecretKind

ENV_SECRET = "hunter2-Env-Secret"
API_KEY = "sk-test-0123456789abcdefghijkl"


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def openssh_key() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode()
    )


def body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def random_base64(size: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode()


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor({ENV_SECRET: SecretKind.ENV, API_KEY: SecretKind.API_KEY})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"echo {ENV_SECRET}!", "echo [REDACTED:env]!"),
        (f"key={API_KEY}", "key=[REDACTED:api_key]"),
        ("Authorization: Bearer abc.DEF-123456", "Authorization: Bearer [REDACTED:bearer]"),
        ("DB_PASSWORD=pa55 next", "DB_PASSWORD=[REDACTED:password] next"),
        ("PASSWORD: 'x y z'", "PASSWORD: '[REDACTED:password]'"),
        ('{"passwd": "abc"}', '{"passwd": "[REDACTED:password]"}'),
        ("secret = s3", "secret = [REDACTED:password]"),
        ("GET /x?token=abc123&page=2", "GET /x?token=[REDACTED:password]&page=2"),
        ("api_key: zz", "api_key: [REDACTED:password]"),
        ("https://bob:pw1@example.com/a", "https://bob:[REDACTED:password]@example.com/a"),
        ("ghp_" + "A1b2" * 9, "[REDACTED:token]"),
        ("github_pat_" + "A1b2_" * 10, "[REDACTED:token]"),
        ("xoxb-1234567890-abcdefghij", "[REDACTED:token]"),
        ("id AKIAIOSFODNN7EXAMPLE.", "id [REDACTED:token]."),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz12", "[REDACTED:token]"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0",
            "[REDACTED:token]",
        ),
    ],
)
def test_secrets_are_replaced_by_a_marker_naming_their_kind(
    redactor: Redactor, text: str, expected: str
) -> None:
    assert redactor.redact_text(text) == (expected, 1)


@pytest.mark.parametrize(
    "text",
    [
        hashlib.sha256(b"x").hexdigest(),
        hashlib.sha1(b"x").hexdigest().upper(),
        str(uuid.uuid4()),
        "the bearer credentials are checked",
        "max_tokens: 512, prompt_tokens=10, token_type: x",
        "/usr/lib/x86_64-linux-gnu/libQt5WebEngineCore.so.5",
        "src/sysward/policy/redaction/Redactor2Module.py",
        "XMLHttpRequestFactoryBuilder2Impl and NetworkManager-wait-online2Service",
        "t_01JBC8X9Y2Z3K4M5N6P7Q8R9S0 call_abcDEF123456789xyzQRS12",
        "admin",
        "",
    ],
)
def test_hashes_uuids_ids_words_and_paths_survive(redactor: Redactor, text: str) -> None:
    assert redactor.redact_text(text) == (text, 0)


def test_a_random_base64_token_is_caught_by_its_entropy(redactor: Redactor) -> None:
    caught = sum(redactor.redact_text(f"x {random_base64()} y")[1] for _ in range(200))
    # About 9 in 10 random strings of this size are told apart from identifiers.
    assert caught >= 160


@pytest.mark.parametrize("make_key", [rsa_pem, openssh_key])
def test_a_private_key_block_is_replaced_whole(redactor: Redactor, make_key: object) -> None:
    pem = make_key()  # type: ignore[operator]
    redacted, count = redactor.redact_text(f"before\n{pem}after\n")
    assert redacted == "before\n[REDACTED:private_key]\nafter\n"
    assert count == 1


def test_a_private_key_inside_json_text_is_replaced(redactor: Redactor) -> None:
    pem = rsa_pem()
    redacted, count = redactor.redact_text(json.dumps({"stdout": pem}))
    assert json.loads(redacted) == {"stdout": "[REDACTED:private_key]\n"}
    assert count == 1


def test_a_cut_off_private_key_is_still_hidden(redactor: Redactor) -> None:
    pem = rsa_pem()
    truncated = pem[: len(pem) // 2]
    redacted, count = redactor.redact_text(truncated)
    assert count == 1
    assert all(line not in redacted for line in body_lines(truncated))


def test_known_values_shorter_than_six_characters_are_not_redacted() -> None:
    short = Redactor({"abc12": SecretKind.ENV, "abc123": SecretKind.ENV})
    assert short.redact_text("abc12 and abc123") == ("abc12 and [REDACTED:env]", 1)


def test_a_multi_line_secret_is_redacted_line_by_line() -> None:
    multi = Redactor({"first-line-secret\nsecond-line-secret\n": SecretKind.API_KEY})
    text = "a first-line-secret b\nsecond-line-secret"
    assert multi.redact_text(text) == ("a [REDACTED:api_key] b\n[REDACTED:api_key]", 2)


def test_json_strings_are_redacted_and_keys_kept(redactor: Redactor) -> None:
    value: JsonValue = {
        "args": {"command": f"echo {ENV_SECRET}", "env": {"DB_TOKEN": "tok"}},
        "list": [1, None, True, f"Bearer {API_KEY}"],
        "max_tokens": 100,
    }
    redacted, count = redactor.redact_json(value)
    assert redacted == {
        "args": {"command": "echo [REDACTED:env]", "env": {"DB_TOKEN": "[REDACTED:password]"}},
        "list": [1, None, True, "Bearer [REDACTED:api_key]"],
        "max_tokens": 100,
    }
    assert count == 3


def test_a_key_holding_a_secret_is_redacted_without_merging_entries(redactor: Redactor) -> None:
    redacted, count = redactor.redact_json({ENV_SECRET: 1, f"{ENV_SECRET} ": 2})
    assert isinstance(redacted, dict)
    assert sorted(redacted.values()) == [1, 2]  # type: ignore[type-var]
    assert all(ENV_SECRET not in key for key in redacted)
    assert count == 2


def test_unchanged_json_is_returned_as_the_same_object(redactor: Redactor) -> None:
    value: dict[str, JsonValue] = {"a": ["b", {"c": 1}]}
    redacted, count = redactor.redact_data(value)
    assert redacted is value
    assert count == 0


def test_public_keys_and_signatures_keep_their_random_looking_values(redactor: Redactor) -> None:
    public = "q8Jz3VbX1nR7tK0pLm4YwE9sH2dF6gA5uC+iO/8rTeM="  # looks random: caught elsewhere
    value: JsonValue = {"public_key": public, "signature": public, "key": public}
    redacted, count = redactor.redact_json(value)
    assert redacted == {"public_key": public, "signature": public, "key": "[REDACTED:token]"}
    assert count == 1


def test_from_settings_reads_redact_env_api_key_env_and_key_files(tmp_path: Path) -> None:
    key_file = tmp_path / "llm-key"
    key_file.write_text("file-api-key-123\n")
    config = f"""
[llm.a]
base_url = "http://127.0.0.1:1/v1"
model = "m"
api_key_env = "TEST_LLM_KEY"
[llm.b]
base_url = "http://127.0.0.1:1/v1"
model = "m"
api_key_file = "{key_file}"
[llm.c]
base_url = "http://127.0.0.1:1/v1"
model = "m"
api_key_file = "{tmp_path / "missing"}"
[policy]
redact_env = ["DB_SECRET", "UNSET_VARIABLE"]
"""
    environ = {"TEST_LLM_KEY": "env-api-key-456", "DB_SECRET": "database-secret"}
    redactor = Redactor.from_settings(parse_settings(config), environ)
    text = "env-api-key-456 file-api-key-123 database-secret"
    assert redactor.redact_text(text) == (
        "[REDACTED:api_key] [REDACTED:api_key] [REDACTED:env]",
        3,
    )


def test_an_unreadable_key_file_is_skipped(tmp_path: Path) -> None:
    directory_not_file = tmp_path
    config = f"""
[llm.a]
base_url = "http://127.0.0.1:1/v1"
model = "m"
api_key_file = "{directory_not_file}"
"""
    redactor = Redactor.from_settings(parse_settings(config), {})
    assert redactor.known_values == 0


# -- cost ----------------------------------------------------------------------


def typical_event() -> dict[str, JsonValue]:
    """About 1 KB of a tool result: paths, a hash, numbers, an id, ordinary output."""
    stdout = "\n".join(
        f"-rw-r--r-- 1 root root {size:6d} Jan  1 00:00 /etc/systemd/system/unit{size}.service"
        for size in range(1000, 1012)
    )
    return {
        "call_id": "call_abcDEF123456789xyzQRS12",
        "action": "exec",
        "result": {
            "ok": True,
            "output": {
                "exit_code": 0,
                "stdout": stdout,
                "stderr": "",
                "sha256": hashlib.sha256(b"z").hexdigest(),
            },
            "metadata": {"duration_ms": 12},
        },
        "duration_ms": 14,
    }


def test_redacting_a_typical_event_takes_microseconds(redactor: Redactor) -> None:
    event = typical_event()
    assert len(json.dumps(event)) >= 1000
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        redactor.redact_data(event)
    per_event_us = (time.perf_counter() - started) / rounds * 1e6
    print(f"redaction: {per_event_us:.1f} us per ~1 KB event")
    # Generous bound for a loaded 2-core machine; measured ~20 us when idle.
    assert per_event_us < 500
