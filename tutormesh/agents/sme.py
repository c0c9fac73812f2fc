"""SME agent: owns a subject's curriculum timeline and decides what changes it can afford.

One agent, parameterised by subject. Its decisions are pure functions of the real constraint (the
subject's topics must be covered by the last week of the semester), so they are unit-tested
without an LLM and explained with numbers in every message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from langgraph.runtime import Runtime

from tutormesh.agents.protocol import Commit, Counteroffer, Pace, Propose, Reject, dump, parse_message
from tutormesh.core import clock
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.graphs.context import RunContext
from tutormesh.tools.bkt import is_mastered
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import get_store

# Topics delivered per week at each pace. The curriculum has slack built in: 20 topics in 16 weeks
# need 1.25 topics/week, so a slow pace is affordable early in a semester and not late.
PACE_RATE: dict[str, float] = {"slow": 1.3, "moderate": 1.7, "fast": 2.2}
# Support the SME can add, with its cost in teaching weeks over the rest of the unit. Each one is
# delivered by the student agent (agents/adaptation.py): pictures with a topic's first items, the
# easier-to-harder ramp (agents/planner.py), a recap summary when a topic is mastered.
VISUAL_SUPPORT = "Add 2 more visual examples per concept"
RAMP_SUPPORT = "Introduce more practice questions (easier to harder)"
RECAP_SUPPORT = "Recap summary at the end of each topic"
SUPPORT_COST: dict[str, float] = {VISUAL_SUPPORT: 0.1, RAMP_SUPPORT: 0.1, RECAP_SUPPORT: 0.1}
# The protocol's support strings are the seed's wire format (English); students read these messages.
SUPPORT_MESSAGE = {VISUAL_SUPPORT: "support_visual", RAMP_SUPPORT: "support_ramp", RECAP_SUPPORT: "support_recap"}
TRADE_OFF = "Will reduce breadth, focus on depth"


@dataclass(frozen=True)
class Timeline:
    """Where a student stands against the subject's semester."""

    semester_weeks: int
    week: int
    topics_total: int
    topics_covered: int

    @property
    def weeks_left(self) -> int:
        """Teaching weeks left, counting the current one."""
        return max(self.semester_weeks - self.week + 1, 0)

    @property
    def topics_left(self) -> int:
        """Topics still to cover."""
        return max(self.topics_total - self.topics_covered, 0)

    def weeks_needed(self, pace: str) -> float:
        """Weeks to cover the remaining topics at a pace."""
        return self.topics_left / PACE_RATE[pace]

    def slack(self, pace: str) -> float:
        """Spare weeks if the rest is taught at this pace (negative: the deadline is missed)."""
        return self.weeks_left - self.weeks_needed(pace)

    def as_dict(self) -> dict[str, Any]:
        """Numbers quoted in protocol messages."""
        return {**asdict(self), "weeks_left": self.weeks_left, "topics_left": self.topics_left}


