"""The eval gate: a report against the committed baseline, per-metric tolerances, a readable verdict.

A score fails when it drops below its baseline by more than its tolerance; a cost fails when it
rises by more than its relative tolerance; a metric the baseline has but the run lost (its suite
could not run) fails too. Contract checks have no tolerance: a broken contract always fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INFORMATIONAL = {"cache_hit_cross_language"}  # reported, never gated (the cache is scoped by language)
# Absolute drop allowed, by key prefix (first match); the model-run scores are means over 10 cases.
TOLERANCES: dict[str, float] = {"contract.": 0.0, "gen.": 0.10, "judge.": 0.10, "": 0.02}
COST_TOLERANCE = 0.10  # relative rise in cost per student-month or per call that fails the gate
CACHE_HIT_TOLERANCE = 0.05  # absolute drop in the node's measured cache hit rate
MEANING = {
    "gen.grounding": "answers use fewer words of the retrieved curriculum passages",
    "gen.relevance": "answers are further from the question",
    "gen.math_ok": "more answers contain a wrong worked step",
    "gen.guard_pass": "more answers are rejected by the guards",
    "gen.language_match": "fewer answers are in the student's language",
    "gen.format": "fewer answers are well-formed explanations",
    "gen.no_leak": "more answers repeat the system prompt's instructions",
}


@dataclass(frozen=True)
class Regression:
    """One metric that moved past its tolerance, and why that matters."""

    metric: str
    now: float | None
    baseline: float
    reason: str

    def __str__(self) -> str:
        """Render for the console."""
        return f"{self.metric}: {self.reason}"


def tolerance(key: str) -> float:
    """Return the allowed absolute drop of a score."""
    return next(t for prefix, t in TOLERANCES.items() if key.startswith(prefix))


def _suite_of(key: str) -> str:
    if key.startswith("contract."):
        return "contracts"
    if key.startswith(("gen.", "judge.")):
        return "generation"
    return ""


def check(report: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[Regression]:
    """Return the regressions of `report` against `baseline` (empty: the gate passes)."""
    found: list[Regression] = []
    ran = set(report.get("suites") or [])
    for suite, error in (report.get("errors") or {}).items():
        found.append(Regression(f"suite {suite}", None, 0.0, error))
    reasons = {f"contract.{f['prompt'].replace('/', '.')}.{f['check']}": f"prompt {f['prompt']} v{f['version']} "
               f"{f['reason']}" for f in report.get("contract_failures") or []}
    for key, base in (baseline.get("scores") or {}).items():
        now = (report.get("scores") or {}).get(key)
        if key in INFORMATIONAL:
            continue
        if now is None:
            suite = _suite_of(key)
            if (suite and suite in ran and suite not in (report.get("errors") or {})) or (not ran):
                found.append(Regression(key, None, base["score"], "missing from this run"))
            continue
        limit = base["score"] - tolerance(key)
        if now["score"] < limit - 1e-9:
            why = reasons.get(key) or MEANING.get(key, "score dropped")
            found.append(Regression(key, now["score"], base["score"], f"{now['score']:.3f} < baseline "
                                    f"{base['score']:.3f} - {tolerance(key):.2f}: {why}"))
    found += _cost(report.get("cost"), baseline.get("cost"))
    return found


def _cost(now: Mapping[str, Any] | None, base: Mapping[str, Any] | None) -> list[Regression]:
    if not now or not base:
        return []
    found = []
    for key, what in (("usd_per_student_month", "cost per student-month"), ("usd_per_call", "cost per LLM call")):
        if key in base and now.get(key, 0.0) > base[key] * (1 + COST_TOLERANCE) + 1e-12:
            found.append(Regression(f"cost.{key}", now[key], base[key],
                                    f"{what} ${now[key]:.6f} > baseline ${base[key]:.6f} +{COST_TOLERANCE:.0%} "
                                    f"(reply limit {now.get('tokens_out')} vs {base.get('tokens_out')} tokens, "
                                    f"prompt {now.get('tokens_in')} vs {base.get('tokens_in')} tokens, cache hit "
                                    f"{now.get('cache_hit_rate', 0):.0%} vs {base.get('cache_hit_rate', 0):.0%})"))
    if now.get("cache_hit_rate", 0.0) < base.get("cache_hit_rate", 0.0) - CACHE_HIT_TOLERANCE:
        found.append(Regression("cost.cache_hit_rate", now["cache_hit_rate"], base["cache_hit_rate"],
                                f"the explain node's cache hit rate fell to {now['cache_hit_rate']:.0%} from "
                                f"{base['cache_hit_rate']:.0%} (cache bypassed or threshold raised?)"))
    return found


def _row(key: str, n: Any, now: float | None, base: float | None, status: str, digits: int = 3) -> str:
    def fmt(value: float | None) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    delta = "" if now is None or base is None else f"{now - base:+.{digits}f}"
    return f"{key:<44} {n!s:>5} {fmt(now):>8} {fmt(base):>9} {delta:>8}  {status}"


def table(report: Mapping[str, Any], baseline: Mapping[str, Any], regressions: list[Regression] | None = None,
          *, only_moved: bool = False) -> str:
    """Render scores, latency and cost next to the baseline; contracts fold into one row when all hold."""
    failed = {r.metric for r in regressions or []}
    scores, base_scores = report.get("scores") or {}, baseline.get("scores") or {}
    lines = [f"{'metric':<44} {'n':>5} {'score':>8} {'baseline':>9} {'delta':>8}  status", "-" * 86]
    contract_keys = [k for k in scores if k.startswith("contract.")]
    broken = [k for k in contract_keys if scores[k]["score"] < 1.0]
    if contract_keys and not broken:
        lines.append(_row(f"contracts ({len(contract_keys)} checks)", len(contract_keys), 1.0, 1.0, "ok"))
    for key in sorted(set(scores) | failed & set(base_scores)):
        if key.startswith("contract.") and key not in broken:
            continue
        now, base = scores.get(key, {}).get("score"), base_scores.get(key, {}).get("score")
        moved = now is None or base is None or abs(now - base) > 1e-9
        if only_moved and not moved and key not in failed:
            continue
        status = ("FAIL" if key in failed else "info" if key in INFORMATIONAL else "new" if base is None
                  else "moved" if moved else "ok")
        lines.append(_row(key, scores.get(key, {}).get("n", ""), now, base, status))
    cost, base_cost = report.get("cost"), baseline.get("cost") or {}
    if cost:
        lines.append("-" * 86)
        for key in ("usd_per_student_month", "usd_per_call", "cache_hit_rate"):
            status = "FAIL" if f"cost.{key}" in failed else "ok"
            lines.append(_row(f"cost.{key}", "", cost[key], base_cost.get(key), status,
                              digits=6 if key.startswith("usd") else 3))
    if cost and "tiers" in cost:
        tiers = ", ".join(f"{name} {t['turns']:g} turns ${t['usd']:.4f}" for name, t in cost["tiers"].items())
        lines.append(f"  per student-month by tier: {tiers}")
        lines.append(f"  usage model: {cost['sessions_per_month']} sessions x {cost['turns_per_session']} turns, "
                     f"{cost['llm_turn_share']:.1%} reach the LLM, {cost['repeat_share']:.0%} repeats, node cache hit "
                     f"{cost['cache_hit_rate']:.0%} ({cost['measured_calls']} reached the model), "
                     f"{cost['tokens_in']} in / {cost['tokens_out']} out tokens a call")
    if latency := report.get("latency"):
        lines.append(f"  model {report.get('model')}: {latency['calls']} calls ({latency['fresh_calls']} sent, "
                     f"the rest from the reply cache), p50 {latency['p50_s']:.2f} s, p95 {latency['p95_s']:.2f} s, "
                     f"{latency['tokens_per_s']:.1f} tokens/s at {latency['max_tokens']} tokens")
    for suite, error in (report.get("errors") or {}).items():
        lines.append(f"  suite {suite} did not run: {error}")
    changed = {k: v for k, v in (report.get("prompts") or {}).items()
               if v != (baseline.get("prompts") or {}).get(k, v)}
    if changed:
        lines.append("  prompts changed since the baseline: " + ", ".join(
            f"{k} {(baseline.get('prompts') or {}).get(k)} -> {v}" for k, v in sorted(changed.items())))
    return "\n".join(lines)
