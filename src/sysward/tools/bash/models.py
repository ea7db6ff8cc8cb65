"""Arguments and result of ``bash.exec``, with their bounds."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sysward.tools.tool import ToolArgs

# Linux refuses a single argv string over MAX_ARG_STRLEN (128 KiB) with E2BIG;
# half of it leaves no doubt and is far more than a command line needs.
MAX_COMMAND_BYTES = 64 * 1024
MAX_TIMEOUT_S = 3600.0
MAX_ENV_VARS = 64
MAX_ENV_VALUE_CHARS = 32 * 1024
MAX_ENV_TOTAL_BYTES = 64 * 1024
MAX_STREAM_BYTES = 16 * 1024
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

EnvName = Annotated[str, Field(min_length=1, max_length=128, pattern=ENV_NAME.pattern)]
EnvValue = Annotated[str, Field(max_length=MAX_ENV_VALUE_CHARS)]


def utf8_size(text: str, what: str) -> int:
    """Bytes of ``text`` in UTF-8; a lone surrogate (valid JSON, not UTF-8) is refused."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid UTF-8 text (lone surrogate)") from exc


class ExecArgs(ToolArgs):
    """A shell command line and how to run it."""

    command: str = Field(
        min_length=1,
        max_length=MAX_COMMAND_BYTES,
        description="Shell command line, run as `bash -c COMMAND` with stdin from /dev/null",
    )
    timeout_s: float = Field(
        60,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="Seconds before every process the command started is killed "
        "(the result then has timed_out: true and the output so far)",
    )
    cwd: str | None = Field(
        None,
        max_length=4096,
        description="Absolute path of an existing directory to run in (default: /)",
    )
    env: dict[EnvName, EnvValue] | None = Field(
        None,
        max_length=MAX_ENV_VARS,
        description="Extra environment variables. The command starts from a minimal "
        "environment (PATH, HOME, LANG, LC_ALL, TERM); PATH, LD_*, BASH_ENV, IFS and other "
        "variables that change what the command line runs are refused: write them into the "
        "command itself",
    )
    max_output_bytes: int = Field(
        MAX_STREAM_BYTES,
        ge=1024,
        le=MAX_STREAM_BYTES,
        description="Cap on each of stdout and stderr; longer output keeps its first and "
        "last halves with a marker between them",
    )

    @field_validator("command")
    @classmethod
    def _command_fits_argv(cls, command: str) -> str:
        size = utf8_size(command, "command")
        if size > MAX_COMMAND_BYTES:
            raise ValueError(f"command is {size} bytes in UTF-8, over {MAX_COMMAND_BYTES}")
        return command

    @field_validator("cwd")
    @classmethod
    def _cwd_is_absolute(cls, cwd: str | None) -> str | None:
        if cwd is not None:
            utf8_size(cwd, "cwd")
            if not cwd.startswith("/"):
                raise ValueError("cwd must be an absolute path (start with /)")
        return cwd

    @field_validator("env")
    @classmethod
    def _env_is_bounded(cls, env: dict[str, str] | None) -> dict[str, str] | None:
        if env is not None:
            total = sum(utf8_size(f"{name}={value}", f"env {name}") for name, value in env.items())
            if total > MAX_ENV_TOTAL_BYTES:
                raise ValueError(f"env is {total} bytes, over {MAX_ENV_TOTAL_BYTES}")
        return env


class ExecOutput(BaseModel):
    """How a command ended and what it printed (each stream capped, head and tail kept)."""

    model_config = ConfigDict(frozen=True)

    exit_code: int | None = Field(description="Exit status; null when killed by a signal")
    signal: str | None = Field(description="Name of the signal that killed the shell, if any")
    timed_out: bool = Field(description="True when timeout_s elapsed and the processes were killed")
    duration_ms: int
    stdout: str
    stdout_bytes: int = Field(description="Bytes the command wrote to stdout in total")
    stdout_truncated: bool
    stderr: str
    stderr_bytes: int = Field(description="Bytes the command wrote to stderr in total")
    stderr_truncated: bool
    processes_left: int = Field(
        0, description="Processes of the command still alive after the kill (0 normally)"
    )
