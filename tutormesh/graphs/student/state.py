"""Student graph state: what Studio shows and the API returns for one conversation thread."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from tutormesh.core.settings import get_settings


def recent_messages(left: list[AnyMessage], right: list[AnyMessage]) -> list[AnyMessage]:
    """Append like `add_messages`, then keep a window: SQL holds the full history.

    A bounded state keeps every checkpoint the same size, so storage grows linearly with turns
    instead of quadratically.
    """
    return add_messages(left, right)[-get_settings().state_message_window :]  # type: ignore[arg-type,return-value]


class StudentInput(TypedDict):
    """What a caller sends: the new message(s). `student_id` comes from the run context."""

    messages: Annotated[list[AnyMessage], recent_messages]


class StudentState(StudentInput, total=False):
    """The learner model as seen in this turn (SQL is the source of truth)."""

    student_id: str
    turns: Annotated[int, operator.add]
    intent: str
    understanding: dict[str, Any]
    language: str
    subject: str
    topic: str
    profile: dict[str, Any]
    plan: dict[str, Any]
    mastery: dict[str, float]
    skill_stats: dict[str, dict[str, Any]]
    current_item: dict[str, Any] | None
    last_grade: dict[str, Any] | None
    negotiations: list[dict[str, Any]]
    pending_negotiation: dict[str, Any] | None
    # Content types (tools/learner_model.py CONTENT_TYPES) shown in the latest turn; a practice item
    # alone adds nothing. `since_answer` gathers them until the next graded answer, which learns from them.
    shown: list[str]
    since_answer: list[str]
    # The latest answers' engagement signals, as `LearnerStore.recent_engagement` returns them (at most
    # adaptation.EARLIER_ANSWERS rows, oldest first), and how many answers the student had given after
    # the last of them: a practice turn learns from them without reading them again while that count
    # is the fresh mastery rows' (an answer in another thread makes it read the store).
    answer_window: dict[str, Any]
    agreed_visuals: dict[str, int]  # per topic, the pictures an agreed plan has added (at most AGREED_VISUALS)
    # Sessions (agents/reflection.py): a goodbye ends one; a turn after it, or after an idle gap, opens
    # the next, which acts on the latest reflection (`opening`: its lead content type and review topic).
    session_over: bool
    last_turn_at: str
    opening: dict[str, Any] | None
