"""Benchmark the symbolic grader on the labelled eval set: accuracy, errors and time per grade.

Run `python benchmarks/bench_grader.py` (add `--math-verify` to compare with the `math-verify`
package when it is installed). Times are warm: every pair is graded once before timing, so the
parsed answer key comes from the grader's cache, as it does when many students answer one question;
a second figure parses the key afresh on every call.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from typing import Any

from tutormesh.tools.grading import grade


def load_dataset() -> list[dict[str, Any]]:
    """Read tutormesh/evals/datasets/grading.jsonl."""
    text = resources.files("tutormesh.evals").joinpath("datasets/grading.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def run_grader(rows: list[dict[str, Any]], repeats: int) -> None:
    """Grade every row, print accuracy, errors and timings."""
    for row in rows:  # warm-up: imports, caches, the watchdog thread
        grade(row["expected"], row["answer"])
    verdicts, times = [], []
    for row in rows:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = grade(row["expected"], row["answer"])
            samples.append(time.perf_counter() - start)
        verdicts.append(result)
        times.append(statistics.median(samples))
    uncached = []
    for row in rows:  # the answer key parsed afresh each time (trailing spaces defeat its cache)
        samples = []
        for k in range(1, repeats + 1):
            start = time.perf_counter()
            grade(row["expected"] + " " * k, row["answer"])
            samples.append(time.perf_counter() - start)
        uncached.append(statistics.median(samples))
    false_pos = [(r, v) for r, v in zip(rows, verdicts, strict=True) if v.correct and not r["correct"]]
    false_neg = [(r, v) for r, v in zip(rows, verdicts, strict=True) if not v.correct and r["correct"]]
    right = len(rows) - len(false_pos) - len(false_neg)
    print(f"pairs: {len(rows)}  accuracy: {right / len(rows):.2%}  ({right}/{len(rows)})")
    print(f"false positives (wrong answer graded correct): {len(false_pos)}")
    for r, v in false_pos:
        print(f"  FP [{r['category']}] expected={_short(r['expected'])!r} answer={_short(r['answer'])!r} -> {v.reason}")
    print(f"false negatives (right answer graded wrong): {len(false_neg)}")
    for r, v in false_neg:
        print(f"  FN [{r['category']}] expected={_short(r['expected'])!r} answer={_short(r['answer'])!r} -> {v.reason}")
    print(f"\ntime per grade (warm, median of {repeats} runs per pair): "
          f"median {_ms(times, 0.5):.2f} ms, p99 {_ms(times, 0.99):.2f} ms, max {_ms(times, 1.0):.2f} ms")
    print(f"time per grade with the answer key not cached: median {_ms(uncached, 0.5):.2f} ms, "
          f"p99 {_ms(uncached, 0.99):.2f} ms, max {_ms(uncached, 1.0):.2f} ms")
    _table("category", rows, times, lambda r, v: r["category"], verdicts)
    _table("kind", rows, times, lambda r, v: v.kind, verdicts)
    hostile = [(t, r) for t, r in zip(times, rows, strict=True) if r["category"] == "hostile"]
    worst_t, worst = max(hostile, key=lambda p: p[0])
    print(f"\nworst hostile input: {1000 * worst_t:.2f} ms  answer={_short(worst['answer'], 60)!r}")
    reasons: dict[str, int] = defaultdict(int)
    for v in verdicts:
        reasons[v.reason] += 1
    print("reasons:", ", ".join(f"{k}={n}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1])))


def _table(title: str, rows: list[dict[str, Any]], times: list[float],
           key: Callable[[dict[str, Any], Any], str], verdicts: list[Any]) -> None:
    groups: dict[str, list[float]] = defaultdict(list)
    for row, t, v in zip(rows, times, verdicts, strict=True):
        groups[key(row, v)].append(t)
    print(f"\n{title:<24} {'n':>4} {'median ms':>10} {'p99 ms':>8}")
    for name, ts in sorted(groups.items()):
        print(f"{name:<24} {len(ts):>4} {_ms(ts, 0.5):>10.2f} {_ms(ts, 0.99):>8.2f}")


def run_math_verify(rows: list[dict[str, Any]]) -> None:
    """Score the same pairs with HuggingFace math-verify, if it is installed."""
    try:
        from math_verify import parse, verify  # noqa: PLC0415 - optional dependency
    except ImportError:
        print("\nmath-verify is not installed (pip install math-verify); skipping the comparison.")
        return

    def read(text: str) -> Any:
        found = parse(text, parsing_timeout=1)  # plain text first, then as LaTeX math
        return found or parse("$" + text + "$", parsing_timeout=1)

    correct = fp = 0
    misses: list[str] = []
    start = time.perf_counter()
    for row in rows:
        try:
            ok = bool(verify(read(row["expected"]), read(row["answer"]), timeout_seconds=1))
        except Exception:  # math-verify may raise on hostile input; count it as "graded wrong"
            ok = False
        correct += ok == row["correct"]
        fp += ok and not row["correct"]
        if ok != row["correct"]:
            misses.append(row["category"])
    elapsed = time.perf_counter() - start
    print(f"\nmath-verify: accuracy {correct / len(rows):.2%} ({correct}/{len(rows)}), false positives {fp}, "
          f"{1000 * elapsed / len(rows):.2f} ms per pair (mean, cold)")
    by_category: dict[str, int] = defaultdict(int)
    for category in misses:
        by_category[category] += 1
    print("  misgraded by category:", ", ".join(f"{k}={n}" for k, n in sorted(by_category.items())))


_ATOMS = ["x", "y", "2", "3", "0", "1", "pi", "e", "10", "0.5", "1/3", "sqrt(2)", "oo", "99", "x^2", "-1"]
_FUNCS = ["sqrt", "abs", "ln", "log", "sin", "cos", "tan", "exp", "cbrt"]
_SOUP = [*"0123456789xyz+-*/^()[]{},=<>!%|. ", "pi", "sqrt", "oo", "or", "and", "\\frac", "\\sqrt", "±", "√",
         "²", "½", "∞", "≤", "\\left(", "\\right)", "e", "ln", "10^", "9^9^"]
_KEYS = ["3", "x = 2 or x = -2", "(3, oo)", "2x + 6", "y = 2x + 1", "sqrt(2)", "x > 3", "1/3", "[2, 5)"]


def _random_expr(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth <= 0 or roll < 0.25:
        return rng.choice(_ATOMS)
    if roll < 0.55:
        return f"{_random_expr(rng, depth - 1)}{rng.choice('+-*/^')}{_random_expr(rng, depth - 1)}"
    if roll < 0.7:
        return f"{rng.choice(_FUNCS)}({_random_expr(rng, depth - 1)})"
    if roll < 0.85:
        return f"({_random_expr(rng, depth - 1)})" + rng.choice(["", "!", "^2"])
    return f"|{_random_expr(rng, depth - 1)}|"


def _random_answer(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return _random_expr(rng, rng.randrange(1, 6))
    if roll < 0.7:
        return f"x = {_random_expr(rng, 3)} or x = {_random_expr(rng, 3)}"
    if roll < 0.8:
        return f"{_random_expr(rng, 2)} < x <= {_random_expr(rng, 2)}"
    return "".join(rng.choice(_SOUP) for _ in range(rng.randrange(1, 60)))


def run_fuzz(n: int, seed: int) -> None:
    """Grade n random (often malformed) pairs; report the slowest and any internal errors."""
    rng = random.Random(seed)
    worst, worst_pair = 0.0, ("", "")
    counts: dict[str, int] = defaultdict(int)
    for _ in range(n):
        expected = rng.choice(_KEYS) if rng.random() < 0.8 else _random_answer(rng)
        answer = _random_answer(rng)
        start = time.perf_counter()
        result = grade(expected, answer)
        elapsed = time.perf_counter() - start
        counts[result.reason] += 1
        if elapsed > worst:
            worst, worst_pair = elapsed, (expected, answer)
    print(f"\nfuzz: {n} random pairs (seed {seed}); internal errors {counts['internal_error']}, "
          f"timeouts {counts['timeout']}; slowest {1000 * worst:.1f} ms for {worst_pair!r}")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per pair (median is kept)")
    parser.add_argument("--math-verify", action="store_true", help="also score the math-verify package")
    parser.add_argument("--fuzz", type=int, default=0, metavar="N", help="also grade N random malformed pairs")
    parser.add_argument("--seed", type=int, default=0, help="seed for --fuzz")
    args = parser.parse_args()
    rows = load_dataset()
    run_grader(rows, args.repeats)
    if args.fuzz:
        run_fuzz(args.fuzz, args.seed)
    if args.math_verify:
        run_math_verify(rows)


if __name__ == "__main__":
    main()
