"""The one renderer: lessons and worked examples as the student sees them, one variant per content type.

Content types (tools/learner_model.py CONTENT_TYPES): ``text`` (the explanation), ``visual`` (the
topic's ASCII picture), ``worked_example`` (a numbered step list) and ``recap`` (a short bullet
summary; it replaced the "recap video" that never existed). Every place that shows curriculum
content calls this module; the step list itself is `WorkedExample.step_list`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tutormesh.agents.messages import say
from tutormesh.tools.curriculum import Item, Topic, numbered
from tutormesh.tools.learner_model import CONTENT_TYPES

_SENTENCE = re.compile(r"(?<=[.!?।])\s+")


def _plain(markdown: str) -> str:
    return " ".join(markdown.replace("**", "").split())


def explanation(topic: Topic) -> str:
    """The text variant: the lesson's explanation."""
    return topic.lesson.explanation.strip()


def visual(topic: Topic) -> str:
    """The visual variant: the topic's ASCII picture (empty when the topic has none)."""
    return topic.lesson.visual_example.strip("\n").rstrip()


def worked_example(topic: Topic, language: str, *, indent: str = "  ") -> str:
    """The worked-example variant: the problem, its numbered steps, the answer."""
    example = topic.lesson.worked_example
    return say("worked_example", language, problem=example.problem, steps=example.step_list(indent),
               answer=example.answer)


def recap(topic: Topic, language: str) -> str:
    """The recap variant: the key idea, the rule's last sentence and the example's answer, as bullets."""
    sentences = [s for s in _SENTENCE.split(_plain(topic.lesson.explanation)) if s]
    example = topic.lesson.worked_example
    bullets = sentences[:1] + sentences[-1:] if len(sentences) > 1 else sentences
    bullets.append(say("recap_example", language, problem=example.problem, answer=example.answer))
    return "\n".join([say("recap_title", language, topic=topic.title), *(f"  • {b}" for b in bullets)])


def variant(topic: Topic, content_type: str, language: str) -> str:
    """Render one content type of a topic."""
    if content_type == "text":
        return explanation(topic)
    if content_type == "visual":
        return visual(topic)
    if content_type == "worked_example":
        return worked_example(topic, language)
    if content_type == "recap":
        return recap(topic, language)
    raise ValueError(f"unknown content type {content_type!r}; expected one of {CONTENT_TYPES}")


def lesson(topic: Topic, language: str, extras: Sequence[str] = ()) -> str:
    """A full lesson: title, explanation, worked example, then any extra variants (visual, recap)."""
    parts = [f"# {topic.lesson.title}", explanation(topic), worked_example(topic, language)]
    parts += [variant(topic, kind, language) for kind in dict.fromkeys(extras)
              if kind not in ("text", "worked_example")]
    return "\n\n".join(p for p in parts if p)


def lesson_types(extras: Sequence[str]) -> list[str]:
    """The content types a full lesson shows (what `lesson` renders, in order)."""
    return ["text", "worked_example", *(k for k in dict.fromkeys(extras) if k not in ("text", "worked_example"))]


def support(topic: Topic, kinds: Sequence[str], language: str) -> str:
    """A short piece shown before a practice item: the chosen variants under one heading."""
    if not kinds:
        return ""
    body = [variant(topic, kind, language) for kind in dict.fromkeys(kinds)]
    return "\n\n".join([say("support_intro", language, topic=topic.title), *(b for b in body if b)])


def problem_steps(item: Item, *, indent: str = "  ") -> str:
    """The open problem's steps as a numbered list, all but the last (which states the answer)."""
    return numbered(item.hints[: max(1, len(item.hints) - 1)], indent)


def worked_solution(item: Item, language: str) -> str:
    """An item's full solution, step by step, after the student's answer was wrong."""
    return say("worked_solution", language, steps="\n" + numbered(item.hints, "  ") if item.hints else "")
