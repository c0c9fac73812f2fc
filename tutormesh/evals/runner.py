"""Run the eval suites: a progress bar, a summary table, and a gate against the committed baselines.

Offline by default (the platform's own code on fixed datasets). With LANGSMITH_API_KEY set, the
same evaluators also run through LangSmith: each suite is uploaded as a dataset (once) and
`langsmith.evaluate` records an experiment, so runs are traced and comparable there.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tutormesh.evals.cost import cost_per_student
from tutormesh.evals.evaluators import SUITES, Row

DATASETS = Path(__file__).resolve().parent / "datasets"
BASELINES = Path(__file__).resolve().parent / "baselines"
BASELINE = BASELINES / "student.json"
INFORMATIONAL = {"cache_hit_cross_language"}  # reported, never gated (the cache is scoped by language)
QUALITY_TOLERANCE = 0.02  # absolute drop in a score that fails the gate
COST_TOLERANCE = 0.10  # relative rise in cost per student that fails the gate


def load(suite: str) -> list[Row]:
    """Return a suite's dataset rows."""
    path = DATASETS / SUITES[suite][0]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(suites: list[str] | None = None, *, progress: bool = True) -> dict[str, Any]:
    """Run the suites; return mean score and count per key, and the cost per student per month."""
    chosen = suites or list(SUITES)
    data = {name: load(name) for name in chosen}
    total = sum(len(rows) * len(SUITES[name][1]) for name, rows in data.items())
    scores: dict[str, list[float]] = defaultdict(list)
    with tqdm(total=total, desc="eval", unit="case", disable=not progress) as bar:
        for name, rows in data.items():
            bar.set_postfix_str(name)
            for evaluator in SUITES[name][1]:
                for row in rows:
                    result = evaluator(row)
                    scores[result["key"]].append(float(result["score"]))
                    bar.update()
    report: dict[str, Any] = {"scores": {k: {"score": round(sum(v) / len(v), 4), "n": len(v)}
                                         for k, v in sorted(scores.items())}}
    if "cache" in chosen:
        report["cost"] = cost_per_student(report["scores"]["cache_hit_rate"]["score"])
    return report


def gate(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Return the regressions: a score below its baseline by more than the tolerance, or a cost rise."""
    failures = []
    for key, base in baseline.get("scores", {}).items():
        now = report["scores"].get(key)
        if key in INFORMATIONAL or now is None:
            continue
        if now["score"] < base["score"] - QUALITY_TOLERANCE:
            failures.append(f"{key}: {now['score']:.3f} < baseline {base['score']:.3f}")
    base_cost = baseline.get("cost", {}).get("usd_per_student_month")
    now_cost = report.get("cost", {}).get("usd_per_student_month")
    if base_cost is not None and now_cost is not None and now_cost > base_cost * (1 + COST_TOLERANCE):
        failures.append(f"cost per student: ${now_cost:.6f}/month > baseline ${base_cost:.6f} (+{COST_TOLERANCE:.0%})")
    return failures


def table(report: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Render the scores and the cost next to the baselines."""
    lines = [f"{'key':<26} {'n':>5} {'score':>8} {'baseline':>9} {'delta':>8}", "-" * 60]
    for key, now in report["scores"].items():
        base = baseline.get("scores", {}).get(key, {}).get("score")
        delta = "" if base is None else f"{now['score'] - base:+.3f}"
        tag = " (info)" if key in INFORMATIONAL else ""
        lines.append(f"{key:<26} {now['n']:>5} {now['score']:>8.3f} {'' if base is None else f'{base:.3f}':>9} "
                     f"{delta:>8}{tag}")
    if "cost" in report:
        cost = report["cost"]
        base_cost = baseline.get("cost", {}).get("usd_per_student_month")
        lines += ["-" * 60, f"{'cost $/student/month':<26} {'':>5} {cost['usd_per_student_month']:>8.4f} "
                  f"{'' if base_cost is None else f'{base_cost:.4f}':>9}",
                  f"  usage model: {cost['sessions_per_month']} sessions x {cost['turns_per_session']} turns, "
                  f"{cost['llm_turn_share']:.1%} of turns reach the LLM, cache hit {cost['cache_hit_rate']:.0%} "
                  f"on {cost['repeat_share']:.0%} repeats, {cost['tokens_in']} in / {cost['tokens_out']} out tokens, "
                  f"${cost['usd_per_call']:.6f} a call"]
    return "\n".join(lines)


def read_baseline(path: Path = BASELINE) -> dict[str, Any]:
    """Return the committed baseline ({} if there is none yet)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_baseline(report: dict[str, Any], path: Path = BASELINE) -> None:
    """Commit a run as the new baseline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def langsmith_enabled() -> bool:
    """Return whether a LangSmith key is configured (then suites also run there, traced)."""
    return bool(os.environ.get("LANGSMITH_API_KEY"))


def run_langsmith(suites: list[str] | None = None, *, prefix: str = "tutormesh") -> list[str]:
    """Upload each suite as a LangSmith dataset (once) and evaluate it there; return experiment names."""
    from langsmith import Client, evaluate

    client = Client()
    names = []
    for suite in suites or list(SUITES):
        dataset = f"{prefix}-{suite}"
        if not client.has_dataset(dataset_name=dataset):
            client.create_dataset(dataset, description=f"TutorMesh eval suite {suite!r} (evals/datasets)")
            client.create_examples(dataset_name=dataset, examples=[{"inputs": row} for row in load(suite)])
        for evaluator in SUITES[suite][1]:
            def target(inputs: dict[str, Any], _evaluator: Any = evaluator) -> dict[str, Any]:
                return dict(_evaluator(inputs))

            def score(outputs: dict[str, Any]) -> dict[str, Any]:
                return {"key": outputs["key"], "score": outputs["score"]}

            result = evaluate(target, data=dataset, evaluators=[score], max_concurrency=1,
                              experiment_prefix=f"{suite}-{evaluator.__name__}")
            names.append(result.experiment_name)
    return names
