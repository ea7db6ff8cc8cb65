"""The tools package stays below agents, control, llm and events (STYLE: dependencies)."""

import subprocess
import sys

FORBIDDEN = ("sysward.agents", "sysward.control", "sysward.llm", "sysward.events")


def test_tools_import_nothing_above_them() -> None:
    probe = (
        "import sys, sysward.tools, sysward.tools.crypto\n"
        f"print([m for m in sys.modules if m.startswith({FORBIDDEN!r})])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
