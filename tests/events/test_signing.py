"""The log's signing key: made 0600 on first start, reused, refused when unsafe or unreadable."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sysward.events.signing import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    RETIRED_DIR,
    KeyRing,
    LogSigningKey,
    SigningKeyError,
    key_id_of,
    public_pem,
    read_public_key,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "keys"


def test_first_start_creates_a_0600_key_in_a_0700_dir(keys_dir: Path) -> None:
    key = LogSigningKey.load_or_create(keys_dir)
    assert mode_of(keys_dir) == 0o700
    assert mode_of(keys_dir / PRIVATE_KEY_FILE) == 0o600
    public = read_public_key(keys_dir / PUBLIC_KEY_FILE)
    assert key_id_of(public) == key.key_id
    assert not list(keys_dir.glob(".*"))  # no temp file left behind


def test_key_id_is_16_hex_of_the_sha256_of_the_raw_public_key(keys_dir: Path) -> None:
    key = LogSigningKey.load_or_create(keys_dir)
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]


def test_the_key_is_reused_on_restart(keys_dir: Path) -> None:
    first = LogSigningKey.load_or_create(keys_dir)
    before = (keys_dir / PRIVATE_KEY_FILE).read_bytes()
    second = LogSigningKey.load_or_create(keys_dir)
    assert second.key_id == first.key_id
    assert (keys_dir / PRIVATE_KEY_FILE).read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_key_readable_by_others_refuses_to_start(keys_dir: Path, mode: int) -> None:
    LogSigningKey.load_or_create(keys_dir)
    (keys_dir / PRIVATE_KEY_FILE).chmod(mode)
    with pytest.raises(SigningKeyError, match=r"lets others read or change.*chmod 600"):
        LogSigningKey.load_or_create(keys_dir)


def test_an_unparsable_key_refuses_to_start(keys_dir: Path) -> None:
    LogSigningKey.load_or_create(keys_dir)
    (keys_dir / PRIVATE_KEY_FILE).write_bytes(b"-----BEGIN PRIVATE KEY-----\nbroken\n")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM Ed25519 private key"):
        LogSigningKey.load_or_create(keys_dir)


def test_a_key_of_another_algorithm_refuses_to_start(keys_dir: Path) -> None:
    keys_dir.mkdir(parents=True, mode=0o700)
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = keys_dir / PRIVATE_KEY_FILE
    path.write_bytes(pem)
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="Ed25519"):
        LogSigningKey.load_or_create(keys_dir)


def test_a_symlinked_key_refuses_to_start(keys_dir: Path, tmp_path: Path) -> None:
    LogSigningKey.load_or_create(keys_dir)
    elsewhere = tmp_path / "elsewhere.key"
    (keys_dir / PRIVATE_KEY_FILE).rename(elsewhere)
    (keys_dir / PRIVATE_KEY_FILE).symlink_to(elsewhere)
    with pytest.raises(SigningKeyError, match="not a symlink"):
        LogSigningKey.load_or_create(keys_dir)


def test_a_keys_dir_others_can_write_refuses_to_start(keys_dir: Path) -> None:
    keys_dir.mkdir(parents=True)
    keys_dir.chmod(0o777)
    with pytest.raises(SigningKeyError, match="chmod 700"):
        LogSigningKey.load_or_create(keys_dir)


def test_a_missing_public_key_is_written_again(keys_dir: Path) -> None:
    key = LogSigningKey.load_or_create(keys_dir)
    (keys_dir / PUBLIC_KEY_FILE).unlink()
    LogSigningKey.load_or_create(keys_dir)
    assert key_id_of(read_public_key(keys_dir / PUBLIC_KEY_FILE)) == key.key_id


def test_a_public_key_of_another_key_refuses_to_start(keys_dir: Path) -> None:
    LogSigningKey.load_or_create(keys_dir)
    stranger = Ed25519PrivateKey.generate().public_key()
    (keys_dir / PUBLIC_KEY_FILE).write_bytes(public_pem(stranger))
    with pytest.raises(SigningKeyError, match="is not the public key of"):
        LogSigningKey.load_or_create(keys_dir)


def test_rotation_keeps_the_old_public_key_for_verification(keys_dir: Path) -> None:
    old = LogSigningKey.load_or_create(keys_dir)
    (keys_dir / PRIVATE_KEY_FILE).unlink()  # the operator retires the private key
    new = LogSigningKey.load_or_create(keys_dir)
    assert new.key_id != old.key_id
    assert (keys_dir / RETIRED_DIR / f"{old.key_id}.pub").is_file()
    assert KeyRing.load(keys_dir).key_ids == sorted([old.key_id, new.key_id])


def test_keyring_verifies_with_a_known_key_and_says_when_the_id_is_unknown(
    keys_dir: Path,
) -> None:
    key = LogSigningKey.load_or_create(keys_dir)
    keys = KeyRing.load(keys_dir)
    signature = key.sign(b"message")
    assert keys.verifies(key.key_id, signature, b"message") is True
    assert keys.verifies(key.key_id, signature, b"other message") is False
    assert keys.verifies("0123456789abcdef", signature, b"message") is None


def test_a_missing_keys_dir_is_an_empty_keyring(tmp_path: Path) -> None:
    assert len(KeyRing.load(tmp_path / "absent")) == 0


@pytest.mark.parametrize("form", ["pem", "raw", "base64", "hex"])
def test_public_keys_are_read_as_pem_raw_base64_or_hex(tmp_path: Path, form: str) -> None:
    public = Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    content = {
        "pem": public_pem(public),
        "raw": raw,
        "base64": base64.b64encode(raw) + b"\n",
        "hex": raw.hex().encode() + b"\n",
    }[form]
    path = tmp_path / "auditor.pub"
    path.write_bytes(content)
    assert key_id_of(read_public_key(path)) == key_id_of(public)


def test_an_unreadable_public_key_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.pub"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match=r"bad\.pub: not an Ed25519 public key"):
        KeyRing.from_files([path])
    with pytest.raises(SigningKeyError, match="cannot read"):
        KeyRing.from_files([tmp_path / "absent.pub"])
