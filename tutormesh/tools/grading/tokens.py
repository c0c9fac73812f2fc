"""Types shared by the parsing stages: the token, the student-facing parse error, size limits."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Rational

# Limits that keep every later step small (see guard.py for how they bound the time per grade).
MAX_INPUT_CHARS = 500  # after trimming; a long answer is almost always pasted junk
MAX_TOKENS = 300  # bounds the size of the sympy tree, so building it takes milliseconds
MAX_NUMBER_DIGITS = 60  # longer literals are not school answers and slow exact arithmetic
MAX_SCI_EXPONENT = 100  # 1e999999 would otherwise be a million-digit integer


class MathParseError(ValueError):
    """Raised when text is not math the grader accepts; `str(err)` is safe to show a student.

    Attributes:
        reason: "parse_error", "too_complex" or "empty".
    """

    def __init__(self, message: str, *, reason: str = "parse_error") -> None:
        """Create the error with a student-facing `message` and a machine `reason`."""
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class Token:
    """One lexical unit.

    `kind` is one of: num, name, const, func, cmd, word, special, op.
    For `num` tokens, `value` is exact, `sig` counts significant figures, `dp` counts decimal places
    (after percent/scientific scaling is applied by the caller), and `decimal` says a point or an
    exponent was written.
    """

    kind: str
    text: str
    pos: int
    space_before: bool = False
    value: Rational | None = None
    decimal: bool = False
    sig: int = 0
    dp: int = 0
