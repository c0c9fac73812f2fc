"""LangSmith, when `LANGSMITH_API_KEY` is set: the explainer cases as a dataset, each eval run an experiment.

The dataset is synced idempotently: examples get ids derived from the case ids, so a second sync
creates nothing, an edited case is updated in place and a new case is added. The experiment runs
the same target and evaluators as the offline `generation` suite (`langsmith.evaluate`), plus the
prompt contracts as a summary score, and is named by the git commit and the prompt versions, with
both in its metadata. The model calls inside the target are traced under the experiment's runs;
set `LANGSMITH_TRACING=true` to trace the graphs themselves (`tutormesh serve`, `langgraph dev`).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tutormesh.evals import contracts, generation

DATASET = "tutormesh-explainer-cases"
_NAMESPACE = uuid.UUID("5b0f6a3e-2f4c-4d63-9a57-0c1f3f8e7a11")
_ROOT = Path(__file__).resolve().parents[2]


def enabled() -> bool:
    """Return whether a LangSmith key is configured."""
    return bool(os.environ.get("LANGSMITH_API_KEY"))


def commit() -> str:
    """Return the short git commit of the working tree ("+dirty" with uncommitted prompt edits)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD") or "nocommit"
        return head + ("+dirty" if git("status", "--porcelain", "--", "tutormesh/prompts") else "")
    except (OSError, subprocess.SubprocessError):
        return "nocommit"


def example_id(case_id: str) -> str:
    """The stable example id of a case (the same on every sync)."""
    return str(uuid.uuid5(_NAMESPACE, case_id))


def sync_dataset(client: Any, name: str = DATASET) -> dict[str, int]:
    """Create the dataset if needed and make its examples match the cases; return what changed."""
    if client.has_dataset(dataset_name=name):
        dataset = client.read_dataset(dataset_name=name)
    else:
        dataset = client.create_dataset(name, description="TutorMesh explainer eval cases (tutormesh/evals/datasets/"
                                                           "explainer_cases.jsonl)")
    existing = {str(e.id): e for e in client.list_examples(dataset_id=dataset.id)}
    new, changed = [], 0
    for case in generation.cases():
        eid = example_id(case["id"])
        if eid not in existing:
            new.append({"id": eid, "inputs": case, "metadata": {"case_id": case["id"]}})
        elif dict(existing[eid].inputs) != case:
            client.update_example(eid, inputs=case, metadata={"case_id": case["id"]})
            changed += 1
    if new:
        client.create_examples(dataset_id=dataset.id, examples=new)
    return {"created": len(new), "updated": changed, "unchanged": len(existing) - changed}


def experiment_prefix(selection: Mapping[str, str]) -> str:
    """Name an experiment by commit and the explainer's prompt versions."""
    versions = "-".join(f"{name.split('/')[1]}.{version}" for name, version in sorted(selection.items())
                        if name.startswith("explainer/"))
    return f"explainer-{commit()}-{versions}"


def run_experiments(*, versions: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None,
                    client: Any = None) -> list[str]:
    """Sync the dataset, then evaluate the run's prompts there; return the experiment names."""
    from langsmith import Client, evaluate, traceable

    from tutormesh.evals.runner import prompt_selection

    client = client or Client()
    sync_dataset(client)
    selection = prompt_selection(versions, overrides)

    @traceable(name="explainer", run_type="chain")
    def target(inputs: dict[str, Any]) -> dict[str, Any]:
        result = generation.run_case(inputs, versions=versions, overrides=overrides)
        return {"answer": result["answer"], "scores": result["scores"], "latency_s": result["reply"]["latency_s"]}

    def scores(outputs: dict[str, Any]) -> dict[str, Any]:
        return {"results": [{"key": key, "score": value} for key, value in sorted(outputs["scores"].items())]}

    def prompt_contracts(outputs: list[dict[str, Any]]) -> dict[str, Any]:
        checked, failures = contracts.check(versions, overrides)
        return {"key": "contracts", "score": sum(checked.values()) / len(checked),
                "comment": "; ".join(f"{f.prompt}: {f.reason}" for f in failures) or "all hold"}

    result = evaluate(target, data=DATASET, evaluators=[scores], summary_evaluators=[prompt_contracts],  # type: ignore[list-item]
                      experiment_prefix=experiment_prefix(selection), client=client, max_concurrency=0,
                      metadata={"commit": commit(), "prompts": selection}, blocking=True)
    result.wait()
    if result._processing_error is not None:  # noqa: SLF001 - otherwise only raised by iterating the rows
        raise result._processing_error  # noqa: SLF001
    client.flush()  # runs and feedback go through a background queue: send them before the process exits
    return [result.experiment_name]
