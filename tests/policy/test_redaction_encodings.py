"""Secrets are redacted in the structure, whatever encoding they travel in.

Each shape is checked as a plain string, inside a JSON document, and inside a
JSON string inside a JSON string (a tool result serialised into a message that
is serialised into an event): the escaped quotes (\\" and \\\\\\") never let the
secret through.
"""

from __future__ import annotations

import json

import pytest

from sysward.policy.redaction import Redactor

SECRET = "S3cr3t-Vault-9137"
SHAPES = {
    "assignment with double quotes": f'db_password = "{SECRET}"',
    "assignment with escaped quotes": f'db_password = \\"{SECRET}\\"',
    "JSON member": f'{{"password": "{SECRET}"}}',
    "YAML": f"database:\n  password: {SECRET}\n",
    "TOML": f'[db]\npassword = "{SECRET}"\n',
    "INI": f"[db]\npassword={SECRET}\n",
    ".env": f"DB_PASSWORD={SECRET}\n",
    "URL userinfo": f"postgres://app:{SECRET}@db.internal:5432/app",
    "Bearer header": f"Authorization: Bearer {SECRET}xyz",
    "JSON member, single-quoted (Python repr)": f"{{'password': '{SECRET}'}}",
}
# Values that are secret whole, by their own shape or by the name they sit under.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
WHOLE = {
    "OpenSSH private key block": "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    + KEY_BODY
    + "\n-----END OPENSSH PRIVATE KEY-----\n",
    "PEM private key, truncated output": "-----BEGIN RSA PRIVATE KEY-----\n" + KEY_BODY + "\n",
    "AWS credentials file": "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    + f"aws_secret_access_key = {AWS_SECRET}\n",
    "AWS credentials CSV": "User name,Access key ID,Secret access key\n"
    + f"ci,AKIAIOSFODNN7EXAMPLE,{AWS_SECRET}\n",
    "AWS env": f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
}
WHOLE_VALUES = {
    "OpenSSH private key block": KEY_BODY,
    "PEM private key, truncated output": KEY_BODY,
    "AWS credentials file": AWS_SECRET,
    "AWS credentials CSV": AWS_SECRET,
    "AWS env": AWS_SECRET,
}
# Tokens known by their own shape: each value must vanish, not only SECRET.
TOKENS = {
    "GitHub token": "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
    "Slack token": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "AWS access key id": "AKIA" + "IOSFODNN7EXAMPLE",
    "JWT": "eyJhbGciOiJIUzI1NiJ9."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    + "dBjftJeZ4CVPmB92K27uhbUJU1p1r",
}


def encodings(text: str) -> dict[str, str]:
    once = json.dumps({"ok": True, "output": {"content": text}})
    return {"plain": text, "in JSON": once, "in a JSON string in JSON": json.dumps(once)}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("encoding", ["plain", "in JSON", "in a JSON string in JSON"])
def test_the_secret_is_gone_in_every_encoding(shape: str, encoding: str) -> None:
    text = encodings(SHAPES[shape])[encoding]
    redacted, count = Redactor().redact_text(text)
    assert SECRET not in redacted, redacted
    assert count >= 1


@pytest.mark.parametrize("shape", WHOLE)
@pytest.mark.parametrize("encoding", ["plain", "in JSON", "in a JSON string in JSON"])
def test_a_key_or_cloud_secret_is_gone_in_every_encoding(shape: str, encoding: str) -> None:
    text = encodings(WHOLE[shape])[encoding]
    redacted, count = Redactor().redact_text(text)
    assert WHOLE_VALUES[shape] not in redacted, redacted
    assert "AKIAIOSFODNN7EXAMPLE" not in redacted
    assert count >= 1


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("encoding", ["plain", "in JSON", "in a JSON string in JSON"])
def test_a_known_token_is_gone_in_every_encoding(token: str, encoding: str) -> None:
    value = TOKENS[token]
    text = encodings(f"export TOKEN_FOR_CI {value} # set by ops")[encoding]
    redacted, count = Redactor().redact_text(text)
    assert value not in redacted, redacted
    assert count >= 1


def test_a_tool_message_keeps_everything_but_the_secret() -> None:
    content = f'host = "db"\ndb_password = "{SECRET}"\n'
    message = json.dumps({"ok": True, "output": {"content": content, "size": 40}})
    redacted, count = Redactor().redact_text(message)
    assert count == 1
    assert json.loads(redacted) == {
        "ok": True,
        "output": {"content": 'host = "db"\ndb_password = "[REDACTED:password]"\n', "size": 40},
    }


def test_json_without_secrets_is_returned_unchanged_byte_for_byte() -> None:
    text = '{"a" :1,   "b": ["x", "y"]}'
    assert Redactor().redact_text(text) == (text, 0)


def test_an_indented_json_file_stays_indented() -> None:
    text = json.dumps({"user": "app", "password": SECRET}, indent=4)
    redacted, _ = Redactor().redact_text(text)
    assert redacted.splitlines()[1].startswith("  ") and SECRET not in redacted


def test_text_that_only_looks_like_json_is_redacted_as_text() -> None:
    redacted, count = Redactor().redact_text(f'{{ broken password = "{SECRET}"')
    assert SECRET not in redacted and count == 1
