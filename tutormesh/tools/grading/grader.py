"""Grade a student's math answer against the expected one, symbolically and without an LLM.

`grade` parses both strings with the package's own safe parser (never `eval`), works out what
kind of answer is expected, compares kind by kind (see `compare`), and returns a `Grade` with a
short explanation for the student. It never raises: unreadable, oversized or hostile input is
graded incorrect with a reason, and the whole call is bounded by `time_limit_s` from any thread
(see `guard` for how).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from functools import lru_cache

from tutormesh.tools.grading import feedback as fb
from tutormesh.tools.grading import guard, interpret, messages, phrases
from tutormesh.tools.grading.answer import AnswerParser
from tutormesh.tools.grading.compare import compare
from tutormesh.tools.grading.kinds import Answer
from tutormesh.tools.grading.lexer import tokenize
from tutormesh.tools.grading.numeric import TooComplex
from tutormesh.tools.grading.tokens import MathParseError

logger = logging.getLogger(__name__)

# sympy imports these on first use. Importing takes locks, and the watchdog may interrupt a
# grading thread anywhere, so they are imported now rather than inside a time-limited call.
for _module in ("pkgutil", "sympy.assumptions.wrapper", "sympy.combinatorics", "sympy.sets.setexpr",
                "sympy.tensor.tensor"):
    importlib.import_module(_module)

TOO_COMPLEX = "Your answer is too complicated to check; try writing it more simply."


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer.

    Attributes:
        correct: Whether the answer is accepted.
        feedback: One or two sentences for the student, in the language asked for.
        reason: A machine code: "equivalent", "not_equivalent", "sign_error", "wrong_variable",
            "partial_set", "extra_solutions", "not_simplified", "insufficient_precision",
            "wrong_direction", "endpoint_inclusion", "parse_error", "too_complex", "timeout",
            "empty", "invalid_expected" or "internal_error".
        kind: What the expected answer is: "number", "expression", "equation", "solution_set",
            "interval" or "inequality" ("unknown" only when the expected answer is unreadable).
    """

    correct: bool
    feedback: str
    reason: str
    kind: str


@lru_cache(maxsize=4096)
def _read_expected(text: str) -> tuple[Answer, frozenset[str]]:
    """Parse an answer key once (keys repeat across students), with its variable names.

    The names keep a student's word from being read over one of the key's variables (see phrases).
    """
    source, tokens = tokenize(text)
    names = frozenset(t.text for t in tokens if t.kind == "name")
    return interpret.interpret(AnswerParser(source, tokens).parse()), names


def grade(expected: str, answer: str, *, time_limit_s: float = 1.0, form: str = "any", language: str = "en") -> Grade:
    """Grade `answer` against `expected`.

    The answer may be typed in English, Hindi or Spanish words and digits ("x बराबर ३",
    "x es igual a 3", "menos 2", "3 y -2"); docs/i18n.md lists what is read.

    Args:
        expected: The answer key, written by a curriculum author in the same notation as students.
        answer: The student's answer (untrusted).
        time_limit_s: Hard limit on the call's duration; beyond it the answer is graded incorrect
            with reason "timeout".
        form: "factored" when the question asks for a factorisation: an equivalent answer that is
            not a product of factors is then wrong (reason "not_factored"); "any" otherwise.
        language: "en", "hi" or "es": the language of the feedback, and of the two readings that
            depend on it (a Spanish decimal comma "0,5"; see docs/i18n.md).

    Returns:
        The `Grade`. This function never raises for any input strings.

    Raises:
        ValueError: only for an unknown `language` (a programming error, not student input).
    """
    messages.check_language(language)
    state = {"kind": "unknown", "problem": ""}
    try:
        result = guard.run_with_time_limit(lambda: _grade(expected, answer, state, form, language), time_limit_s)
    except guard.GradeTimeout:
        result = Grade(False, fb.TIMEOUT, "timeout", state["kind"])
    except Exception:  # a bug must not take the tutoring session down with it
        # The answer is student text: log its size only (no PII in logs).
        logger.exception("grader failed (expected=%.80r, answer of %d chars)", expected, len(str(answer)))
        result = Grade(False, fb.INTERNAL, "internal_error", state["kind"])
    if state["problem"]:  # logged here, not inside the time limit: logging takes locks
        logger.warning("unreadable expected answer %.80r: %s", expected, state["problem"])
    if language == "en":
        return result
    return Grade(result.correct, messages.localise(result.feedback, language), result.reason, result.kind)


def _grade(expected: str, answer: str, state: dict[str, str], form: str, language: str) -> Grade:
    try:
        key, names = _read_expected(expected) if isinstance(expected, str) else (interpret.read(expected), frozenset())
    except (MathParseError, TooComplex) as err:
        state["problem"] = str(err)
        return Grade(False, fb.INVALID_EXPECTED, "invalid_expected", "unknown")
    kind = state["kind"] = key.kind
    try:
        given = interpret.read(phrases.rewrite(answer, language, names, key_is_number=kind == "number"))
    except MathParseError as err:
        message = f"I couldn't read your answer: {err}" if err.reason == "parse_error" else str(err)
        return Grade(False, message, err.reason, kind)
    except TooComplex:
        return Grade(False, TOO_COMPLEX, "too_complex", kind)
    try:
        reason, message = compare(key, given, form=form)
    except TooComplex:
        return Grade(False, TOO_COMPLEX, "too_complex", kind)
    return Grade(reason == "equivalent", message, reason, kind)
