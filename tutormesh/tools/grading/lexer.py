"""Turn untrusted math text into tokens: normalise unicode and LaTeX, refuse oversized input.

Nothing here evaluates anything. The lexer only recognises an allow-list of characters, words and
LaTeX commands; everything else is a `MathParseError` with a message a student can act on.
"""

from __future__ import annotations

import re

from sympy import Integer, Rational

from tutormesh.tools.grading.mixed import merge_mixed_numbers
from tutormesh.tools.grading.tokens import (
    MAX_INPUT_CHARS,
    MAX_NUMBER_DIGITS,
    MAX_SCI_EXPONENT,
    MAX_TOKENS,
    MathParseError,
    Token,
)
from tutormesh.tools.grading.vocabulary import (
    CHAR_MAP,
    DIGITS,
    LATEX,
    LATEX_SKIP,
    LATEX_TEXT,
    NAMES,
    NAMES_LONGEST_FIRST,
    OPS1,
    OPS2,
    SUPERSCRIPT,
    UNICODE,
    VULGAR,
    WORDS,
)

_NUMBER = re.compile(r"([1-9]\d{0,2}(?:,\d{3})+(?![\d.])|\d+)(\.\d*)?|\.\d+")
_EXPONENT = re.compile(r"e([+-]?)(\d+)")


def normalise(text: str) -> str:
    """Return `text` stripped, with synonyms mapped to ASCII and LaTeX math delimiters removed.

    Raises:
        MathParseError: if the text is empty, too long or contains control characters.
    """
    if not isinstance(text, str):
        raise MathParseError("The answer must be text.")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text[: MAX_INPUT_CHARS * 4]):
        raise MathParseError("The answer contains an invisible control character.")
    s = text.translate(CHAR_MAP).strip() if len(text) <= MAX_INPUT_CHARS * 4 else text
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
            s = s[len(left) : -len(right)].strip()
    if len(s) > 1 and s.endswith(".") and not s[-2].isdigit():
        s = s[:-1].rstrip()  # a sentence-ending full stop, not a decimal point
    if not s:
        raise MathParseError("The answer is empty.", reason="empty")
    if len(s) > MAX_INPUT_CHARS:
        raise MathParseError(f"The answer is too long (over {MAX_INPUT_CHARS} characters).", reason="too_complex")
    return s


def tokenize(text: str) -> tuple[str, list[Token]]:
    """Normalise `text` and split it into tokens.

    Returns:
        The normalised text (token positions index into it) and the tokens.

    Raises:
        MathParseError: for characters, words or commands outside the allow-list, or oversized input.
    """
    s = normalise(text)
    return s, merge_mixed_numbers(_Lexer(s).run())


