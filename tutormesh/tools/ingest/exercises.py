"""Find a slide's own exercises and worked examples: the problem, its steps, and the stated answer.

A problem is a line that starts with a task verb ("Solve", "Convert", "Find", "Calculate", ...),
after an optional label ("Example 2:", "Exercise:", "Q3.", "1)"), or a labelled line with a
number in it. Lines after a worked example's problem are its steps until the next problem; an
"Answer:" line (on the slide or in its notes) is the stated answer; a worked example without one
takes the value its last step arrives at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from tutormesh.tools.ingest.draft import Slide

_BULLET = re.compile(r"^\s*([-*•◦▪‣–]|\u2022)\s*")
_LABEL = re.compile(r"^\s*(worked\s+example|example|exercise|practice|try\s+(this|it)|your\s+turn|question|problem|q)"
                    r"\s*\d*\s*[:.)\-–]\s*|^\s*(q\s*)?\d{1,2}\s*[.)]\s+", re.IGNORECASE)
_VERB = re.compile(r"^(solve|convert|find|calculate|work\s+out|evaluate|simplify|express|determine|compute|change|"
                   r"what\s+is|what\s+are|what\s+current|what\s+voltage|how\s+many|how\s+much|how\s+far|how\s+long)\b",
                   re.IGNORECASE)
_ANSWER = re.compile(r"(?:^|[\s(;.])(answer|ans|solution)\s*[:=]\s*", re.IGNORECASE)
_STEP = re.compile(r"^\s*(step\s*\d+\s*[:.)\-–]\s*|\d{1,2}\s*[.)]\s+|=>\s*|→\s*|⇒\s*)", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.?!;])\s+(?=[A-Z])")
_TASK = re.compile(r"\b(find|calculate|work out|determine|what|how (many|much|far|long))\b|\?", re.IGNORECASE)
_WORKED_TITLE = re.compile(r"\b(worked\s+)?example", re.IGNORECASE)
_FINAL = re.compile(r"(?:^|=|:|\bso\b|\btherefore\b)\s*([a-z]\s*=\s*)?(-?\d+(?:[.,]\d+)?(?:/\d+)?)\s*([a-zA-ZΩµ/²³]*)"
                    r"\s*[.!]?\s*$", re.IGNORECASE)


class Exercise(BaseModel):
    """One problem found on a slide, with its steps when it is a worked example."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slide: int = Field(ge=1)
    prompt: str
    steps: list[str] = Field(default_factory=list)
    answer: str | None = Field(None, description="The answer the deck states (or its last step reaches).")

    @property
    def worked(self) -> bool:
        """Whether the deck shows this problem solved step by step."""
        return bool(self.steps)


def _lines(text: str) -> list[str]:
    return [_BULLET.sub("", line).strip() for line in text.splitlines() if line.strip()]


def _split_answer(line: str) -> tuple[str, str | None]:
    match = _ANSWER.search(line)
    if not match:
        return line, None
    head, answer = line[: match.start()].strip(" ;(-–"), line[match.end():].strip(" ).")
    return head, answer or None


def _problem(line: str, worked_slide: bool) -> str | None:
    """Return the problem in a line: from its first sentence that starts one to the end of the line."""
    sentences = _SENTENCE.split(line)
    for start in range(len(sentences)):
        found = _starts_problem(" ".join(sentences[start:]), sentences[start], worked_slide)
        if found is not None:
            return found
    return None


def _starts_problem(line: str, first: str, worked_slide: bool) -> str | None:
    label = _LABEL.match(line)
    body = line[label.end():].strip() if label else line
    if _VERB.match(body):
        return body
    numbered_step = worked_slide and label is not None and label.group(0).strip()[0].isdigit()
    if label and re.search(r"\d", body) and not _STEP.match(line) and not numbered_step:
        return body
    if re.search(r"\d", body) and _TASK.search(body) and "=" not in first:
        return body
    return None


def _final_value(step: str) -> str | None:
    match = _FINAL.search(step.strip())
    if not match:
        return None
    return (match.group(1) or "").replace(" ", "") + match.group(2).replace(",", ".")


@dataclass
class _Open:
    prompt: str
    worked: bool
    answer: str | None
    steps: list[str] = field(default_factory=list)


def find_exercises(slide: Slide) -> list[Exercise]:
    """Return the exercises and worked examples on a slide, in reading order."""
    worked_slide = bool(_WORKED_TITLE.search(slide.title))
    found: list[_Open] = []
    for line in _lines(slide.text):
        text, answer = _split_answer(line)
        current = found[-1] if found else None
        if current is not None and not text:
            current.answer = current.answer or answer
            continue
        in_steps = current is not None and current.worked and current.answer is None and bool(_STEP.match(line))
        problem = None if in_steps else _problem(text, worked_slide)
        if problem is not None:
            labelled = bool(_LABEL.match(line)) and "example" in line.lower()
            found.append(_Open(problem, worked_slide or labelled, answer))
        elif current is not None and current.answer is None and (current.worked or _STEP.match(line)):
            current.steps.append(_STEP.sub("", text).strip())
            current.answer = answer
    notes = [a for a in (_split_answer(line)[1] for line in _lines(slide.notes)) if a]
    exercises = []
    for index, raw in enumerate(found):
        steps = [s for s in raw.steps if s]
        answer = raw.answer
        if answer is None and len(notes) == len(found):
            answer = notes[index]
        if answer is None and steps:
            answer = _final_value(steps[-1])
        exercises.append(Exercise(slide=slide.number, prompt=raw.prompt.rstrip(), steps=steps, answer=answer))
    return exercises
