"""What to work on next: the focus topic (following prerequisites) and the next practice item.

Pure decisions over the learner model and the curriculum, unit-tested without a graph.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tutormesh.tools import bkt
from tutormesh.tools.curriculum import Item, Topic, load_curriculum
from tutormesh.tools.learner_model import CONTENT_TYPES, due_reviews


def stable_bucket(key: str, buckets: int) -> int:
    """Map a key to a bucket that stays the same across processes (A/B arms, item seeds)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % buckets


def delivery_pace(plan: Mapping[str, Any], profile: Mapping[str, Any] | None = None) -> str:
    """The pace content is delivered at: an agreed (non-moderate) plan pace wins, else the learned one."""
    agreed = plan.get("pace", "moderate")
    return str(agreed if agreed != "moderate" else (profile or {}).get("pace", "moderate"))


def ramp_step(pace: str) -> int:
    """Right answers in a row that move an easier-to-harder ramp up one level (slower at a slow pace)."""
    return 2 if pace == "slow" else 1


def target_difficulty(p_known: float, streak: int, plan: Mapping[str, Any], pace: str | None = None) -> int:
    """Pick a difficulty 1..5 from mastery, eased at a slow pace, raised at a fast one, ramped easier-to-harder."""
    pace = pace or plan.get("pace", "moderate")
    level = 1 + int(p_known * 5) + {"slow": -1, "fast": 1}.get(pace, 0)
    if plan.get("difficulty_ramp"):
        level = min(level, 1 + streak // ramp_step(pace))
    return min(max(level, 1), 5)


def fixed_difficulty(attempts: int) -> int:
    """The fixed sequence (no adaptation): levels 1, 2, 3, 4, 5 in order, then again."""
    return 1 + attempts % 5


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


def _first_open(topic: Topic, mastery: Mapping[str, Mapping[str, Any]]) -> Topic:
    """The topic itself when it is ready, else its earliest prerequisite not mastered yet."""
    seen: set[str] = set()
    while not ready(topic, mastery) and topic.slug not in seen:
        seen.add(topic.slug)
        topic = next(p for p in prerequisites(topic) if not mastered(p, mastery))
    return topic


def preferred_topics(subject: str, mastery: Mapping[str, Mapping[str, Any]], *, goals: Sequence[str] = (),
                     weaknesses: Sequence[str] = (), now: datetime | None = None) -> list[Topic]:
    """Topics to turn to first, in order: goals, then weaknesses, then spaced reviews of stale skills.

    Goals and weaknesses name topic slugs or skills; a goal whose prerequisites are missing starts
    at the first missing one. A review is a practised skill not seen for `REVIEW_AFTER_DAYS`.
    """
    topics = load_curriculum().subjects[subject].topics

    def named(names: Sequence[str]) -> list[Topic]:
        return [t for t in topics if t.slug in names or t.skill in names]

    out = [_first_open(t, mastery) for t in named(goals) if not mastered(t, mastery)]
    out += [t for t in named(weaknesses) if not mastered(t, mastery)]
    if now is not None:
        stale = due_reviews(mastery, now)
        out += sorted(named(stale), key=lambda t: stale.index(t.skill))
    unique: dict[str, Topic] = {}
    for topic in out:
        unique.setdefault(topic.slug, topic)
    return list(unique.values())


def focus_topic(subject: str, mastery: Mapping[str, Mapping[str, Any]], wanted: list[Topic],
                current: str | None = None, *, goals: Sequence[str] = (), weaknesses: Sequence[str] = (),
                now: datetime | None = None) -> Topic:
    """Choose the topic to work on among the ones a request names (best match first).

    Several close matches ("linear equations" names three) are taken in teaching order, so the
    learner starts at the first one they have not mastered. When they mastered all of them, the
    next topic follows the prerequisites from there. With nothing named, stay on the current topic
    until it is mastered; then (or with no current topic) goals, weaknesses and due reviews come
    first (`preferred_topics`), and the teaching order after them.
    """
    topics = load_curriculum().subjects[subject].topics
    if wanted:
        ordered = sorted(wanted, key=lambda t: topics.index(t) if t in topics else len(topics))
        for topic in ordered:
            if not mastered(topic, mastery):
                return topic
        return next_topic(ordered[-1], mastery)
    found = next((t for t in topics if t.slug == current), None) if current else None
    if found is not None and not mastered(found, mastery):
        return found
    first = [t for t in preferred_topics(subject, mastery, goals=goals, weaknesses=weaknesses, now=now)
             if t is not found]
    if first:
        return first[0]
    if found is not None:
        return next_topic(found, mastery)
    return next((t for t in topics if not mastered(t, mastery) and ready(t, mastery)), topics[-1])


def next_item(student_id: str, topic: Topic, state: Mapping[str, Any], plan: Mapping[str, Any], *,
              pace: str | None = None, adaptive: bool = True, retired: Mapping[str, str] | None = None,
              culture_slug: str | None = None) -> Item:
    """Instantiate the next practice item: difficulty from the learner model (or the fixed order), stable A/B arm.

    The arm is fixed per student (the unit `tools/experiments.py` compares); once an experiment's
    arm is `retired`, its students get the other wording. `culture_slug` fills its names and money
    (None: the default context of the topic's language).
    """
    row = state.get(topic.skill, {})
    if adaptive:
        level = target_difficulty(row.get("p_known", topic.bkt.p_init), row.get("streak", 0), plan, pace)
    else:
        level = fixed_difficulty(row.get("attempts", 0))
    variant = "AB"[stable_bucket(student_id, 2)]
    if (retired or {}).get(topic.slug) == variant:
        variant = "B" if variant == "A" else "A"
    seed = stable_bucket(f"{student_id}:{topic.skill}", 100_000) + row.get("attempts", 0)
    return topic.template(level).instantiate(seed, variant, culture_slug)


def _topic_of_skill(skill: str) -> Topic | None:
    return next((t for t in load_curriculum().topics() if t.skill == skill), None)


def session_opening(reflection: Mapping[str, Any]) -> dict[str, Any] | None:
    """How a new session acts on the latest reflection: the type it leads with, the topic it reviews first.

    Returns None when the reflection asks for no change. `reason` is what the adaptation record
    says (agents/reflection.py found the facts; docs/learner-model.md, "Reflections").
    """
    steps = reflection.get("next_steps") or {}
    first = steps.get("first_content") if steps.get("first_content") in CONTENT_TYPES else None
    review = [t for t in (_topic_of_skill(s) for s in steps.get("review_skills") or []) if t is not None]
    if first is None and not review:
        return None
    why = []
    if first is not None:
        found = next((f for f in reflection.get("worked") or [] if f.get("code") == "content_worked"
                      and f.get("kind") == first), None)
        fact = (f"{found['right']} of {found['n']} answers after {first} were right" if found
                else f"{reflection.get('right', '?')} of {reflection.get('answers', '?')} answers right, no content "
                     "type clearly helped")
        why.append(f"{fact} -> lead with {first}")
    for topic in review:
        row = next((f for f in reflection.get("struggled") or [] if f.get("skill") == topic.skill
                    and f.get("code") == "mastery_fell"), None)
        fact = (f"mastery fell {row['before']:.2f} -> {row['after']:.2f}" if row
                else "mastery still low or mistakes repeated")
        why.append(f"{topic.skill}: {fact} -> review it first")
    when = str(reflection.get("created_at") or "")[:10]
    return {"reflection_id": reflection.get("id"), "first_content": first,
            "review_skills": [t.skill for t in review], "review_topic": review[0].slug if review else None,
            "reason": f"last session's reflection ({when}): " + "; ".join(why), "announced": False}
