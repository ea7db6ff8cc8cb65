"""A secret a tool read never reaches the log through the tool message (issue #16's report).

The result is serialised to JSON for the `agent.message` of role `tool` (what the
model is sent, folded back from the log); the log's scrub must redact the secret
there too, not only in the `tool.file` event. Real LMDB log, real redactor.
"""

from __future__ import annotations

import json
from pathlib import Path

from sysward.agents.dispatch import result_events
from sysward.events.log import EventLog
from sysward.events.record import NewEvent
from sysward.llm.messages import ToolCall
from sysward.policy.redaction import Redactor
from sysward.tools import ToolOk

SECRET = "S3cr3t-Vault-9137"
FILE = f'[db]\nhost = "db.internal"\ndb_password = "{SECRET}"\n'


async def test_the_tool_message_and_the_tool_event_are_both_redacted(tmp_path: Path) -> None:
    log = await EventLog.open(tmp_path / "events", scrub=Redactor().redact_data)
    try:
        call = ToolCall(id="c1", tool="file", action="read", args={"path": "/etc/app.ini"})
        result = ToolOk(output={"content": FILE, "truncated": False}, metadata={})
        drafts = [
            NewEvent(
                topic=topic, type=type_, agent="ops", turn="t1", source="test", data=p.to_data()
            )
            for topic, type_, p in result_events(call, result, 3)
        ]
        committed = await log.append_many(drafts)
    finally:
        await log.close()
    finished, message = committed
    assert message.topic == "agent.message"
    content = message.data["message"]["content"]  # type: ignore[index, call-overload]
    assert SECRET not in content and "[REDACTED:password]" in content
    assert json.loads(content)["output"]["content"] == FILE.replace(SECRET, "[REDACTED:password]")
    assert SECRET not in json.dumps(finished.data)
    assert (finished.context.redacted, message.context.redacted) == (1, 1)
    raw = b"".join(path.read_bytes() for path in (tmp_path / "events").iterdir())
    assert SECRET.encode() not in raw
