"""Reading a chunk of a regular file, returned as text when it is text and base64 otherwise.

A chunk is text when it is valid UTF-8 without NUL bytes; a character cut in
half by the chunk's end is left for the next chunk (``next_offset`` says where),
so reading a text file piece by piece never turns it into base64. Text whose
JSON form would be larger than its base64 (control characters escape to six
bytes) is sent as base64 too, which keeps every result under the registry cap.
Blocking: call ``read_chunk`` off the event loop.
"""

from __future__ import annotations

import base64
import codecs
import os

from pydantic_core import to_json

from sysward.tools.file.confinement import Confinement
from sysward.tools.file.failures import require_regular
from sysward.tools.file.models import Encoding, ReadArgs, ReadOutput, shown

# O_NONBLOCK: opening a FIFO that replaced the file since the stat must not hang.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC


def read_chunk(confinement: Confinement, args: ReadArgs) -> ReadOutput:
    """Read ``args.length`` bytes at ``args.offset`` of a regular file."""
    real = confinement.resolve(args.path)
    require_regular(real.stat(), args.path)  # refuse FIFOs and devices before opening
    fd = os.open(real, READ_FLAGS)
    try:
        info = os.fstat(fd)
        require_regular(info, args.path)
        # One byte more than asked tells whether the file goes on, even when
        # st_size is 0 as for /proc files.
        data = os.pread(fd, args.length + 1, args.offset)
    finally:
        os.close(fd)
    has_more = len(data) > args.length
    data = data[: args.length]
    content, encoding, used = encode_chunk(data, is_last=not has_more)
    return ReadOutput(
        path=shown(real),
        encoding=encoding,
        content=content,
        offset=args.offset,
        length=used,
        next_offset=args.offset + used,
        size=info.st_size,
        truncated=has_more or used < len(data),
    )


def encode_chunk(data: bytes, *, is_last: bool) -> tuple[str, Encoding, int]:
    """``data`` as (content, encoding, bytes used): text if it is text, else base64."""
    if b"\x00" not in data:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            text = decoder.decode(data, final=is_last)
        except UnicodeDecodeError:
            pass
        else:
            used = len(data) - len(decoder.getstate()[0])
            if (used or not data) and len(to_json(text)) <= _base64_size(used) + 2:
                return text, "utf-8", used
    return base64.b64encode(data).decode("ascii"), "base64", len(data)


def _base64_size(size: int) -> int:
    return (size + 2) // 3 * 4
