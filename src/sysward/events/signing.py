"""The log's Ed25519 signing key, and the public keys that verify its checkpoints.

Layout of the keys directory (`state_dir/keys`, mode 0700):
  log-signing.key        the private key, PEM PKCS#8, mode 0600
  log-signing.pub        its public key, PEM SubjectPublicKeyInfo
  retired/*.pub          public keys of earlier (rotated) signing keys

A key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
Verification trusts only public keys found here (or named by the auditor), never
a key carried inside the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NewType

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sysward.errors import SyswardError

PRIVATE_KEY_FILE = "log-signing.key"
PUBLIC_KEY_FILE = "log-signing.pub"
RETIRED_DIR = "retired"
PUBLIC_KEY_SUFFIX = ".pub"
KEY_ID_HEX_CHARS = 16
RAW_PUBLIC_KEY_BYTES = 32

KeyId = NewType("KeyId", str)


class SigningKeyError(SyswardError):
    """The log's signing key or a public key is missing, unsafe or unreadable."""


def key_id_of(public_key: Ed25519PublicKey) -> KeyId:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KeyId(hashlib.sha256(raw).hexdigest()[:KEY_ID_HEX_CHARS])


@dataclass(frozen=True, slots=True)
class LogSigningKey:
    """The daemon's private key: signs checkpoints of the log."""

    private_key: Ed25519PrivateKey
    key_id: KeyId
    path: Path

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> LogSigningKey:
        """The key in `keys_dir`, made on first start; unsafe or unreadable keys refuse."""
        _ensure_keys_dir(keys_dir)
        path = keys_dir / PRIVATE_KEY_FILE
        if path.exists() or path.is_symlink():
            private_key = _read_private_key(path)
        else:
            _retire_orphan_public_key(keys_dir)
            private_key = Ed25519PrivateKey.generate()
            _write_new_file(path, _private_pem(private_key), mode=0o600)
        key = cls(private_key, key_id_of(private_key.public_key()), path)
        key._ensure_public_key_file()
        return key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def _ensure_public_key_file(self) -> None:
        path = self.path.parent / PUBLIC_KEY_FILE
        if not path.exists():
            _write_new_file(path, public_pem(self.public_key), mode=0o644)
            return
        if key_id_of(read_public_key(path)) != self.key_id:
            raise SigningKeyError(
                f"{path} is not the public key of {self.path}; if the key was rotated, move "
                f"the old public key into {path.parent / RETIRED_DIR}/ and start again"
            )


class KeyRing:
    """Trusted public keys by key id: the current one and every retired one."""

    def __init__(self, keys: Iterable[Ed25519PublicKey] = ()) -> None:
        self._keys: Mapping[KeyId, Ed25519PublicKey] = {key_id_of(key): key for key in keys}

    @classmethod
    def load(cls, keys_dir: Path) -> KeyRing:
        """`keys_dir/*.pub` and `keys_dir/retired/*.pub`; a missing directory is empty."""
        return cls.from_files(_public_key_files(keys_dir))

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> KeyRing:
        return cls(read_public_key(path) for path in paths)

    @property
    def key_ids(self) -> list[KeyId]:
        return sorted(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def verifies(self, key_id: str, signature: bytes, message: bytes) -> bool | None:
        """True or False for a known key id; None when no trusted key has that id."""
        public_key = self._keys.get(KeyId(key_id))
        if public_key is None:
            return None
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key file: PEM, the raw 32 bytes, or their base64 or hex text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read the public key: {exc.strerror}") from None
    key = _parse_public_key(data)
    if key is None:
        raise SigningKeyError(
            f"{path}: not an Ed25519 public key (expected PEM, 32 raw bytes, or base64/hex of them)"
        )
    return key


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _parse_public_key(data: bytes) -> Ed25519PublicKey | None:
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            return None
        return key if isinstance(key, Ed25519PublicKey) else None
    raw = data if len(data) == RAW_PUBLIC_KEY_BYTES else _decode_text(data.strip())
    if raw is None or len(raw) != RAW_PUBLIC_KEY_BYTES:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


def _decode_text(text: bytes) -> bytes | None:
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        pass
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def _public_key_files(keys_dir: Path) -> Iterator[Path]:
    for directory in (keys_dir, keys_dir / RETIRED_DIR):
        if directory.is_dir():
            yield from sorted(directory.glob(f"*{PUBLIC_KEY_SUFFIX}"))


def _ensure_keys_dir(keys_dir: Path) -> None:
    try:
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = keys_dir.stat().st_mode
    except OSError as exc:
        raise SigningKeyError(f"{keys_dir}: cannot create the keys directory: {exc}") from None
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SigningKeyError(
            f"{keys_dir}: mode {stat.S_IMODE(mode):04o} lets others replace the signing key; "
            f"run chmod 700 {keys_dir}"
        )


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_owner_only_file(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"{path}: not an unencrypted PEM Ed25519 private key; restore it from a backup, "
            f"or move it away (keep its .pub in {path.parent / RETIRED_DIR}/) to make a new key"
        )
    return key


def _read_owner_only_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SigningKeyError(
            f"{path}: cannot open the private key: {exc.strerror} (it must be a regular file, "
            f"not a symlink)"
        ) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SigningKeyError(f"{path}: the private key is not a regular file")
        if info.st_mode & 0o077:
            raise SigningKeyError(
                f"{path}: mode {stat.S_IMODE(info.st_mode):04o} lets others read or change "
                f"the private key; run chmod 600 {path}"
            )
        return file.read()


def _retire_orphan_public_key(keys_dir: Path) -> None:
    """A public key left without its private key belongs to the previous key: keep it."""
    path = keys_dir / PUBLIC_KEY_FILE
    if not path.exists():
        return
    retired = keys_dir / RETIRED_DIR
    retired.mkdir(mode=0o700, exist_ok=True)
    path.rename(retired / f"{key_id_of(read_public_key(path))}{PUBLIC_KEY_SUFFIX}")


def _private_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_new_file(path: Path, content: bytes, *, mode: int) -> None:
    """Write via a temp file and rename, so a crash never leaves half a key behind."""
    temp = path.with_name(f".{path.name}.new")
    temp.unlink(missing_ok=True)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
        temp.rename(path)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot write the key: {exc}") from None
