"""The crypto tool: hashes, HMACs, random keys, Ed25519 key pairs and signatures, encodings.

Secrets the caller asks for (``generate_key``) are returned; private keys of
key pairs never are: they live as 0600 files in the tool's key directory and
``sign`` takes their path. That directory must not hold the daemon's own
log-checkpoint key, or a model could sign checkpoints with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from hmac import digest as hmac_digest
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from sysward.tools.crypto.codec import data_bytes, data_text, decode_text, encode_bytes
from sysward.tools.crypto.keyfile import read_private_key, write_private_key
from sysward.tools.crypto.models import (
    DecodeArgs,
    Decoded,
    Digest,
    EncodeArgs,
    Encoded,
    GeneratedKey,
    GenerateKeyArgs,
    GenerateKeypairArgs,
    HmacArgs,
    Keypair,
    Sha256Args,
    SignArgs,
    Signature,
    Verification,
    VerifyArgs,
)
from sysward.tools.tool import Effect, Tool, ToolFailed, action

# Encode/decode outputs stay under the registry's default 64 KiB result cap.
MAX_CODEC_OUTPUT_BYTES = 48 * 1024


class CryptoTool(Tool):
    """Hash, authenticate, sign and verify data; generate keys; convert between encodings.

    Binary values travel as text in a declared encoding (base16, base64,
    base64url, base58). Private keys of key pairs stay in files on the host.
    """

    name = "crypto"

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir

    @action(effect=Effect.READ)
    async def sha256(self, args: Sha256Args) -> Digest:
        """SHA-256 digest of the data, hex-encoded."""
        data = data_bytes(args.data, args.encoding)
        return Digest(
            algorithm="sha256", hex=hashlib.sha256(data).hexdigest(), input_bytes=len(data)
        )

    @action(effect=Effect.READ)
    async def hmac(self, args: HmacArgs) -> Digest:
        """HMAC of the message under the key (RFC 2104), hex-encoded."""
        key = data_bytes(args.key, args.key_encoding, "key")
        message = data_bytes(args.message, args.message_encoding, "message")
        mac = hmac_digest(key, message, args.algorithm)
        return Digest(algorithm=f"hmac-{args.algorithm}", hex=mac.hex(), input_bytes=len(message))

    # READ: it changes nothing on the host; a re-run after a crash just draws another key.
    @action(effect=Effect.READ)
    async def generate_key(self, args: GenerateKeyArgs) -> GeneratedKey:
        """A random symmetric key from the OS CSPRNG, returned encoded (it is a secret)."""
        key = secrets.token_bytes(args.length_bytes)
        return GeneratedKey(
            key=encode_bytes(key, args.encoding), encoding=args.encoding, length_bytes=len(key)
        )

    @action(effect=Effect.WRITE)
    async def generate_keypair(self, args: GenerateKeypairArgs) -> Keypair:
        """Create an Ed25519 key pair; the private key goes to a 0600 file, never to the caller."""
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        path = await asyncio.to_thread(write_private_key, self.key_dir, args.file_name, pem)
        public_key = private_key.public_key()
        return Keypair(
            public_key=encode_bytes(_raw(public_key), args.encoding),
            encoding=args.encoding,
            public_key_pem=public_key.public_bytes(
                Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
            ).decode("ascii"),
            private_key_path=str(path),
        )

    @action(effect=Effect.READ)
    async def sign(self, args: SignArgs) -> Signature:
        """Sign the message with an Ed25519 private key file from the key directory."""
        pem = await asyncio.to_thread(read_private_key, self.key_dir, args.key_path)
        private_key = _load_private_key(pem, args.key_path)
        message = data_bytes(args.message, args.message_encoding, "message")
        return Signature(
            signature=encode_bytes(private_key.sign(message), args.encoding),
            public_key=encode_bytes(_raw(private_key.public_key()), args.encoding),
            encoding=args.encoding,
        )

    @action(effect=Effect.READ)
    async def verify(self, args: VerifyArgs) -> Verification:
        """Check an Ed25519 signature of the message against a public key."""
        raw_key = decode_text(args.public_key, args.encoding, "public_key")
        signature = decode_text(args.signature, args.encoding, "signature")
        message = data_bytes(args.message, args.message_encoding, "message")
        try:
            public_key = Ed25519PublicKey.from_public_bytes(raw_key)
        except ValueError as exc:
            raise ToolFailed(
                "invalid_input",
                f"public_key must be a raw 32-byte Ed25519 key, got {len(raw_key)} bytes",
            ) from exc
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            return Verification(valid=False)
        return Verification(valid=True)

    @action(effect=Effect.READ)
    async def encode(self, args: EncodeArgs) -> Encoded:
        """Encode data as base16, base64, base64url or base58."""
        data = data_bytes(args.data, args.input_encoding)
        encoded = _bounded(encode_bytes(data, args.encoding))
        return Encoded(encoded=encoded, encoding=args.encoding, byte_length=len(data))

    @action(effect=Effect.READ)
    async def decode(self, args: DecodeArgs) -> Decoded:
        """Decode base16, base64, base64url or base58 text back to its bytes."""
        data = decode_text(args.data, args.encoding)
        decoded = _bounded(data_text(data, args.output_encoding, "the decoded data"))
        return Decoded(decoded=decoded, output_encoding=args.output_encoding, byte_length=len(data))


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _load_private_key(pem: bytes, key_path: str) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # TypeError: the key is encrypted; ValueError: not PEM or corrupt.
        raise ToolFailed(
            "invalid_input",
            f"{key_path[:256]!r} is not an unencrypted PEM private key",
            {"key_path": key_path[:256]},
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ToolFailed(
            "invalid_input",
            f"{key_path[:256]!r} holds a {type(key).__name__}, not an Ed25519 private key",
            {"key_path": key_path[:256]},
        )
    return key


def _bounded(text: str) -> str:
    size = len(text.encode("utf-8"))
    if size > MAX_CODEC_OUTPUT_BYTES:
        raise ToolFailed(
            "output_too_large",
            f"the result would be {size} bytes, over the {MAX_CODEC_OUTPUT_BYTES}-byte limit; "
            "convert smaller pieces",
            {"size_bytes": size, "max_bytes": MAX_CODEC_OUTPUT_BYTES},
        )
    return text