def week_of(start: date, today: date, semester_weeks: int) -> int:
    """Return the semester week (1-based, clamped to the semester) of `today`."""
    return min(max((today - start).days // 7 + 1, 1), semester_weeks)


def _affordable_support(wanted: list[str], slack: float) -> list[str]:
    chosen, spent = [], 0.0
    for name in wanted:
        cost = SUPPORT_COST.get(name)
        if cost is not None and spent + cost <= slack + 1e-9:
            chosen.append(name)
            spent += cost
    return chosen


def evaluate(proposal: Propose, timeline: Timeline) -> Counteroffer | Reject:
    """Answer a student agent's proposal with what the curriculum can afford, or a reasoned no."""
    current, wanted = proposal.current_pace, proposal.proposed_pace
    support = proposal.requested_adjustments or list(SUPPORT_COST)
    numbers = timeline.as_dict()
    if proposal.kind == "PACE_ADJUSTMENT" and PACE_RATE[wanted] < PACE_RATE[current]:
        slack = timeline.slack(wanted)
        if slack >= 0:
            extra = math.ceil(timeline.weeks_needed(wanted) - timeline.weeks_needed(current))
            return Counteroffer(
                sender="sme_agent",
                proposed_pace=wanted,
                adjustments=_affordable_support(support, slack),
                trade_off=TRADE_OFF,
                estimated_impact=f"+{extra} weeks to complete unit",
                constraint={**numbers, "slack_weeks": round(slack, 2)},
            )
        spare = timeline.slack(current)
        per_topic = 1 / PACE_RATE[wanted] - 1 / PACE_RATE[current]
        slow_topics = math.floor(spare / per_topic) if spare > 0 else 0
        if slow_topics >= 1:
            left = spare - slow_topics * per_topic
            return Counteroffer(
                sender="sme_agent",
                proposed_pace=wanted,
                slow_topics=slow_topics,
                adjustments=_affordable_support(support, left),
                trade_off=f"Slow pace for the next {slow_topics} topics only, then back to {current}",
                estimated_impact=f"uses {spare - left:.1f} of {spare:.1f} spare weeks",
                constraint={**numbers, "slack_weeks": round(spare, 2)},
            )
    else:
        spare = timeline.slack(current)
        chosen = _affordable_support(support, spare)
        if chosen:
            cost = sum(SUPPORT_COST[c] for c in chosen)
            return Counteroffer(
                sender="sme_agent",
                proposed_pace=current,
                adjustments=chosen,
                trade_off="Same pace; extra support in place of new material",
                estimated_impact=f"+{cost:.2f} weeks of teaching time",
                constraint={**numbers, "slack_weeks": round(spare, 2)},
            )
    needed = timeline.topics_left / max(timeline.weeks_left, 1)
    return Reject(
        sender="sme_agent",
        reason=(
            f"{timeline.topics_left} topics remain in {timeline.weeks_left} weeks "
            f"(week {timeline.week} of {timeline.semester_weeks}): that needs {needed:.1f} topics/week, "
            f"and the {current} pace gives {PACE_RATE[current]}; there is no room to slow down."
        ),
        constraint={**numbers, "slack_weeks": round(timeline.slack(current), 2)},
    )


def plan_after_commit(
    plan: dict[str, Any], pace: Pace, adjustments: list[str], slow_topics: int | None
) -> dict[str, Any]:
    """Return the delivery plan with an agreed change applied."""
    merged = list(dict.fromkeys([*plan.get("adjustments", []), *adjustments]))
    return {
        "pace": pace,
        "adjustments": merged,
        "difficulty_ramp": "Introduce more practice questions (easier to harder)" in merged,
        "slow_topics_left": slow_topics,
    }


def timeline_for(store: LearnerStore, student_id: str, subject: str, today: date) -> Timeline:
    """Build a student's timeline from their plan start, the calendar and the topics mastered."""
    unit = load_curriculum().subjects[subject]
    plan = store.plan(student_id, subject, today=today)
    mastery = store.mastery(student_id)
    covered = sum(1 for t in unit.topics if is_mastered(mastery.get(t.skill, {}).get("p_known", 0.0),
                                                       mastery.get(t.skill, {}).get("attempts", 0)))
    start = date.fromisoformat(plan["start_date"])
    return Timeline(
        semester_weeks=unit.semester_weeks,
        week=week_of(start, today, unit.semester_weeks),
        topics_total=len(unit.topics),
        topics_covered=covered,
    )


def run(state: Mapping[str, Any], runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Answer the latest PROPOSE in `protocol` for this subject (persisted when in a negotiation)."""
    store = get_store()
    proposal = parse_message(state["protocol"][-1])
    if not isinstance(proposal, Propose):
        raise ValueError(f"the SME agent answers a PROPOSE, got {proposal.type}")
    today = clock.now((runtime.context or RunContext()).now).date()
    timeline = timeline_for(store, state["student_id"], state["subject"], today)
    reply = dump(evaluate(proposal, timeline))
    if state.get("negotiation_id"):
        store.add_negotiation_message(state["negotiation_id"], reply)
    return {"protocol": [reply]}


def commit(state: Mapping[str, Any], runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Apply the accepted agreement to the delivery plan and open the review window (COMMIT)."""
    store = get_store()
    accept = parse_message(state["protocol"][-1])
    offer = next(
        (m for m in map(parse_message, reversed(state["protocol"])) if isinstance(m, Counteroffer)), None
    )
    if accept.type != "ACCEPT" or offer is None:
        raise ValueError("commit needs an ACCEPT that answers a COUNTEROFFER")
    student_id, subject = state["student_id"], state["subject"]
    today = clock.now((runtime.context or RunContext()).now).date()
    plan = plan_after_commit(
        store.plan(student_id, subject, today=today), accept.agreed_pace, accept.agreed_adjustments,
        offer.slow_topics,
    )
    plan = store.set_plan(student_id, subject, **plan)
    store.update_profile(student_id, pace=accept.agreed_pace)
    store.reset_fail_streak(student_id, state["skill"])
    message = dump(Commit(sender="sme_agent", plan=plan))
    baseline = store.mastery(student_id).get(state["skill"], {}).get("p_known")
    store.add_negotiation_message(state["negotiation_id"], message)
    store.close_negotiation(
        state["negotiation_id"], "committed", review_at=clock.now(accept.review_at), baseline_mastery=baseline
    )
    return {"protocol": [message], "status": "committed"}
