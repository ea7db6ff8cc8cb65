"""`/v1/approvals` (pending tool calls an operator decides) and `/v1/turns/{id}/cancel`.

The decider is the peer (SO_PEERCRED uid) of the request; it is recorded in the
`agent.approval_decided` or `agent.turn_completed` event.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from sysward.agents.agent import TurnFinished
from sysward.agents.approvals import ApprovalClosed, ApprovalNotFound, PendingApproval
from sysward.control.errors import ApiError
from sysward.control.models import ApprovalDecision, ApprovalInfo, ApprovalOutcome, TurnCancelled
from sysward.control.routes.deps import State, errors
from sysward.control.turns import turn_origin
from sysward.events.context import current_context
from sysward.events.record import NAME_PATTERN

router = APIRouter(tags=["approvals"])

ApprovalId = Annotated[str, Path(pattern=NAME_PATTERN, description="An approval id, e.g. ap_01J…")]
TurnId = Annotated[str, Path(pattern=NAME_PATTERN, description="A turn id, e.g. t_01J…")]


@router.get("/v1/approvals", response_model=list[ApprovalInfo])
async def list_approvals(state: State) -> list[ApprovalInfo]:
    """Pending approvals, oldest first: each a parked tool call and why policy asked."""
    return [_info(pending) for pending in state.runtime.supervisor.approvals.pending()]


@router.post(
    "/v1/approvals/{approval}",
    response_model=ApprovalOutcome,
    responses=errors(400, 404, 409, 503),
)
async def decide_approval(
    approval: ApprovalId, body: ApprovalDecision, state: State
) -> ApprovalOutcome:
    """Approve or deny a pending approval; the parked turn goes on at once.
    409 when it is already decided, expired, or its turn has ended."""
    book = state.runtime.supervisor.approvals
    uid = current_context().peer_uid
    try:
        pending, decided = await book.decide(approval, body.decision, body.reason, uid)
    except ApprovalNotFound as exc:
        raise ApiError(404, "approval_not_found", str(exc)) from None
    except ApprovalClosed as exc:
        raise ApiError(409, "approval_closed", str(exc)) from None
    return ApprovalOutcome(
        id=approval,
        agent=pending.agent,
        turn=pending.turn,
        decision=body.decision,
        reason=decided.reason,
        approver_uid=decided.approver_uid,
        action_sha256=decided.action_sha256,
    )


@router.post(
    "/v1/turns/{turn}/cancel",
    response_model=TurnCancelled,
    responses=errors(400, 404, 409, 503),
)
async def cancel_turn(turn: TurnId, state: State) -> TurnCancelled:
    """End a running, parked or queued turn with status `cancelled`. A running tool is
    cancelled (its processes killed) and its outcome recorded; a pending approval of the
    turn is closed. 409 when the turn has already ended."""
    origin = await turn_origin(state.runtime.log, turn)
    if origin is None:
        raise ApiError(404, "turn_not_found", f"no turn {turn!r} in the log")
    _, agent = origin
    supervisor = state.runtime.supervisor
    if agent is None or agent not in supervisor.names():
        raise ApiError(409, "turn_finished", f"turn {turn}'s agent {agent!r} no longer exists")
    uid = current_context().peer_uid
    try:
        completed = await supervisor.cancel_turn(agent, turn, uid)
    except TurnFinished as exc:
        raise ApiError(409, "turn_finished", str(exc)) from None
    return TurnCancelled(
        turn=turn, agent=agent, steps=completed.steps, cancelled_by_uid=completed.cancelled_by_uid
    )


def _info(pending: PendingApproval) -> ApprovalInfo:
    request = pending.request
    return ApprovalInfo(
        id=request.id,
        agent=pending.agent,
        turn=pending.turn,
        tool=request.tool,
        action=request.action,
        args=request.args,
        reason=request.reason,
        rule=request.rule,
        requested_at=request.requested_at,
        expires_at=request.expires_at,
        action_sha256=request.action_sha256,
    )
