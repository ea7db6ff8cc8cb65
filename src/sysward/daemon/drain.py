"""Stopping without losing work: let each busy agent reach a durable point, bounded.

A busy agent is at a durable point once the outcome of its in-flight step (an
LLM response, a tool result, the end of its turn) is in the log. One whose
latest event is `agent.tool_dispatch` has a tool running: wait for its result.
What is still in flight at the deadline is cancelled; the log makes that safe
(the turn resumes from its last durable step at the next start).
"""

from __future__ import annotations

import asyncio

from sysward.agents.agent import AgentState
from sysward.agents.supervisor import Supervisor
from sysward.events import topics
from sysward.events.bus import EventBus, SubscriberDropped


def busy_agents(supervisor: Supervisor) -> set[str]:
    return {name for name in supervisor.names() if supervisor.state_of(name) is AgentState.BUSY}


async def drain_agents(supervisor: Supervisor, bus: EventBus, timeout_s: float) -> list[str]:
    """Wait until every busy agent has made its step durable; returns those that did not."""
    pending = busy_agents(supervisor)
    if not pending:
        return []
    subscription = bus.subscribe(">")
    try:
        async with asyncio.timeout(timeout_s):
            async for event in subscription:
                if event.agent is None:
                    continue
                if event.topic == topics.AGENT_TOOL_DISPATCH:
                    pending.add(event.agent)
                else:
                    pending.discard(event.agent)
                if not pending:
                    break
    except (TimeoutError, SubscriberDropped):
        pass
    finally:
        subscription.close()
    return sorted(pending)
