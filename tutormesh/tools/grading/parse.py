"""Pratt parser from tokens to sympy expressions, built through size-checked constructors.

sympy's `parse_expr`/`sympify` run `eval`, so they are never used. Every node is built here with
`Add`, `Mul`, `Pow` and an allow-list of functions, and each constructor refuses work that could
run long before sympy starts it: huge integer powers, big factorials, deep nesting.
"""

from __future__ import annotations

from sympy import Abs, Add, Dummy, Expr, Integer, Mul, Pow, Rational, S, Symbol, cos, exp, factorial, log, sin, tan

from tutormesh.tools.grading.tokens import MathParseError, Token

MAX_DEPTH = 60
MAX_BITS = 20_000  # largest exact number (in bits) sympy may be asked to compute
MAX_SYMBOLIC_EXPONENT = 1000
MAX_FACTORIAL = 200
PLUS_MINUS = (Dummy("pm1"), Dummy("pm2"))  # stand for +1/-1 until an answer is expanded

_ADD, _MUL, _UNARY, _POW, _POSTFIX = 10, 20, 30, 40, 50
_INFIX = {"+": _ADD, "-": _ADD, "±": _ADD, "*": _MUL, "/": _MUL, "^": _POW, "!": _POSTFIX, "%": _POSTFIX}
_CONSTANTS = {"pi": S.Pi, "e": S.Exp1, "oo": S.Infinity}
_INFINITIES = (S.Infinity, S.NegativeInfinity)


def too_complex(message: str) -> MathParseError:
    """Build the error for input that is valid math but too big to check safely."""
    return MathParseError(message, reason="too_complex")


def height_bits(expr: Expr) -> int:
    """Estimate the bits needed to write `expr` exactly: sizes of its numbers, scaled by powers.

    Used both to refuse huge exact arithmetic and to pick a safe numeric precision.
    """
    if expr.is_Rational:
        return int(expr.p).bit_length() + int(expr.q).bit_length()
    if expr.is_Atom:
        return 2  # a symbol (sampled in [-2, 2]) or pi/e
    if expr.is_Pow:
        base, power = height_bits(expr.base), expr.exp
        if power.is_Rational:
            return int(abs(power.p)) * base + height_bits(power)
        return base + height_bits(power) + 8  # measured magnitudes cover the rest (numeric.sample)
    return sum(height_bits(arg) for arg in expr.args) + (8 if expr.is_Function else 0)


