"""Parse a whole answer: lists, "or"/"and", relations, intervals, sets and "no solution".

The result is a small tree of clauses (`Tree`); `kinds.interpret` decides what it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sympy import S, Symbol

from tutormesh.tools.grading.lexer import tokenize
from tutormesh.tools.grading.notation import Value, make_value
from tutormesh.tools.grading.parse import ExprParser
from tutormesh.tools.grading.tokens import MathParseError

_RELATIONS = ("=", "<", ">", "<=", ">=", "!=")
_SET_OPEN = ("{", "set{")
_SET_CLOSE = ("}", "set}")


@dataclass(frozen=True)
class Rel:
    """A relation or chain: sides[0] ops[0] sides[1] ops[1] sides[2] ..."""

    sides: tuple[Value, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class IntervalLit:
    """An interval written with brackets, e.g. [2, 5)."""

    lo: Value
    hi: Value
    lo_closed: bool
    hi_closed: bool


@dataclass(frozen=True)
class SetLit:
    """A brace-delimited set {a, b, ...}."""

    items: tuple[Clause, ...]


@dataclass(frozen=True)
class Member:
    """`var ∈ target`, also written "x = {2, -2}"."""

    var: Symbol
    target: IntervalLit | SetLit


class Special(Enum):
    """Words that name a whole set."""

    EMPTY = "empty"
    REALS = "reals"


Clause = Value | Rel | IntervalLit | SetLit | Member | Special
Tree = tuple[tuple[Clause, ...], ...]  # a disjunction of conjunctions


class AnswerParser(ExprParser):
    """Recursive-descent parser for answer structure on top of the expression parser."""

    def parse(self) -> Tree:
        """Parse the whole token list."""
        tree = self.disjunction()
        tok = self.peek()
        if tok is not None:
            raise MathParseError(f"I couldn't read the answer from {self.text[tok.pos : tok.pos + 12]!r} on.")
        return tree

    def disjunction(self) -> Tree:
        """Parse clauses joined by ",", ";", "or", "∪" (and "U" between intervals)."""
        groups = [self.conjunction()]
        while True:
            if self.at(",", ";", "∪") or self.at("or", kind="word"):
                self.i += 1
            elif self.at("u", kind="name") and self.at("(", "[", k=1):
                self.i += 1
            else:
                return tuple(groups)
            groups.append(self.conjunction())

    def conjunction(self) -> tuple[Clause, ...]:
        """Parse clauses joined by "and"."""
        items = [self.clause()]
        while self.at("and", kind="word"):
            self.i += 1
            items.append(self.clause())
        return tuple(items)

    def clause(self) -> Clause:
        """Parse one clause: a phrase, a set, an interval or a relation/expression."""
        special = self.special_phrase()
        if special is not None:
            return special
        if self.at(*_SET_OPEN):
            return self.set_literal()
        if self.at("(", "[") and self.interval_ahead():
            return self.interval()
        return self.relation()

    def special_phrase(self) -> Special | None:
        """Recognise "no solution", "none", "empty set", "all real numbers", ∅, ℝ."""
        tok = self.peek()
        if tok is not None and tok.kind == "special":
            self.i += 1
            return Special(tok.text)
        phrases = {
            ("no", "solution"): Special.EMPTY, ("no", "solutions"): Special.EMPTY,
            ("no", "real", "solution"): Special.EMPTY, ("no", "real", "solutions"): Special.EMPTY,
            ("none",): Special.EMPTY, ("empty", "set"): Special.EMPTY, ("all", "reals"): Special.REALS,
            ("all", "real", "numbers"): Special.REALS, ("infinitely", "many", "solutions"): Special.REALS,
        }
        for words, meaning in sorted(phrases.items(), key=lambda kv: -len(kv[0])):
            if all(self.at(w, kind="word", k=k) for k, w in enumerate(words)):
                self.i += len(words)
                return meaning
        if tok is not None and tok.kind == "word" and tok.text not in ("or", "and", "in"):
            raise MathParseError(f"I don't understand the word {tok.text!r} here.")
        return None

    def set_literal(self) -> SetLit | Special:
        """Parse {a, b, ...}; "{}" is the empty set."""
        self.i += 1
        if self.at(*_SET_CLOSE):
            self.i += 1
            return Special.EMPTY
        items = tuple(clause for group in self.disjunction() for clause in group)
        if not self.at(*_SET_CLOSE):
            raise MathParseError("A set opened with '{' is not closed with '}'.")
        self.i += 1
        if any(isinstance(item, SetLit | Member) for item in items):
            raise MathParseError("Sets inside sets are not supported.")
        return SetLit(items)

    def interval_ahead(self) -> bool:
        """Say whether the bracket here starts "(a, b)"/"[a, b)" rather than a grouped expression."""
        depth, commas = 0, 0
        for j in range(self.i, len(self.toks)):
            tok = self.toks[j]
            if tok.kind != "op":
                continue
            if tok.text in ("(", "[", "{", "set{"):
                depth += 1
            elif tok.text in (")", "]", "}", "set}"):
                depth -= 1
                if depth == 0:
                    return commas == 1 and tok.text in (")", "]") and self._ends_clause(j + 1)
            elif tok.text == "," and depth == 1:
                commas += 1
        return False

    def _ends_clause(self, j: int) -> bool:
        tok = self.toks[j] if j < len(self.toks) else None
        if tok is None or (tok.kind == "word" and tok.text in ("or", "and")):
            return True
        if tok.kind == "name" and tok.text == "u":
            return True
        return tok.kind == "op" and tok.text in (",", ";", "∪", "}", "set}")

    def interval(self) -> IntervalLit:
        """Parse an interval literal."""
        lo_closed = self.advance().text == "["
        lo = self.value()
        self.expect(",")
        hi = self.value()
        closer = self.advance()
        return IntervalLit(lo, hi, lo_closed, closer.text == "]")

    def relation(self) -> Clause:
        """Parse an expression, a relation chain, or a membership."""
        first = self.value()
        if self.at("in", kind="word"):
            self.i += 1
            return Member(self._variable(first), self._set_target())
        sides, ops = [first], []
        while self.at(*_RELATIONS):
            ops.append(self.advance().text)
            if ops == ["="] and self.at(*_SET_OPEN):
                return Member(self._variable(first), self._set_target())  # "x = {2, -2}"
            sides.append(self.value())
        return Rel(tuple(sides), tuple(ops)) if ops else first

    def _variable(self, side: Value) -> Symbol:
        if not isinstance(side.expr, Symbol):
            raise MathParseError("Only a single variable can be 'in' a set.")
        return side.expr

    def _set_target(self) -> IntervalLit | SetLit:
        if self.at(*_SET_OPEN):
            target = self.set_literal()
            if target is Special.EMPTY:
                return SetLit(())
            assert isinstance(target, SetLit)
            return target
        if self.at("(", "[") and self.interval_ahead():
            return self.interval()
        raise MathParseError("After 'in', write a set like {1, 2} or an interval like [1, 2).")

    def value(self) -> Value:
        """Parse one expression and record how it was written."""
        start = self.i
        expr = self.expr()
        if expr.has(S.ComplexInfinity, S.NaN):
            raise MathParseError("Part of the answer is undefined (for example a division by zero).")
        toks = self.toks[start : self.i]
        end = self.toks[self.i].pos if self.i < len(self.toks) else len(self.text)
        text = self.text[toks[0].pos : end].strip()
        return make_value(expr, text, toks)


def parse_tree(text: str) -> Tree:
    """Tokenize and parse `text` into a clause tree.

    Raises:
        MathParseError: if the text is not an answer the grader can read.
    """
    source, tokens = tokenize(text)
    return AnswerParser(source, tokens).parse()
