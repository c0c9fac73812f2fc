"""Symbolic answer grading (tier 1, no LLM): safe parsing, equivalence, specific feedback.

`grade(expected, answer)` returns a `Grade(correct, feedback, reason, kind)` and never raises;
`parse_math(text)` is the safe parser on its own. Rules and measurements: docs/grader.md.
Modules in pipeline order: `phrases` (answers said in en/hi/es words), `vocabulary`, `tokens`,
`lexer`, `mixed` (text to tokens); `parse`
(tokens to sympy, size-checked); `answer`, `notation` (answer structure); `interpret`, `kinds`,
`ranges`, `realsets` (what the answer is); `evaluate`, `points`, `numeric` (bounded equality
tests); `values`, `compare`, `compare_sets`, `feedback` (verdicts); `messages` (verdicts in hi/es);
`guard` (time limit); `grader`.
"""

from tutormesh.tools.grading.grader import Grade, grade
from tutormesh.tools.grading.interpret import parse_math
from tutormesh.tools.grading.tokens import MathParseError

__all__ = ["Grade", "MathParseError", "grade", "parse_math"]
