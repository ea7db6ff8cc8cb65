"""The `data` of every trigger event, as typed models (one per topic)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from sysward.events import topics

SuppressReason = Literal["debounce", "rate_limit", "duplicate", "agent_unavailable"]


class TriggerPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: str = Field(description="The trigger's name ([triggers.NAME])")

    def to_data(self) -> dict[str, JsonValue]:
        return self.model_dump(mode="json")


class TriggerFired(TriggerPayload):
    """trigger.fired: committed before the turn's prompt; the event's turn is that turn."""

    source: str = Field(description="unit, udev, path, journal or schedule")
    key: str | None = Field(description="The source event's identity; never fires twice")
    cursor: str | None = Field(None, description="Where the source resumes after a restart")
    fields: dict[str, str] = Field(description="The source event's fields (redacted by the log)")
    match: dict[str, JsonValue] = Field(description="The trigger's source settings at firing")
    prompt: str = Field(description="The turn's prompt, so a restart sends the same one")
    suppressed: dict[str, int] = Field(
        default_factory=dict, description="Matching events suppressed since the last report"
    )
    test: bool = Field(False, description="Fired by `sysward triggers test --fire`")


class TriggerSuppressed(TriggerPayload):
    """trigger.suppressed: matching events that did not fire, counted per reason.

    The first suppression after a firing is reported at once; later ones are
    counted and reported together (at most one event per REPORT_INTERVAL_S).
    """

    reasons: dict[str, int] = Field(description="How many were suppressed, by reason")
    key: str | None = Field(None, description="The first suppressed event's key, when one")
    cursor: str | None = Field(None, description="Where the source resumes after a restart")
    firing_seq: int | None = Field(None, description="A firing whose turn could not start")
    message: str = Field("", description="Why, for the operator")


class TriggerToggled(TriggerPayload):
    """trigger.toggled: an operator enabled or disabled the trigger at run time."""

    enabled: bool = Field(description="Whether the trigger watches from now on")
    config_enabled: bool = Field(description="The config's `enabled` when this was decided")
    uid: int | None = Field(None, description="Who decided (the control peer's uid)")


class TriggerError(TriggerPayload):
    """trigger.error: the source cannot watch (it is retried with backoff)."""

    message: str = Field(description="What is wrong and what to do about it")


PAYLOADS: dict[str, type[TriggerPayload]] = {
    topics.TRIGGER_FIRED: TriggerFired,
    topics.TRIGGER_SUPPRESSED: TriggerSuppressed,
    topics.TRIGGER_TOGGLED: TriggerToggled,
    topics.TRIGGER_ERROR: TriggerError,
}
