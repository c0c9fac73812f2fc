"""Run the eval suites for a choice of prompt versions and model; report scores, latency and cost.

Suites:
- `contracts`: static checks of the prompts a run would send (evals/contracts.py);
- `generation`: the explainer's prompts through the configured model on fixed cases, scored
  (evals/generation.py); the local server over the packaged model is started when it is the
  configured endpoint and not running;
- `cost`: cost per student-month per tier, with the cache on (evals/cost.py);
- the per-row suites of evals/evaluators.py (grader, guards, injection, cache, retrieval, negotiation).
The gate (evals/gate.py) compares a report with the committed baseline.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tutormesh import prompts
from tutormesh.core.settings import get_settings
from tutormesh.evals import contracts, cost, generation
from tutormesh.evals.evaluators import SUITES, Row

DATASETS = Path(__file__).resolve().parent / "datasets"
BASELINES = Path(__file__).resolve().parent / "baselines"
BASELINE = BASELINES / "student.json"
ALL_SUITES = ["contracts", "generation", "cost", *SUITES]


def load(suite: str) -> list[Row]:
    """Return a per-row suite's dataset rows."""
    path = DATASETS / SUITES[suite][0]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prompt_selection(versions: Mapping[str, str] | None = None,
                     overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Name the version each prompt resolves to for this run ("v2", or "override" for edited text)."""
    chosen = {}
    for name in prompts.names():
        try:
            prompt = prompts.resolve(name, versions, overrides)
            chosen[name] = "override" if prompt.path is None else f"v{prompt.version}"
        except (prompts.PromptError, prompts.UnknownPrompt) as exc:
            chosen[name] = f"error: {exc}"
    return chosen


@contextmanager
def model_server() -> Iterator[str]:
    """Use the configured model endpoint; start the local server when it is the default and not up."""
    from tutormesh.core.llm_server import is_ready, llm_base_url, running_llm_server

    settings = get_settings()
    url = llm_base_url(settings)
    if settings.llm_base_url or is_ready(url):
        yield url
        return
    with running_llm_server(settings, log=settings.data_dir / "eval-llm-server.log") as started:
        yield started


def _generation(versions: Mapping[str, str] | None, overrides: Mapping[str, str] | None, fresh: bool,
                bar: Any) -> tuple[dict[str, list[float]], dict[str, Any]]:
    scores: dict[str, list[float]] = defaultdict(list)
    replies = []
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    needed = fresh or any(not generation.is_cached(case, versions, overrides, settings) for case in generation.cases())
    with model_server() if needed else nullcontext(""):
        for case in generation.cases():
            result = generation.run_case(case, versions=versions, overrides=overrides, settings=settings, fresh=fresh)
            for key, value in result["scores"].items():
                scores[key].append(value)
            replies.append(result["reply"])
            bar.update()
    fresh_calls = [r for r in replies if not r["cached"]]
    latencies = sorted(r["latency_s"] for r in replies)
    latency = {"calls": len(replies), "fresh_calls": len(fresh_calls), "max_tokens": generation.EVAL_MAX_TOKENS,
               "p50_s": round(statistics.median(latencies), 3),
               "p95_s": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3),
               "tokens_per_s": round(sum(r["tokens_out"] for r in replies) / max(sum(latencies), 1e-9), 1)}
    return scores, latency


def run(suites: list[str] | None = None, *, versions: Mapping[str, str] | None = None,
        overrides: Mapping[str, str] | None = None, progress: bool = True, fresh: bool = False) -> dict[str, Any]:
    """Run the suites for one choice of prompt versions/overrides; return the report the gate reads."""
    chosen = suites or ALL_SUITES
    data = {name: load(name) for name in chosen if name in SUITES}
    total = sum(len(rows) * len(SUITES[name][1]) for name, rows in data.items())
    total += len(generation.cases()) if "generation" in chosen else 0
    scores: dict[str, list[float]] = defaultdict(list)
    report: dict[str, Any] = {"suites": chosen, "model": get_settings().llm_model,
                              "prompts": prompt_selection(versions, overrides), "errors": {}}
    with tqdm(total=total, desc="eval", unit="case", disable=not progress) as bar:
        if "contracts" in chosen:
            checked, failures = contracts.check(versions, overrides)
            for key, value in checked.items():
                scores[key].append(value)
            report["contract_failures"] = [f.__dict__ for f in failures]
        if "generation" in chosen:
            bar.set_postfix_str("generation")
            try:
                generated, report["latency"] = _generation(versions, overrides, fresh, bar)
                for key, values in generated.items():
                    scores[key] += values
            except (prompts.PromptError, prompts.UnknownPrompt) as exc:
                report["errors"]["generation"] = f"the prompts do not render: {exc}"
            except Exception as exc:  # noqa: BLE001 - a model that cannot be reached fails the gate, with why
                report["errors"]["generation"] = f"the model could not be run: {type(exc).__name__}: {exc}"
        if "cost" in chosen:
            bar.set_postfix_str("cost")
            try:
                report["cost"] = cost.cost_per_student(versions, overrides)
            except (prompts.PromptError, prompts.UnknownPrompt) as exc:
                report["errors"]["cost"] = f"the prompts do not render: {exc}"
        for name, rows in data.items():
            bar.set_postfix_str(name)
            try:
                for evaluator in SUITES[name][1]:
                    for row in rows:
                        result = evaluator(row)
                        scores[result["key"]].append(float(result["score"]))
                        bar.update()
            except (prompts.PromptError, prompts.UnknownPrompt) as exc:
                report["errors"][name] = f"the prompts do not render: {exc}"
    report["scores"] = {k: {"score": round(sum(v) / len(v), 4), "n": len(v)} for k, v in sorted(scores.items())}
    return report


def read_baseline(path: Path = BASELINE) -> dict[str, Any]:
    """Return the committed baseline ({} if there is none yet)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def baseline_text(report: Mapping[str, Any]) -> str:
    """Render the part of a report that is committed as the baseline (stable, reviewable JSON)."""
    kept = {k: report[k] for k in ("model", "prompts", "scores", "cost") if k in report}
    return json.dumps(kept, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_baseline(report: Mapping[str, Any], path: Path = BASELINE) -> str:
    """Write a run as the new baseline; return the diff against the old one (empty if unchanged)."""
    import difflib

    old = path.read_text(encoding="utf-8") if path.exists() else ""
    new = baseline_text(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{path.name}", f"b/{path.name}"))
