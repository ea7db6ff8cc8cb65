"""The bash tool: run a command line on the host and report how it ended and what it printed."""

from __future__ import annotations

import asyncio
import shutil
import stat
from collections.abc import Collection
from pathlib import Path

from sysward.tools.bash.environment import SAFE_PATH, command_environment, home_directory
from sysward.tools.bash.models import ExecArgs, ExecOutput
from sysward.tools.bash.runner import Command, run_command
from sysward.tools.tool import Effect, Tool, ToolFailed, action

DEFAULT_KILL_GRACE_S = 2.0


class BashTool(Tool):
    """Run shell commands with bash on the host, as the daemon's user.

    Each command gets a minimal environment, no stdin, its own session, and a
    timeout after which all of its processes are killed. Output is returned,
    not streamed; long output keeps its beginning and its end.
    """

    name = "bash"

    def __init__(
        self, denied_env: Collection[str] = (), *, kill_grace_s: float = DEFAULT_KILL_GRACE_S
    ) -> None:
        """``denied_env``: more names the ``env`` argument may not set, on top of the
        always-refused ones (see ``environment``), e.g. ``PYTHONPATH``,
        ``GIT_SSH_COMMAND`` or ``https_proxy``: variables that make an approved
        command run other code or talk to another host. ``kill_grace_s``: how
        long processes get between SIGTERM and SIGKILL after a timeout.
        """
        self.denied_env = frozenset(denied_env)
        self.kill_grace_s = kill_grace_s
        self.home = home_directory()
        self.shell = shutil.which("bash", path=SAFE_PATH)

    @action(effect=Effect.WRITE)
    async def exec(self, args: ExecArgs) -> ExecOutput:
        """Run `bash -c COMMAND` and return its exit code, stdout and stderr.

        A non-zero exit is a normal result: read exit_code and stderr. On timeout
        every process the command started is killed and the result has
        timed_out: true with the output so far. Background jobs that keep stdout
        or stderr open keep the call waiting until they exit or time out:
        redirect them (`cmd >/dev/null 2>&1 &`) or start services with
        systemd-run.
        """
        if self.shell is None:
            raise ToolFailed("unavailable", f"bash is not installed in {SAFE_PATH}")
        env = command_environment(self.home, args.env, self.denied_env)
        cwd = args.cwd or "/"
        if not await asyncio.to_thread(_is_directory, cwd):
            raise ToolFailed(
                "not_found",
                f"cwd {cwd!r} is not an existing directory; pass an absolute directory path",
                {"cwd": cwd},
            )
        return await run_command(
            Command(
                shell=self.shell,
                command=args.command,
                cwd=cwd,
                env=env,
                timeout_s=args.timeout_s,
                max_output_bytes=args.max_output_bytes,
                kill_grace_s=self.kill_grace_s,
            )
        )


def _is_directory(path: str) -> bool:
    try:
        return stat.S_ISDIR(Path(path).stat().st_mode)
    except OSError:  # missing, unreadable, too long: not a directory we can run in
        return False
