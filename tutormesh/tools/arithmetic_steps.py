"""Arithmetic worked out one operation at a time, in the order of operations, each line checked.

The question's arithmetic is parsed into a Python expression tree (never evaluated: only numbers and
+ - × ÷ ^ are allowed) and reduced one operation at a time, exactly, with fractions; every printed
line is read back with the grader's parser and must keep the question's value. `solution_steps`
is the public entry point.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

from sympy import Expr, sympify

from tutormesh.tools.grading import parse_math

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "×", ast.Div: "÷", ast.Pow: "^"}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}
_NAMES = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.Pow: "work out the power"}
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[-+*/×÷·^()−]")
_TEXT_OPS: dict[str, ast.operator] = {"+": ast.Add(), "-": ast.Sub(), "−": ast.Sub(), "*": ast.Mult(),
                                      "×": ast.Mult(), "·": ast.Mult(), "/": ast.Div(), "÷": ast.Div()}


def _tree(problem: str) -> ast.expr:
    """The arithmetic as a Python expression tree (parsed, never evaluated); only numbers and + - × ÷ ^."""
    text = problem.replace("×", "*").replace("·", "*").replace("÷", "/").replace("−", "-").replace("^", "**")
    text = re.sub(r"(\d|\))\s*\(", r"\1*(", text)
    tree = ast.parse(text, mode="eval").body
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS or isinstance(node, ast.operator):
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) or isinstance(node, ast.USub):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        raise ValueError("arithmetic only")
    return tree


def _number(node: ast.expr) -> Fraction | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | Fraction):
        return Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None


def _apply(op: ast.operator, x: Fraction, y: Fraction) -> Fraction:
    if isinstance(op, ast.Add):
        return x + y
    if isinstance(op, ast.Sub):
        return x - y
    if isinstance(op, ast.Mult):
        return x * y
    if isinstance(op, ast.Div):
        return x / y
    if y.denominator != 1 or abs(y) > 12:
        raise ValueError("small whole powers only")
    return x ** int(y)


def _text(value: Fraction) -> str:
    """A number as a student writes it: 13, -6, 2.5 (a terminating decimal), else 7/3."""
    if value.denominator == 1:
        return str(value.numerator)
    rest = value.denominator
    for p in (2, 5):
        while rest % p == 0:
            rest //= p
    return f"{float(value):g}" if rest == 1 and len(f"{float(value):g}") < 12 else str(value)


def _render(node: ast.expr, outer: int = 0, first: bool = True) -> str:
    value = _number(node)
    if value is not None:
        text = _text(value)
        return f"({text})" if (value < 0 and not first) or ("/" in text and outer > 0) else text
    if isinstance(node, ast.UnaryOp):
        return f"-{_render(node.operand, 3)}" if first else f"(-{_render(node.operand, 3)})"
    if not isinstance(node, ast.BinOp):
        raise ValueError("arithmetic only")
    prec = _PRECEDENCE[type(node.op)]
    power = isinstance(node.op, ast.Pow)
    op = _OPS[type(node.op)] if power else f" {_OPS[type(node.op)]} "
    left = _render(node.left, prec + 1 if power else prec, first)
    text = f"{left}{op}{_render(node.right, prec if power else prec + 1, False)}"
    return f"({text})" if prec < outer else text


def _bracketed(parent: ast.expr, child: ast.expr, right: bool) -> bool:
    """Whether `child` was in brackets in the question (the tree keeps grouping, not the brackets)."""
    if not isinstance(child, ast.BinOp):
        return False
    inner = _PRECEDENCE[type(child.op)]
    if isinstance(parent, ast.UnaryOp):
        return inner < 3
    assert isinstance(parent, ast.BinOp)
    outer = _PRECEDENCE[type(parent.op)]
    if isinstance(parent.op, ast.Pow):
        return inner <= outer if not right else inner < outer
    return inner < outer or (inner == outer and right)


def _postorder(node: ast.expr, depth: int = 0) -> list[tuple[ast.expr, int]]:
    """Every node, children first and left first, with how many brackets enclose it."""
    if isinstance(node, ast.BinOp):
        return [*_postorder(node.left, depth + _bracketed(node, node.left, False)),
                *_postorder(node.right, depth + _bracketed(node, node.right, True)), (node, depth)]
    if isinstance(node, ast.UnaryOp):
        return [*_postorder(node.operand, depth + _bracketed(node, node.operand, False)), (node, depth)]
    return [(node, depth)]


def _next(tree: ast.expr) -> tuple[ast.expr, ast.BinOp, Fraction] | None:
    """Do the next operation in the order of operations.

    Of the operations whose inputs are numbers: the one inside the most brackets, then of highest
    precedence, leftmost first. Returns the new tree, the operation done and its result; None when
    `tree` is already a number.
    """
    if _number(tree) is not None:
        return None
    ready = [(n, depth) for n, depth in _postorder(tree) if isinstance(n, ast.BinOp)
             and _number(n.left) is not None and _number(n.right) is not None]
    if not ready:
        raise ValueError("nothing can be worked out (a minus sign on a minus sign?)")
    # Brackets first, then the higher precedence; max keeps the first (leftmost) of equals.
    done, _ = max(ready, key=lambda found: (found[1], _PRECEDENCE[type(found[0].op)]))
    assert isinstance(done, ast.BinOp)
    x, y = _number(done.left), _number(done.right)
    assert x is not None and y is not None  # filtered just above
    result = _apply(done.op, x, y)
    return _swap(tree, done, _literal(result)), done, result


def _literal(value: Fraction) -> ast.expr:
    plain = ast.Constant(abs(value))  # type: ignore[arg-type]  # our trees carry exact Fractions
    return ast.UnaryOp(ast.USub(), plain) if value < 0 else plain


def value(text: str) -> Expr:
    """The value of a line of arithmetic, read with the grader's parser."""
    parsed = sympify(parse_math(text.replace("×", "*").replace("÷", "/")))
    if not isinstance(parsed, Expr):
        raise ValueError("not a number")
    return parsed


