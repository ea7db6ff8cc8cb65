"""What the control API serves from: the daemon's runtime, seen through a narrow protocol.

The daemon's `Runtime` satisfies `DaemonView` structurally, so `control` never
imports the daemon (the composition root sits above it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from sysward.agents.agent import AgentConfig
from sysward.agents.payloads import AgentCreated
from sysward.agents.roles import Role
from sysward.agents.supervisor import Supervisor
from sysward.config import Settings
from sysward.control.access import AccessGate, AuthAudit
from sysward.control.metrics import Metrics
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.tools import ToolRegistry
from sysward.triggers.service import TriggerService

DEFAULT_HEARTBEAT_S = 15.0


class DaemonView(Protocol):
    """The parts of the daemon's runtime the control API uses."""

    settings: Settings
    roles: dict[str, Role]
    log: EventLog
    bus: EventBus
    registry: ToolRegistry
    supervisor: Supervisor
    triggers: TriggerService
    started_monotonic: float
    is_stopping: bool

    def agent_config(self, name: str, spec: AgentCreated) -> AgentConfig: ...


@dataclass(slots=True)
class ControlState:
    """Everything a request handler may reach, built once per server."""

    runtime: DaemonView
    metrics: Metrics
    audit: AuthAudit
    gate: AccessGate
    heartbeat_s: float = DEFAULT_HEARTBEAT_S
    closing: asyncio.Event = field(default_factory=asyncio.Event)
