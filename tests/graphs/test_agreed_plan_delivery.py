"""An agreed plan changes what is delivered afterwards, not only what the plan row says.

The seed scenario (three wrong answers, then a negotiation) agrees "2 more visual examples per
concept" and an easier-to-harder ramp at a slow pace. The student chose text in their settings
(`style_override`), so the only way a picture reaches them is the agreement: if the delivery
ignored the plan, no item would carry one. docs/learner-model.md ("Choosing content").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.factories import NOW, make_learner
from tests.graphs.test_student_graph import fail_three
from tutormesh.agents.adaptation import AGREED_VISUALS
from tutormesh.agents.planner import ramp_step
from tutormesh.agents.sme import RAMP_SUPPORT, VISUAL_SUPPORT
from tutormesh.core.settings import Settings
from tutormesh.graphs.runtime import Tutor, new_replies, open_tutor
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import get_store

# An established visual learner (so the SME offers pictures) who leads with text by choice.
EVIDENCE = {"visual": [14.0, 6.0], "text": [2.0, 2.0], "worked_example": [2.0, 2.0], "recap": [1.2, 2.8]}
RAMP_NOTE = re.compile(r"Easier to harder, as agreed: level (\d) of 5; it goes up after (\d) right in a row\.")


@pytest.fixture
def tutor(profile: Settings) -> Iterator[Tutor]:
    with open_tutor(profile) as opened:
        yield opened


def agreed_student(tutor: Tutor, thread: str) -> tuple[str, dict[str, Any]]:
    """A text-first visual learner after the seed negotiation committed a slow, ramped, visual plan."""
    store = get_store()
    student_id = make_learner(store, week=5, covered=7, style_evidence=EVIDENCE)
    store.update_profile(student_id, style_override="text")
    state = fail_three(tutor, student_id, thread)
    assert state["negotiations"][0]["status"] == "committed"
    plan = store.plan(student_id, "math", today=datetime.fromisoformat(NOW).date())
    assert plan["pace"] == "slow" and plan["difficulty_ramp"] is True
    assert VISUAL_SUPPORT in plan["adjustments"] and RAMP_SUPPORT in plan["adjustments"]
    return student_id, state


def practise_right(tutor: Tutor, student_id: str, thread: str, state: dict[str, Any],
                   answers: int) -> list[dict[str, Any]]:
    """Answer the open item right `answers` times; one row per served item (topic, difficulty, shown, note)."""
    curriculum = load_curriculum()
    served = []
    for _ in range(answers):
        item = curriculum.item(state["current_item"]["id"])
        note = RAMP_NOTE.search(new_replies(state)[-1])
        served.append({"topic": item.topic, "difficulty": item.difficulty, "shown": list(state["shown"]),
                       "note": note.groups() if note else None})
        state = tutor.send(student_id, thread, item.answer, now=NOW)
    return served


def by_topic(served: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in served:
        out.setdefault(row["topic"], []).append(row)
    return out


def test_agreed_visuals_arrive_on_the_first_items_of_each_later_topic(tutor: Tutor) -> None:
    student_id, state = agreed_student(tutor, "t-visuals")
    topics = by_topic(practise_right(tutor, student_id, "t-visuals", state, 12))
    later = list(topics.values())[1:]  # topics started after the agreement
    assert len(later) >= 2, topics.keys()
    for rows in later:
        assert [("visual" in r["shown"]) for r in rows[:AGREED_VISUALS]] == [True] * AGREED_VISUALS, rows
        # Only the agreement brings pictures: the chosen text leads, and support fades after that.
        assert all("text" in r["shown"] for r in rows[:AGREED_VISUALS])
        assert not any("visual" in r["shown"] for r in rows[AGREED_VISUALS:]), rows


def test_the_agreed_ramp_climbs_easier_to_harder_as_right_answers_come(tutor: Tutor) -> None:
    student_id, state = agreed_student(tutor, "t-ramp")
    step = ramp_step("slow")
    topics = by_topic(practise_right(tutor, student_id, "t-ramp", state, 12))
    for topic, rows in topics.items():
        levels = [r["difficulty"] for r in rows]
        assert levels == sorted(levels), (topic, levels)  # right answers only: never harder then easier
        # The reply says where the ramp is, and it is the level actually served.
        assert all(r["note"] == (str(r["difficulty"]), str(step)) for r in rows), rows
    full = [rows for rows in list(topics.values())[1:] if len(rows) >= step * 2]
    assert full, topics.keys()
    for rows in full:  # a topic started under the plan: level 1, one level up after `step` right answers
        assert [r["difficulty"] for r in rows[: step * 2]] == [1] * step + [2] * step, rows


def test_agreed_visuals_arrive_on_the_struggled_topic_right_after_the_agreement(tutor: Tutor) -> None:
    student_id, state = agreed_student(tutor, "t-struggled")
    served = practise_right(tutor, student_id, "t-struggled", state, 1)
    assert "visual" in served[0]["shown"]
