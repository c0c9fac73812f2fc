"""SME agent, after a quiz: re-teach what most of a cohort got wrong, and re-pitch what comes next.

Pure decisions, unit-tested without a database. Tier 1 builds the in-depth explanation from the
question itself and the curriculum: the missed question solved in small, checked steps
(`tools/solution_steps.py`), the mistake behind the most common wrong answer, and the topic's
alternative approach (the lesson is what the students already saw, so it is not sent again).
An LLM tier may enrich it later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tutormesh.agents import rendering
from tutormesh.tools import solution_steps
from tutormesh.tools.curriculum import Topic

RAMP = "Introduce more practice questions (easier to harder)"
# Quiz score shares that move the plan: below LOW the next practice starts easier and ramps up;
# at or above HIGH a ramp put in place earlier is lifted.
LOW, HIGH = 0.5, 0.85


def needs_reteach(wrong: int, cohort_size: int, *, share: float = 0.6, min_answers: int = 5) -> bool:
    """The 60% rule: at least `share` of a cohort (of at least `min_answers` students) answered wrong."""
    return cohort_size >= min_answers and wrong >= share * cohort_size


def answer_key(kind: str, spec: Mapping[str, Any]) -> str | None:
    """The right answer as text: a symbolic question's expected answer, a choice question's right choice."""
    if kind == "symbolic":
        return str(spec.get("answer") or "") or None
    if kind == "choice":
        choices = {str(k).lower(): str(v) for k, v in (spec.get("choices") or {}).items()}
        return choices.get(str(spec.get("answer", "")).lower())
    return None


def checked_solution(prompt: str, key: str | None) -> solution_steps.Solution | None:
    """The question solved step by step, only when its final line agrees with the answer key."""
    solution = solution_steps.solve(prompt)
    if solution is None or key is None or not solution_steps.same_answer(solution.answer, key):
        return None
    return solution


def _as_text(answer: str, kind: str, spec: Mapping[str, Any]) -> tuple[str, str | None]:
    """A wrong answer as the text it stands for, and the teacher's feedback on it (choice questions)."""
    if kind != "choice":
        return answer, None
    choices = {str(k).lower(): (str(k), str(v)) for k, v in (spec.get("choices") or {}).items()}
    feedback = {str(k).lower(): str(v) for k, v in (spec.get("feedback") or {}).items()}
    found = choices.get(answer.strip().lower())
    if found is None:  # typed as the choice's text
        found = next(((k, v) for k, v in choices.values() if v.strip().lower() == answer.strip().lower()), None)
    if found is None:
        return answer, None
    return found[1], feedback.get(found[0].lower())


def misconception(prompt: str, common_wrong: Sequence[str], kind: str, spec: Mapping[str, Any]) -> str | None:
    """Why the most common wrong answer comes out: the teacher's note, a known slip, or a check that fails."""
    if not common_wrong:
        return None
    text, feedback = _as_text(common_wrong[0], kind, spec)
    shown = repr(common_wrong[0]) if text == common_wrong[0] else f"{common_wrong[0]!r} ({text})"
    if feedback:
        return f"The most common wrong answer was {shown}. {feedback}"
    for slip in solution_steps.slips(prompt):
        if solution_steps.same_answer(slip.answer, text):
            return f"The most common wrong answer was {shown}. It is what you get by {slip.mistake}."
    check = solution_steps.substitute(prompt, text) or "Put it back into the question: it does not fit."
    return f"The most common wrong answer was {shown}. {check}"


def in_depth_explanation(topic: Topic, *, prompt: str, wrong_share: float, common_wrong: list[str],
                         kind: str = "symbolic", spec: Mapping[str, Any] | None = None) -> str:
    """Write the re-teaching note for a question: its worked solution, the mistake, another approach.

    Args:
        topic: The question's curriculum topic (its alternative approach and picture).
        prompt: The question as the students saw it.
        wrong_share: The share of the cohort who got it wrong.
        common_wrong: Wrong answers, most common first.
        kind: The question's kind (`choice`, `symbolic`, ...).
        spec: The question's spec (answer, choices, feedback).
    """
    spec = spec or {}
    parts = [f"Many of you ({wrong_share:.0%}) found this question hard: {prompt}"]
    solution = checked_solution(prompt, answer_key(kind, spec))
    if solution is not None:
        steps = "\n".join(f"  {n}. {step.say}\n       {step.line}" for n, step in enumerate(solution.steps, 1))
        parts.append(f"Here is this exact question, solved in small steps ({solution.problem}):\n{steps}\n"
                     f"Answer: {solution.answer}. Every line above was checked: it has the same answer as the "
                     "question.")
    else:  # not a question the step solver handles: the lesson's example, step by step
        parts.append(f"Let's go through {topic.lesson.title} step by step.")
        parts.append(rendering.worked_example(topic, "en"))
    mistake = misconception(prompt, common_wrong, kind, spec)
    if mistake:
        others = [repr(a) for a in common_wrong[1:3]]
        parts.append(mistake + (f" Other answers that were not right: {', '.join(others)}." if others else ""))
    if topic.lesson.alternative:
        parts.append(f"Another way to see it:\n{topic.lesson.alternative.strip()}")
    parts.append(rendering.visual(topic))
    return "\n\n".join(p for p in parts if p)


def difficulty_shift(score_share: float, plan: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return plan fields to change after a quiz (None: leave the plan as it is)."""
    adjustments = list(plan.get("adjustments", []))
    if score_share < LOW and not plan.get("difficulty_ramp"):
        return {"difficulty_ramp": True, "adjustments": [*adjustments, RAMP] if RAMP not in adjustments
                else adjustments}
    if score_share >= HIGH and plan.get("difficulty_ramp"):
        return {"difficulty_ramp": False, "adjustments": [a for a in adjustments if a != RAMP]}
    return None