class ExprParser:
    """Parse expressions from a token list; subclasses add answer-level structure."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        """Start at the first token of `tokens`, which were lexed from `text`."""
        self.text = text
        self.toks = tokens
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.pm_used = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token | None:
        """Return the token `k` places ahead, or None past the end."""
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, *texts: str, kind: str = "op", k: int = 0) -> bool:
        """Say whether the token `k` ahead has this kind and one of these texts."""
        tok = self.peek(k)
        return tok is not None and tok.kind == kind and tok.text in texts

    def advance(self) -> Token:
        """Consume and return the next token."""
        tok = self.peek()
        if tok is None:
            raise MathParseError("The answer stops too early; something is missing at the end.")
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        """Consume the operator `text` or fail with a readable message."""
        if not self.at(text):
            tok = self.peek()
            found = "the end" if tok is None else repr(self.text[tok.pos : tok.pos + 12])
            raise MathParseError(f"I expected {_SHOW.get(text, text)!r} but found {found}.")
        self.i += 1

    # -- Pratt core ----------------------------------------------------------------------------
    def expr(self, rbp: int = 0) -> Expr:
        """Parse an expression whose operators bind tighter than `rbp`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_complex("The answer is nested too deeply to check.")
        try:
            left = self.prefix()
            while self.infix_power(self.peek()) > rbp:
                left = self.infix(left)
            return left
        finally:
            self.depth -= 1

    def infix_power(self, tok: Token | None) -> int:
        """Return how strongly `tok` binds as an infix/postfix operator (0: it ends the expression)."""
        if tok is None or tok.kind in ("word", "special"):
            return 0
        if tok.kind == "op":
            if tok.text in _INFIX:
                return _INFIX[tok.text]
            implicit = tok.text in ("(", "{") or (tok.text == "|" and self.abs_depth == 0)
            return _MUL if implicit else 0
        return _MUL  # a number, name, constant or function: implicit multiplication

    def infix(self, left: Expr) -> Expr:
        """Combine `left` with the operator or implicit product that follows it."""
        tok = self.advance()
        op = tok.text if tok.kind == "op" else ""
        if op == "+":
            return self.add(left, self.expr(_ADD))
        if op == "-":
            return self.add(left, self.neg(self.expr(_ADD)))
        if op == "±":
            return self.add(left, self.mul(self.plus_minus(), self.expr(_ADD)))
        if op == "*":
            return self.mul(left, self.expr(_MUL))
        if op == "/":
            return self.div(left, self.expr(_MUL))
        if op == "^":
            return self.power(left, self.expr(_POW - 1))  # right-associative
        if op == "!":
            return self.factorial(left)
        if op == "%":
            return self.div(left, Integer(100))
        if tok.kind == "num":
            raise MathParseError(
                f"I can't tell how the number {tok.text} joins what comes before it; "
                "add an operator such as * or ^."
            )
        self.i -= 1  # implicit multiplication: re-read the token as the start of an operand
        return self.mul(left, self.expr(_MUL))

    def prefix(self) -> Expr:
        """Parse an operand: a number, name, function, group or unary operator."""
        tok = self.advance()
        if tok.kind == "num":
            assert tok.value is not None
            return tok.value
        if tok.kind == "name":
            return Symbol(tok.text)
        if tok.kind == "const":
            return _CONSTANTS[tok.text]
        if tok.kind == "func":
            return self.function(tok.text)
        if tok.kind == "cmd":
            return self.latex_command(tok.text)
        closers = {"(": ")", "[": "]", "{": "}"}
        if tok.kind == "op" and tok.text in closers:
            inner = self.expr()
            self.expect(closers[tok.text])
            return inner
        if tok.kind == "op" and tok.text == "|":
            self.abs_depth += 1
            inner = self.expr()
            self.expect("|")
            self.abs_depth -= 1
            return self.checked(Abs(self.finite(inner)))
        if tok.kind == "op" and tok.text == "-":
            return self.neg(self.expr(_UNARY))
        if tok.kind == "op" and tok.text == "+":
            return self.expr(_UNARY)
        if tok.kind == "op" and tok.text == "±":
            return self.mul(self.plus_minus(), self.expr(_UNARY))
        raise MathParseError(f"I didn't expect {_SHOW.get(tok.text, tok.text)!r} there.")

    def function(self, name: str) -> Expr:
        """Apply an allow-listed function; without brackets it takes only the next factor."""
        base: Expr = Integer(10)
        if self.at("("):
            self.i += 1
            arg = self.expr()
            if name == "log" and self.at(","):
                self.i += 1
                base = self.expr()
            self.expect(")")
        else:
            arg = self.expr(_POW)  # "sqrt 2x" is sqrt(2)*x, like "√2x"
        arg = self.finite(arg)
        if name == "sqrt":
            return self.root(arg, 2)
        if name == "cbrt":
            return self.root(arg, 3)
        if name == "log":
            return self.checked(log(arg, self.finite(base)))  # school convention: log is base 10
        funcs = {"abs": Abs, "ln": log, "exp": exp, "sin": sin, "cos": cos, "tan": tan}
        return self.checked(funcs[name](arg))

    def latex_command(self, name: str) -> Expr:
        r"""Parse \frac{a}{b}, \sqrt{x} and \sqrt[n]{x}."""
        if name == "frac":
            numerator = self.latex_arg()
            return self.div(numerator, self.latex_arg())
        if self.at("["):
            self.i += 1
            index = self.expr()
            self.expect("]")
            if not (index.is_Integer and 2 <= index <= 100):
                raise MathParseError("The root index must be a whole number from 2 to 100.")
            return self.root(self.latex_arg(), int(index))
        return self.root(self.latex_arg(), 2)

    def latex_arg(self) -> Expr:
        r"""Parse one LaTeX argument: a {group} or a single digit/letter as in \frac12."""
        tok = self.peek()
        if self.at("{"):
            self.i += 1
            inner = self.expr()
            self.expect("}")
            return inner
        if tok is not None and tok.kind == "num" and tok.text.isdigit() and len(tok.text) > 1:
            rest = tok.text[1:]  # \frac12: the first digit is one argument, the rest the next
            self.toks[self.i] = Token("num", rest, tok.pos + 1, value=Integer(int(rest)), sig=len(rest))
            return Integer(int(tok.text[0]))
        if tok is not None and tok.kind in ("num", "name", "const"):
            return self.prefix()
        raise MathParseError("A LaTeX command needs its arguments in braces, like \\frac{3}{4}.")

    # -- bounded constructors ------------------------------------------------------------------
    def plus_minus(self) -> Expr:
        """Return a fresh ± placeholder (at most two per answer: each doubles the work)."""
        if self.pm_used >= len(PLUS_MINUS):
            raise too_complex("The answer uses ± too many times.")
        self.pm_used += 1
        return PLUS_MINUS[self.pm_used - 1]

    @staticmethod
    def finite(value: Expr) -> Expr:
        """Refuse ∞ anywhere except as a whole interval endpoint."""
        if value in _INFINITIES:
            raise MathParseError("∞ can only be used as the end of an interval.")
        return value

    @staticmethod
    def checked(value: Expr) -> Expr:
        """Refuse results sympy reports as undefined (division by zero, log(0), tan(pi/2))."""
        if value is S.ComplexInfinity or value is S.NaN:
            raise MathParseError("Part of the answer is undefined (for example a division by zero).")
        return value

    def add(self, a: Expr, b: Expr) -> Expr:
        """Return a + b."""
        return self.checked(Add(self.finite(a), self.finite(b)))

    def mul(self, a: Expr, b: Expr) -> Expr:
        """Return a * b."""
        return self.checked(Mul(self.finite(a), self.finite(b)))

    def neg(self, a: Expr) -> Expr:
        """Return -a; -∞ is allowed as an endpoint."""
        return S.NegativeInfinity if a is S.Infinity else self.checked(Mul(S.NegativeOne, self.finite(a)))

    def div(self, a: Expr, b: Expr) -> Expr:
        """Return a / b, refusing division by zero."""
        if self.finite(b).is_zero:
            raise MathParseError("The answer divides by zero.")
        return self.mul(a, self.power(b, S.NegativeOne))

    def power(self, base: Expr, exponent: Expr) -> Expr:
        """Return base**exponent if the exact result stays small enough to compute quickly."""
        base, exponent = self.finite(base), self.finite(exponent)
        if exponent.is_Rational:
            if base.free_symbols:
                if abs(exponent) > MAX_SYMBOLIC_EXPONENT:
                    raise too_complex("That exponent is too large to check.")
            elif abs(exponent) * max(height_bits(base), 2) > MAX_BITS:
                raise too_complex("That power is too large to check.")
        elif height_bits(exponent) > MAX_BITS // 8:
            raise too_complex("That exponent is too complicated to check.")
        result = self.checked(Pow(base, exponent))
        if result.is_Pow and result.exp.is_Rational and abs(result.exp) > MAX_SYMBOLIC_EXPONENT:
            raise too_complex("That exponent is too large to check.")  # (x^1000)^1000 folds to x^10^6
        return result

    def root(self, radicand: Expr, n: int) -> Expr:
        """Return the n-th root; odd roots of negative numbers are real, as students expect."""
        if n % 2 and radicand.is_number and radicand.is_extended_negative:
            return self.neg(self.power(self.neg(radicand), Rational(1, n)))
        return self.power(radicand, Rational(1, n))

    def factorial(self, value: Expr) -> Expr:
        """Return value!, for whole numbers up to MAX_FACTORIAL or symbolic arguments."""
        value = self.finite(value)
        if value.free_symbols:
            return self.checked(factorial(value))
        if not (value.is_Integer and value >= 0):
            raise MathParseError("A factorial (!) needs a whole number.")
        if value > MAX_FACTORIAL:
            raise too_complex(f"Factorials above {MAX_FACTORIAL}! are too large to check.")
        return Integer(factorial(int(value)))


_SHOW = {"set{": "{", "set}": "}"}
