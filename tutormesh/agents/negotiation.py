"""The student agent's side of a negotiation: what to ask for, and how to answer the SME.

Rounds are bounded: a REJECT is met with a smaller ask, and when nothing smaller is left, or the
round limit is reached, the student agent escalates to the admin agent instead of looping.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from langgraph.runtime import Runtime

from tutormesh.agents.protocol import (
    PACES,
    Accept,
    Counteroffer,
    Escalate,
    NegotiationMessage,
    Pace,
    Propose,
    Reject,
    dump,
    parse_message,
)
from tutormesh.agents.sme import SUPPORT_COST
from tutormesh.core import clock
from tutormesh.core.settings import get_settings
from tutormesh.graphs.negotiation.context import NegotiationContext
from tutormesh.tools.learner_model import is_visual_learner, prefers
from tutormesh.tools.store import get_store

VISUAL, PRACTICE, RECAP = list(SUPPORT_COST)
COMMITMENT = "Student will complete daily practice"


def support_for(profile: Mapping[str, Any]) -> list[str]:
    """Return the support that suits the learner's style (visual and recap weights), practice always."""
    wanted = [VISUAL] if is_visual_learner(profile) else []
    wanted.append(PRACTICE)
    if prefers(profile, "recap"):
        wanted.append(RECAP)
    return wanted


def slower(pace: Pace) -> Pace:
    """Return the next slower pace (slow stays slow)."""
    return PACES[max(PACES.index(pace) - 1, 0)]


def first_proposal(profile: Mapping[str, Any], plan: Mapping[str, Any], reason: str) -> Propose | Escalate:
    """Open with a slower pace; if already slow, ask for support not yet in the plan."""
    current: Pace = plan["pace"]
    snapshot = {k: profile[k] for k in ("learning_style", "language", "pace") if k in profile}
    if current != "slow":
        return Propose(sender="student_agent", kind="PACE_ADJUSTMENT", current_pace=current,
                       proposed_pace=slower(current), requested_adjustments=support_for(profile),
                       reason=reason, student_profile=snapshot)
    missing = [a for a in [*support_for(profile), *SUPPORT_COST] if a not in plan.get("adjustments", [])]
    if missing:
        return Propose(sender="student_agent", kind="SUPPORT_ADJUSTMENT", current_pace=current,
                       proposed_pace=current, requested_adjustments=list(dict.fromkeys(missing)),
                       reason=reason, student_profile=snapshot)
    return Escalate(sender="student_agent",
                    reason=f"{reason}; the plan is already at the slowest pace with every support")


def unacceptable(offer: Counteroffer, current_pace: Pace, in_plan: list[str]) -> str | None:
    """Why the student agent cannot accept a counteroffer (None: it can): it must change something."""
    slower_pace = PACES.index(offer.proposed_pace) < PACES.index(current_pace)
    new_support = [a for a in offer.adjustments if a not in in_plan]
    if not slower_pace and not new_support:
        return "the counteroffer changes nothing the plan does not already have"
    return None


def respond(
    offer: NegotiationMessage,
    history: list[NegotiationMessage],
    profile: Mapping[str, Any],
    *,
    now: datetime,
    max_rounds: int,
    review_days: int,
    in_plan: list[str] | None = None,
) -> list[Accept | Propose | Escalate | Reject]:
    """Answer the SME's last message: accept a counteroffer, or reject it, then shrink the ask or escalate."""
    proposals = [m for m in history if isinstance(m, Propose)]
    if isinstance(offer, Counteroffer):
        why_not = unacceptable(offer, proposals[-1].current_pace, in_plan or [])
        if why_not is not None:
            reject = Reject(sender="student_agent", reason=f"Cannot accept: {why_not}")
            return [reject, *respond(reject, [*history, reject], profile, now=now, max_rounds=max_rounds,
                                     review_days=review_days, in_plan=in_plan)]
        fit = [a for a in offer.adjustments if a in support_for(profile)] or offer.adjustments
        review_at = now + timedelta(days=review_days)
        label = "1 week" if review_days == 7 else f"{review_days} days"
        return [Accept(sender="student_agent", agreed_pace=offer.proposed_pace, agreed_adjustments=fit,
                       commitment=COMMITMENT, next_review=label, review_at=review_at.isoformat())]
    last = proposals[-1]
    missing = [a for a in support_for(profile) if a not in (in_plan or [])]
    if len(proposals) >= max_rounds or last.kind == "SUPPORT_ADJUSTMENT" or not missing:
        why = getattr(offer, "reason", "no agreement")
        return [Escalate(sender="student_agent", reason=f"Deadlock after {len(proposals)} round(s): {why}")]
    return [Propose(sender="student_agent", kind="SUPPORT_ADJUSTMENT", current_pace=last.current_pace,
                    proposed_pace=last.current_pace, requested_adjustments=missing,
                    reason=f"{last.reason}; asking for support at the current pace instead",
                    student_profile=last.student_profile)]


def run(state: Mapping[str, Any], runtime: Runtime[NegotiationContext]) -> dict[str, Any]:
    """Take the student agent's turn: open the negotiation, or answer the SME's last message."""
    store, settings = get_store(), get_settings()
    student_id, subject = state["student_id"], state["subject"]
    ctx = runtime.context or NegotiationContext()
    now = clock.now(ctx.now)
    profile = store.profile(student_id)
    update: dict[str, Any] = {}
    plan = store.plan(student_id, subject, today=now.date())
    messages: list[NegotiationMessage]
    if not state.get("negotiation_id"):
        message: NegotiationMessage = first_proposal(profile, plan, state["reason"])
        messages = [message]
        negotiation_id = uuid.uuid4().hex
        kind = message.kind if isinstance(message, Propose) else "PACE_ADJUSTMENT"
        store.open_negotiation(id=negotiation_id, student_id=student_id, thread_id=ctx.thread_id,
                               subject=subject, skill=state["skill"], kind=kind,
                               parent_id=state.get("parent_id"))
        update = {"negotiation_id": negotiation_id, "status": "open"}
    else:
        negotiation_id = state["negotiation_id"]
        history = [parse_message(m) for m in state["protocol"]]
        messages = list(respond(history[-1], history, profile, now=now, max_rounds=settings.negotiation_max_rounds,
                                review_days=settings.negotiation_review_days, in_plan=plan.get("adjustments", [])))
    payloads = [dump(m) for m in messages]
    for payload in payloads:
        store.add_negotiation_message(negotiation_id, payload)
    return {**update, "protocol": payloads}
