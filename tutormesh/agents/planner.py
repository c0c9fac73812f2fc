"""What to work on next: the focus topic (following prerequisites) and the next practice item.

Pure decisions over the learner model and the curriculum, unit-tested without a graph.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from tutormesh.tools import bkt
from tutormesh.tools.curriculum import Item, Topic, load_curriculum


def stable_bucket(key: str, buckets: int) -> int:
    """Map a key to a bucket that stays the same across processes (A/B arms, item seeds)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % buckets


def target_difficulty(p_known: float, streak: int, plan: Mapping[str, Any]) -> int:
    """Pick a difficulty 1..5 from mastery, eased by a slow pace and ramped easier-to-harder."""
    level = 1 + int(p_known * 5)
    if plan.get("pace") == "slow":
        level -= 1
    if plan.get("difficulty_ramp"):
        level = min(level, 1 + streak)
    return min(max(level, 1), 5)


def mastered(topic: Topic, mastery: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the learner has mastered a topic (estimate and evidence, see `bkt.is_mastered`)."""
    row = mastery.get(topic.skill, {})
    return bkt.is_mastered(row.get("p_known", 0.0), row.get("attempts", 0))


def prerequisites(topic: Topic) -> list[Topic]:
    """Return a topic's prerequisites: the declared ones, else the topic before it in its unit."""
    curriculum = load_curriculum()
    if topic.prerequisites:
        return [curriculum.topic(slug) for slug in topic.prerequisites]
    topics = curriculum.subjects[topic.subject].topics
    at = topics.index(topic)
    return topics[at - 1 : at] if at else []


def ready(topic: Topic, mastery: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether every prerequisite of a topic is mastered."""
    return all(mastered(p, mastery) for p in prerequisites(topic))


def next_topic(after: Topic, mastery: Mapping[str, Mapping[str, Any]]) -> Topic:
    """The topic to move on to from `after`: the first later open topic whose prerequisites are met.

    Never back to week 1: topics after the current one come first; an earlier open topic is
    chosen only when nothing later is ready (a gap the learner skipped).
    """
    topics = load_curriculum().subjects[after.subject].topics
    at = topics.index(after)
    for topic in [*topics[at + 1 :], *topics[:at]]:
        if not mastered(topic, mastery) and ready(topic, mastery):
            return topic
    return next((t for t in topics[at + 1 :] if not mastered(t, mastery)), after)


def focus_topic(subject: str, mastery: Mapping[str, Mapping[str, Any]], wanted: list[Topic],
                current: str | None = None) -> Topic:
    """Choose the topic to work on among the ones a request names (best match first).

    Several close matches ("linear equations" names three) are taken in teaching order, so the
    learner starts at the first one they have not mastered. When they mastered all of them, the
    next topic follows the prerequisites from there. With nothing named, stay on the current topic
    until it is mastered.
    """
    topics = load_curriculum().subjects[subject].topics
    if wanted:
        ordered = sorted(wanted, key=lambda t: topics.index(t) if t in topics else len(topics))
        for topic in ordered:
            if not mastered(topic, mastery):
                return topic
        return next_topic(ordered[-1], mastery)
    if current:
        found = next((t for t in topics if t.slug == current), None)
        if found is not None:
            return found if not mastered(found, mastery) else next_topic(found, mastery)
    return next((t for t in topics if not mastered(t, mastery) and ready(t, mastery)), topics[-1])


def next_item(student_id: str, topic: Topic, state: Mapping[str, Any], plan: Mapping[str, Any]) -> Item:
    """Instantiate the next practice item: difficulty from the learner model, stable A/B arm."""
    row = state.get(topic.skill, {})
    level = target_difficulty(row.get("p_known", topic.bkt.p_init), row.get("streak", 0), plan)
    variant = "AB"[stable_bucket(student_id, 2)]
    seed = stable_bucket(f"{student_id}:{topic.skill}", 100_000) + row.get("attempts", 0)
    return topic.template(level).instantiate(seed, variant)
