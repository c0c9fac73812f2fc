"""Deterministic verification: the symbolic grader must agree with an independent solve of every item.

Each candidate template is validated as an `ItemTemplate`, instantiated at `seeds` parameter draws
in both variants, and every item's prompt is read back and solved by its family (sympy), never by
the key's own expression. An item passes when the grader accepts the solver's answer against the
key and rejects every misconception. A deck exercise's own numbers are checked the same way, and
its stated answer must agree with the key.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from tutormesh.tools.curriculum import expr
from tutormesh.tools.curriculum.models import VARIANTS, ItemTemplate, TemplateError
from tutormesh.tools.grading import grade
from tutormesh.tools.ingest.templates import FAMILIES, Candidate

SEEDS = 8


def build(candidate: Candidate, subject: str) -> ItemTemplate:
    """Validate a keyed candidate as a curriculum template (raises pydantic's ValidationError)."""
    return ItemTemplate.model_validate({**candidate.spec, "id": candidate.template_id, "subject": subject,
                                        "topic": candidate.topic, "skill": candidate.topic,
                                        "difficulty": candidate.level})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"


def check_template(candidate: Candidate, subject: str, seeds: int = SEEDS) -> tuple[ItemTemplate | None, str, int]:
    """Verify one template at `seeds` draws in both variants.

    Returns:
        (the template or None, the reason it failed or "", the number of items checked).
    """
    if seeds < 1:
        raise ValueError("verification needs at least one draw")
    try:
        template = build(candidate, subject)
    except ValidationError as exc:
        return None, f"invalid template: {_first_error(exc)}", 0
    family = FAMILIES[candidate.match.family]
    checked = 0
    for seed in range(seeds):
        for variant in VARIANTS:
            try:
                item = template.instantiate(seed, variant)
            except (TemplateError, expr.ExprError) as exc:
                return None, f"cannot instantiate (seed {seed}): {exc}", checked
            checked += 1
            where = f"(seed {seed}, variant {variant}: {item.prompt!r})"
            solved = family.solve(item.prompt, candidate.match)
            if solved is None:
                return None, f"the solver cannot read the problem back {where}", checked
            if not grade(item.answer, solved).correct:
                return None, f"the key {item.answer!r} disagrees with the solver's {solved!r} {where}", checked
            for wrong in item.misconceptions:
                if grade(item.answer, wrong.answer).correct:
                    return None, f"the misconception {wrong.answer!r} is graded correct {where}", checked
    return template, "", checked


def deck_env(candidate: Candidate) -> dict[str, expr.Value]:
    """The template's values at the deck's own numbers: the deck's params, then what derives from them."""
    env: dict[str, expr.Value] = dict(candidate.match.numbers())
    for name, source in candidate.spec.get("derived", {}).items():
        if name not in env:
            env[name] = expr.evaluate(source, env)
    return env


def _plain(answer: str, key: str) -> str:
    """The deck's answer without its unit ("2500 m" -> "2500"), and without "V =" when the key is a number."""
    text = re.sub(r"^(.*\d)\s*[^\d]*$", r"\1", answer.split(" (")[0].strip())
    return text if "=" in key else re.sub(r"^[A-Za-z]\w*\s*=\s*", "", text)


def check_source(candidate: Candidate) -> tuple[str | None, str]:
    """Check a keyed candidate at its deck exercise's own numbers.

    Returns:
        (the key at the deck's numbers, or None when the exercise is not recovered; the reason).
    """
    source = candidate.source
    if source is None:
        return None, "no deck exercise at this level"
    try:
        env = deck_env(candidate)
        prompt = expr.render(candidate.spec["variants"]["A"], env)
        key = expr.render(candidate.spec["answer"], env)
    except (expr.ExprError, ZeroDivisionError, KeyError) as exc:
        return None, f"the template cannot be evaluated at the deck's numbers: {exc}"
    solved = FAMILIES[candidate.match.family].solve(prompt, candidate.match)
    if solved is None or not grade(key, solved).correct:
        return None, f"the template at the deck's numbers gives {key!r}, the solver {solved!r}"
    if source.answer and not grade(key, _plain(source.answer, key)).correct:
        return None, f"the deck's answer {source.answer!r} disagrees with the verified key {key!r}"
    return key, ""