class _Lexer:
    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0
        self.out: list[Token] = []
        self.space = False

    def emit(self, kind: str, text: str, pos: int, **extra: object) -> None:
        if len(self.out) >= MAX_TOKENS:
            raise MathParseError("The answer has too many parts to check.", reason="too_complex")
        self.out.append(Token(kind, text, pos, self.space, **extra))  # type: ignore[arg-type]
        self.space = False

    def run(self) -> list[Token]:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c == " ":
                self.space = True
                self.i += 1
            elif c in DIGITS or (c == "." and s[self.i + 1 : self.i + 2] in DIGITS):
                self.number()
            elif c.isascii() and c.isalpha():
                self.word()
            elif c == "\\":
                self.latex()
            elif s[self.i : self.i + 2] in OPS2:
                self.emit("op", OPS2[s[self.i : self.i + 2]], self.i)
                self.i += 2
            elif c in OPS1:
                self.emit("op", c, self.i)
                self.i += 1
            elif c in UNICODE:
                self.emit(*UNICODE[c], self.i)
                self.i += 1
            elif c in VULGAR:
                num, den = VULGAR[c]
                self.emit("num", c, self.i, value=Rational(num, den), sig=99)
                self.i += 1
            elif c.translate(SUPERSCRIPT) != c:
                self.superscript()
            else:
                raise MathParseError(f"I don't recognise the character {c!r}.")
        return self.out

    def number(self) -> None:
        s, start = self.s, self.i
        m = _NUMBER.match(s, start)
        assert m is not None  # the caller saw a digit or ".digit"
        whole = (m.group(1) or "").replace(",", "")
        frac = (m.group(2) or "")[1:] if m.group(1) else m.group(0)[1:]
        end = m.end()
        exp = 0
        e = _EXPONENT.match(s, end)
        if e and not s[e.end() : e.end() + 1].isalpha():
            exp = int(e.group(2)[:6]) * (-1 if e.group(1) == "-" else 1)
            end = e.end()
        digits = (whole + frac).lstrip("0") or "0"
        if len(whole + frac) > MAX_NUMBER_DIGITS:
            raise MathParseError("That number is too long to check.", reason="too_complex")
        if abs(exp) > MAX_SCI_EXPONENT:
            raise MathParseError("That number is too large or too small to check.", reason="too_complex")
        decimal = "." in m.group(0) or end != m.end()
        sig = len(digits) if decimal else len(digits.rstrip("0") or "0")
        value = Rational(int(whole + frac or "0"), 10 ** len(frac)) * Rational(10) ** exp
        self.emit("num", s[start:end], start, value=value, decimal=decimal, sig=sig, dp=len(frac) - exp)
        self.i = end

    def word(self) -> None:
        s, start = self.s, self.i
        while self.i < len(s) and s[self.i].isascii() and s[self.i].isalpha():
            self.i += 1
        run = s[start : self.i].lower()
        if run in WORDS:
            self.emit("word", run, start)
            return
        j, singles = 0, 0
        while j < len(run):
            spelled = next((n for n in NAMES_LONGEST_FIRST if run.startswith(n, j)), None)
            if spelled is None:
                singles += 1
                if singles > 3:  # "lambda", "import": text, not a product of variables
                    raise MathParseError(f"I don't recognise the word {_clip(s[start:self.i])!r}.")
                self.emit(*(("const", "e") if run[j] == "e" else ("name", run[j])), start + j)
                j += 1
            else:
                singles = 0
                name = "oo" if spelled in ("inf", "infinity", "infty") else spelled
                self.emit(NAMES[spelled], name, start + j)
                j += len(spelled)

    def latex(self) -> None:
        s, start = self.s, self.i
        m = re.compile(r"\\([A-Za-z]+|.)").match(s, start)
        if m is None:
            raise MathParseError("A LaTeX command is cut off.")
        name = m.group(1)
        self.i = m.end()
        if name in LATEX_SKIP:
            if name in ("left", "right") and s[self.i : self.i + 1] == ".":
                self.i += 1  # \left. is an invisible delimiter
            return
        if name in LATEX_TEXT:
            self.latex_text(name)
        elif name == "mathbb":
            if not re.compile(r"\s*\{\s*R\s*\}").match(s, self.i):
                raise MathParseError("Only \\mathbb{R} is understood.")
            self.emit("special", "reals", start)
            self.i = s.index("}", self.i) + 1
        elif name in LATEX:
            self.emit(*LATEX[name], start)
        else:
            raise MathParseError(f"I don't understand the LaTeX command \\{name}.")

    def latex_text(self, name: str) -> None:
        s = self.s
        m = re.compile(r"\s*\{([A-Za-z0-9 ,]*)\}").match(s, self.i)
        if m is None:
            raise MathParseError(f"\\{name}{{...}} may only contain words here.")
        inner = _Lexer(m.group(1))
        inner.out, inner.space = self.out, True
        offset = m.start(1)
        n_before = len(self.out)
        inner.run()
        for tok in self.out[n_before:]:
            tok.pos += offset
        self.space = True
        self.i = m.end()

    def superscript(self) -> None:
        s, start = self.s, self.i
        while self.i < len(s) and s[self.i].translate(SUPERSCRIPT) != s[self.i]:
            self.i += 1
        text = s[start : self.i].translate(SUPERSCRIPT)
        if not text.lstrip("+-").isdigit():
            raise MathParseError("I can't read that superscript.")
        self.emit("op", "^", start)
        self.emit("op", "(", start)
        if text[0] in "+-":
            self.emit("op", text[0], start)
        digits = text.lstrip("+-")
        self.emit("num", digits, start, value=Integer(int(digits)), sig=len(digits))
        self.emit("op", ")", start)


def _clip(text: str, n: int = 20) -> str:
    """Shorten text quoted back to the student."""
    return text if len(text) <= n else text[: n - 1] + "…"