def equal(a: Expr, b: Expr) -> bool:
    """Whether two numbers agree (to 1e-9: a decimal the parser reads as a float still matches)."""
    return bool(abs(float(a - b)) < 1e-9)


def solve(problem: str, max_steps: int = 24) -> list[tuple[str, str]]:
    """Work out arithmetic one operation at a time: (what to do, the line that results) per step.

    Raises ValueError when it is not plain arithmetic or a line fails its check.
    """
    tree = _tree(problem)
    want = value(problem)
    steps: list[tuple[str, str]] = []
    while (found := _next(tree)) is not None:
        tree, done, result = found
        name = _NAMES[type(done.op)]
        line = _render(tree)
        steps.append((f"{'Then ' + name if steps else name.capitalize()}: {_render(done)} = {_text(result)}", line))
        if len(steps) > max_steps or not equal(value(line), want):
            raise ValueError(f"step failed its check: {line}")
    if not steps:
        raise ValueError("nothing to work out")
    return steps


def _left_to_right(problem: str) -> Fraction:
    """The value got by working strictly left to right, ignoring precedence (brackets and powers still first)."""
    tokens = _TOKEN.findall(problem)
    at = 0

    def operand() -> Fraction:
        nonlocal at
        token = tokens[at]
        at += 1
        if token == "(":
            value = run()
            at += 1  # the closing bracket
        elif token in "-−":
            return -operand()
        else:
            value = Fraction(token)
        if at < len(tokens) and tokens[at] == "^":
            at += 1
            value = _apply(ast.Pow(), value, operand())
        return value

    def run() -> Fraction:
        nonlocal at
        total = operand()
        while at < len(tokens) and tokens[at] in _TEXT_OPS:
            op = _TEXT_OPS[tokens[at]]
            at += 1
            total = _apply(op, total, operand())
        return total

    return run()


def _eval(node: ast.expr) -> Fraction:
    while (found := _next(node)) is not None:
        node = found[0]
    value = _number(node)
    if value is None:
        raise ValueError("not a number")
    return value


def slips(problem: str) -> list[tuple[str, str]]:
    """Wrong answers typical mistakes give on the arithmetic: (answer, the mistake), most typical first."""
    tree = _tree(problem)
    right = _eval(tree)
    found = [(_text(_left_to_right(problem)), "working left to right instead of multiplying and dividing "
              "before adding and subtracting")]
    for node in ast.walk(tree):
        if (isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.BinOp)
                and isinstance(node.operand.op, ast.Pow)):
            flipped = ast.BinOp(ast.UnaryOp(ast.USub(), node.operand.left), ast.Pow(), node.operand.right)
            found.append((_text(_eval(_swap(tree, node, flipped))), "squaring the minus sign too: -a^2 means -(a^2)"))
    return [s for s in found if Fraction(s[0]) != right]


def _swap(tree: ast.expr, old: ast.expr, new: ast.expr) -> ast.expr:
    if tree is old:
        return new
    if isinstance(tree, ast.BinOp):
        return ast.BinOp(_swap(tree.left, old, new), tree.op, _swap(tree.right, old, new))
    if isinstance(tree, ast.UnaryOp):
        return ast.UnaryOp(tree.op, _swap(tree.operand, old, new))
    return tree
