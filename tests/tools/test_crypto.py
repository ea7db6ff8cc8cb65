"""The crypto tool, called through the registry as a model would call it."""

import asyncio
import base64
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry
from sysward.tools.crypto import CryptoTool
from sysward.tools.crypto.codec import BinaryEncoding, decode_text, encode_bytes

ENCODINGS: list[BinaryEncoding] = ["base16", "base64", "base64url", "base58"]


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def registry(key_dir: Path) -> ToolRegistry:
    return ToolRegistry([CryptoTool(key_dir)])


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("crypto", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, **args: object) -> str:
    result = await registry.invoke("crypto", action, args)
    assert isinstance(result, ToolErr), result
    return result.error.code


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- catalogue ---------------------------------------------------------------------------


def test_crypto_offers_the_spec_actions_with_their_effects(registry: ToolRegistry) -> None:
    effects = {spec.action: spec.effect.value for spec in registry.actions()}
    assert effects == {
        "sha256": "read",
        "hmac": "read",
        "generate_key": "read",
        "generate_keypair": "write",
        "sign": "read",
        "verify": "read",
        "encode": "read",
        "decode": "read",
    }


# --- hashes ------------------------------------------------------------------------------


async def test_sha256_of_abc_is_the_fips_180_vector(registry: ToolRegistry) -> None:
    output = await call(registry, "sha256", data="abc")
    assert output["hex"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_sha256_hashes_decoded_bytes(registry: ToolRegistry) -> None:
    output = await call(registry, "sha256", data=b64(b"abc"), encoding="base64")
    assert str(output["hex"]).startswith("ba7816bf")


async def test_hmac_sha256_matches_rfc_4231_case_1(registry: ToolRegistry) -> None:
    output = await call(registry, "hmac", key="0b" * 20, key_encoding="base16", message="Hi There")
    assert output["hex"] == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


async def test_hmac_sha512_matches_rfc_4231_case_2(registry: ToolRegistry) -> None:
    output = await call(
        registry,
        "hmac",
        algorithm="sha512",
        key="Jefe",
        message="what do ya want for nothing?",
    )
    assert output["hex"] == (
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
    )


async def test_hmac_refuses_an_unknown_algorithm(registry: ToolRegistry) -> None:
    assert await fail(registry, "hmac", algorithm="md5", key="k", message="m") == "invalid_args"


async def test_input_over_one_mib_is_invalid_args(registry: ToolRegistry) -> None:
    result = await registry.invoke("crypto", "sha256", {"data": "a" * (1024 * 1024 + 1)})
    assert isinstance(result, ToolErr) and result.error.code == "invalid_args"
    assert len(TOOL_RESULT.dump_json(result)) < 2000


async def test_declared_encoding_must_match_the_data(registry: ToolRegistry) -> None:
    result = await registry.invoke("crypto", "sha256", {"data": "xyz!", "encoding": "base64"})
    assert isinstance(result, ToolErr)
    assert result.error.code == "invalid_input"
    assert "not valid base64" in result.error.message


# --- random keys -------------------------------------------------------------------------


async def test_generate_key_returns_fresh_keys_of_the_requested_size(
    registry: ToolRegistry,
) -> None:
    first = await call(registry, "generate_key", length_bytes=48, encoding="base16")
    second = await call(registry, "generate_key", length_bytes=48, encoding="base16")
    assert len(bytes.fromhex(str(first["key"]))) == 48
    assert first["key"] != second["key"]


async def test_generate_key_refuses_weak_sizes(registry: ToolRegistry) -> None:
    assert await fail(registry, "generate_key", length_bytes=8) == "invalid_args"


# --- key pairs, signatures ---------------------------------------------------------------


async def test_keypair_private_key_is_a_0600_file_and_never_in_the_result(
    registry: ToolRegistry, key_dir: Path
) -> None:
    result = await registry.invoke("crypto", "generate_keypair", {"file_name": "deploy.pem"})
    assert isinstance(result, ToolOk) and isinstance(result.output, dict)
    path = key_dir / "deploy.pem"
    assert result.output["private_key_path"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    dir_mode = (await asyncio.to_thread(key_dir.stat)).st_mode
    assert stat.S_IMODE(dir_mode) & 0o077 == 0
    pem = path.read_bytes()
    private_key = load_pem_private_key(pem, password=None)
    assert isinstance(private_key, Ed25519PrivateKey)
    wire = TOOL_RESULT.dump_json(result).decode()
    secret = private_key.private_bytes_raw()
    for form in (secret.hex(), b64(secret), base64.urlsafe_b64encode(secret).decode()):
        assert form not in wire
    assert "PRIVATE" not in wire
    assert pem.decode().splitlines()[1] not in wire


async def test_keypair_never_replaces_an_existing_key(
    registry: ToolRegistry, key_dir: Path
) -> None:
    await call(registry, "generate_keypair", file_name="k.pem")
    before = (key_dir / "k.pem").read_bytes()
    assert await fail(registry, "generate_keypair", file_name="k.pem") == "already_exists"
    assert (key_dir / "k.pem").read_bytes() == before
    names = await asyncio.to_thread(lambda: [path.name for path in key_dir.iterdir()])
    assert names == ["k.pem"]  # no temporary file left behind


async def test_keypair_file_is_0600_whatever_the_umask(
    registry: ToolRegistry, key_dir: Path
) -> None:
    old = os.umask(0o000)
    try:
        await call(registry, "generate_keypair", file_name="open.pem")
    finally:
        os.umask(old)
    assert stat.S_IMODE((key_dir / "open.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize("file_name", ["../x.pem", "a/b.pem", ".hidden", "", "x" * 200])
async def test_keypair_file_name_is_a_plain_name(registry: ToolRegistry, file_name: str) -> None:
    assert await fail(registry, "generate_keypair", file_name=file_name) == "invalid_args"


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_sign_then_verify_round_trips(registry: ToolRegistry, encoding: str) -> None:
    pair = await call(registry, "generate_keypair", file_name="s.pem", encoding=encoding)
    signed = await call(registry, "sign", key_path="s.pem", message="deploy v42", encoding=encoding)
    assert signed["public_key"] == pair["public_key"]
    checked = await call(
        registry,
        "verify",
        public_key=pair["public_key"],
        signature=signed["signature"],
        message="deploy v42",
        encoding=encoding,
    )
    assert checked["valid"] is True


async def test_a_tampered_message_fails_verification(registry: ToolRegistry) -> None:
    pair = await call(registry, "generate_keypair", file_name="s.pem")
    signed = await call(registry, "sign", key_path=pair["private_key_path"], message="pay 10")
    checked = await call(
        registry,
        "verify",
        public_key=pair["public_key"],
        signature=signed["signature"],
        message="pay 1000",
    )
    assert checked["valid"] is False


async def test_a_truncated_signature_is_invalid_not_an_error(registry: ToolRegistry) -> None:
    pair = await call(registry, "generate_keypair", file_name="s.pem")
    checked = await call(
        registry, "verify", public_key=pair["public_key"], signature=b64(b"short"), message="m"
    )
    assert checked["valid"] is False


async def test_verify_rejects_a_public_key_of_the_wrong_size(registry: ToolRegistry) -> None:
    code = await fail(
        registry, "verify", public_key=b64(b"k" * 31), signature=b64(b"s" * 64), message="m"
    )
    assert code == "invalid_input"


async def test_sign_with_a_missing_key_is_not_found(registry: ToolRegistry) -> None:
    await call(registry, "generate_keypair", file_name="other.pem")
    assert await fail(registry, "sign", key_path="nope.pem", message="m") == "not_found"


@pytest.fixture
def junk_key(key_dir: Path) -> Path:
    key_dir.mkdir()
    (key_dir / "junk.pem").write_text("not a key")
    return key_dir / "junk.pem"


async def test_sign_with_a_file_that_is_not_a_key_is_invalid_input(
    registry: ToolRegistry, junk_key: Path
) -> None:
    assert await fail(registry, "sign", key_path="junk.pem", message="m") == "invalid_input"


@pytest.mark.parametrize("escape", ["../outside.pem", "sub/../../outside.pem", "ABSOLUTE", "."])
async def test_sign_refuses_paths_outside_the_key_dir(
    registry: ToolRegistry, key_dir: Path, escape: str
) -> None:
    await call(registry, "generate_keypair", file_name="inside.pem")
    outside = key_dir.parent / "outside.pem"
    outside.write_bytes((key_dir / "inside.pem").read_bytes())
    key_path = str(outside) if escape == "ABSOLUTE" else escape
    assert await fail(registry, "sign", key_path=key_path, message="m") == "permission_denied"


async def test_sign_refuses_a_symlink_pointing_outside(
    registry: ToolRegistry, key_dir: Path
) -> None:
    await call(registry, "generate_keypair", file_name="inside.pem")
    outside = key_dir.parent / "outside.pem"
    outside.write_bytes((key_dir / "inside.pem").read_bytes())
    (key_dir / "link.pem").symlink_to(outside)
    assert await fail(registry, "sign", key_path="link.pem", message="m") == "permission_denied"


async def test_sign_refuses_a_nonexistent_path_outside_without_saying_if_it_exists(
    registry: ToolRegistry,
) -> None:
    code = await fail(registry, "sign", key_path="/etc/no-such-key.pem", message="m")
    assert code == "permission_denied"


async def test_sign_follows_a_symlink_that_stays_inside(
    registry: ToolRegistry, key_dir: Path
) -> None:
    await call(registry, "generate_keypair", file_name="real.pem")
    (key_dir / "alias.pem").symlink_to(key_dir / "real.pem")
    signed = await call(registry, "sign", key_path=str(key_dir / "alias.pem"), message="m")
    assert signed["signature"]


# --- encodings ---------------------------------------------------------------------------


async def test_base58_of_known_bytes(registry: ToolRegistry) -> None:
    output = await call(registry, "encode", data="hello world", encoding="base58")
    assert output["encoded"] == "StV1DL6CwTryKyV"
    zeros = await call(
        registry, "encode", data="000001", input_encoding="base16", encoding="base58"
    )
    assert zeros["encoded"] == "112"  # leading zero bytes survive as leading 1s


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [("base16", "fbff"), ("base64", "+/8="), ("base64url", "-_8="), ("base58", "LBG")],
)
async def test_encode_follows_each_alphabet(
    registry: ToolRegistry, encoding: str, encoded: str
) -> None:
    output = await call(registry, "encode", data="+/8=", input_encoding="base64", encoding=encoding)
    assert output == {"encoded": encoded, "encoding": encoding, "byte_length": 2}


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(data=st.binary(max_size=300))
def test_codec_round_trips(encoding: BinaryEncoding, data: bytes) -> None:
    assert decode_text(encode_bytes(data, encoding), encoding) == data


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(data=st.binary(max_size=200))
async def test_encode_then_decode_through_the_tool_round_trips(
    registry: ToolRegistry, encoding: str, data: bytes
) -> None:
    encoded = await call(
        registry, "encode", data=data.hex(), input_encoding="base16", encoding=encoding
    )
    decoded = await call(
        registry, "decode", data=encoded["encoded"], encoding=encoding, output_encoding="base16"
    )
    assert decoded["decoded"] == data.hex()


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(
    text=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=80)
)
async def test_utf8_text_round_trips_through_the_tool(
    registry: ToolRegistry, encoding: str, text: str
) -> None:
    encoded = await call(registry, "encode", data=text, encoding=encoding)
    decoded = await call(registry, "decode", data=encoded["encoded"], encoding=encoding)
    assert decoded["decoded"] == text


@pytest.mark.parametrize(
    ("encoding", "bad"),
    [
        ("base16", "abc"),
        ("base16", "zz"),
        ("base64", "a"),
        ("base64", "ab cd"),
        ("base64url", "ab+/"),
        ("base58", "0OIl"),
        ("base58", " 1 "),
    ],
)
async def test_malformed_input_is_invalid_input(
    registry: ToolRegistry, encoding: str, bad: str
) -> None:
    result = await registry.invoke("crypto", "decode", {"data": bad, "encoding": encoding})
    assert isinstance(result, ToolErr)
    assert result.error.code == "invalid_input"
    assert f"not valid {encoding}" in result.error.message


async def test_unpadded_base64url_is_accepted(registry: ToolRegistry) -> None:
    output = await call(registry, "decode", data="aGk", encoding="base64url")
    assert output["decoded"] == "hi"


async def test_decoding_non_utf8_bytes_as_text_says_what_to_do(registry: ToolRegistry) -> None:
    result = await registry.invoke("crypto", "decode", {"data": "/w==", "encoding": "base64"})
    assert isinstance(result, ToolErr) and result.error.code == "invalid_input"
    assert "base16 or base64" in result.error.message


async def test_nul_in_text_is_refused_but_binary_data_goes_base64(
    registry: ToolRegistry,
) -> None:
    assert await fail(registry, "sha256", data="a\x00b") == "invalid_args"
    output = await call(registry, "sha256", data=b64(b"a\x00b"), encoding="base64")
    assert output["input_bytes"] == 3


async def test_base58_refuses_bulk_data(registry: ToolRegistry) -> None:
    code = await fail(registry, "encode", data="a" * 5000, encoding="base58")
    assert code == "input_too_large"
    code = await fail(registry, "decode", data="2" * 6000, encoding="base58")
    assert code == "input_too_large"


async def test_codec_output_is_capped_by_the_tool(registry: ToolRegistry) -> None:
    result = await registry.invoke("crypto", "encode", {"data": "a" * 30_000, "encoding": "base16"})
    assert isinstance(result, ToolErr) and result.error.code == "output_too_large"
    assert json.loads(TOOL_RESULT.dump_json(result))["error"]["details"]["max_bytes"] == 48 * 1024
