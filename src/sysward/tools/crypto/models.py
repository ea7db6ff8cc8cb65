"""Arguments and results of the crypto tool's actions, with their bounds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sysward.tools.crypto.codec import BinaryEncoding, DataEncoding
from sysward.tools.tool import ToolArgs

MAX_INPUT_CHARS = 1024 * 1024
MAX_KEY_CHARS = 1024  # keys and signatures are at most a few hundred characters in any encoding

_DATA_ENCODING = (
    "How the text maps to bytes: utf8 (its UTF-8 bytes) or base16/base64/base64url/base58"
)
_KEY_ENCODING = "Encoding of public keys and signatures: base16, base64, base64url or base58"


Data = Annotated[str, Field(max_length=MAX_INPUT_CHARS)]


class Sha256Args(ToolArgs):
    """Data to hash with SHA-256."""

    data: Data = Field(description="The data to hash, as text in `encoding`")
    encoding: DataEncoding = Field("utf8", description=_DATA_ENCODING)


class HmacArgs(ToolArgs):
    """A secret key and a message to authenticate with HMAC."""

    algorithm: Literal["sha256", "sha512"] = Field("sha256", description="Hash function")
    key: Data = Field(description="The secret key, as text in `key_encoding`")
    key_encoding: DataEncoding = Field("utf8", description=_DATA_ENCODING)
    message: Data = Field(description="The message, as text in `message_encoding`")
    message_encoding: DataEncoding = Field("utf8", description=_DATA_ENCODING)


class Digest(BaseModel):
    """A digest or MAC, hex-encoded."""

    model_config = ConfigDict(frozen=True)

    algorithm: str
    hex: str
    input_bytes: int


class GenerateKeyArgs(ToolArgs):
    """Size and encoding of a random symmetric key."""

    length_bytes: int = Field(32, ge=16, le=1024, description="Key size in bytes (32 = 256 bits)")
    encoding: BinaryEncoding = Field("base64", description="Encoding of the returned key")


class GeneratedKey(BaseModel):
    """A random key from the OS CSPRNG; a secret the caller asked for."""

    model_config = ConfigDict(frozen=True)

    key: str
    encoding: BinaryEncoding
    length_bytes: int


class GenerateKeypairArgs(ToolArgs):
    """Where to keep the private key of a new Ed25519 key pair."""

    file_name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
        description="File name of the private key inside the key directory, e.g. deploy.pem",
    )
    encoding: BinaryEncoding = Field("base64", description=_KEY_ENCODING)


class Keypair(BaseModel):
    """A new key pair: the public key, and where the private key was written."""

    model_config = ConfigDict(frozen=True)

    algorithm: Literal["ed25519"] = "ed25519"
    public_key: str
    encoding: BinaryEncoding
    public_key_pem: str
    private_key_path: str


class SignArgs(ToolArgs):
    """A message to sign with a private key from the key directory."""

    key_path: str = Field(
        max_length=4096,
        description="Private key file from generate_keypair: its name or path in the key directory",
    )
    message: Data = Field(description="The message, as text in `message_encoding`")
    message_encoding: DataEncoding = Field("utf8", description=_DATA_ENCODING)
    encoding: BinaryEncoding = Field("base64", description=_KEY_ENCODING)


class Signature(BaseModel):
    """An Ed25519 signature and the public key that verifies it."""

    model_config = ConfigDict(frozen=True)

    algorithm: Literal["ed25519"] = "ed25519"
    signature: str
    public_key: str
    encoding: BinaryEncoding


class VerifyArgs(ToolArgs):
    """A message, its Ed25519 signature and the public key to check it with."""

    public_key: str = Field(max_length=MAX_KEY_CHARS, description="Raw 32-byte public key")
    signature: str = Field(max_length=MAX_KEY_CHARS, description="Raw 64-byte signature")
    encoding: BinaryEncoding = Field("base64", description=_KEY_ENCODING)
    message: Data = Field(description="The signed message, as text in `message_encoding`")
    message_encoding: DataEncoding = Field("utf8", description=_DATA_ENCODING)


class Verification(BaseModel):
    """Whether the signature is valid for the message and key."""

    model_config = ConfigDict(frozen=True)

    algorithm: Literal["ed25519"] = "ed25519"
    valid: bool


class EncodeArgs(ToolArgs):
    """Data to encode."""

    data: Data = Field(description="The data, as text in `input_encoding`")
    input_encoding: DataEncoding = Field("utf8", description=_DATA_ENCODING)
    encoding: BinaryEncoding = Field(description="Encoding to produce")


class Encoded(BaseModel):
    """The data in the requested encoding."""

    model_config = ConfigDict(frozen=True)

    encoded: str
    encoding: BinaryEncoding
    byte_length: int


class DecodeArgs(ToolArgs):
    """Encoded text to decode."""

    data: Data = Field(description="The encoded text")
    encoding: BinaryEncoding = Field(description="Encoding of `data`")
    output_encoding: DataEncoding = Field(
        "utf8", description="How to return the bytes: utf8 (fails if not UTF-8) or an encoding"
    )


class Decoded(BaseModel):
    """The decoded bytes, as text in ``output_encoding``."""

    model_config = ConfigDict(frozen=True)

    decoded: str
    output_encoding: DataEncoding
    byte_length: int
