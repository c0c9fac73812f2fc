"""`tutormesh eval`: run the eval suites, print the table, gate on the baselines, and sync to LangSmith."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tutormesh.evals.evaluators import SUITES

# Evals with their own scoring, table and gate (modules with run, table, gate, read/write_baseline).
EXTRA_SUITES = {"utterances": "tutormesh.evals.utterances", "conversations": "tutormesh.evals.conversations",
                "sensitivity": "tutormesh.evals.sensitivity", "ingest": "tutormesh.evals.ingest"}
SUITE_NAMES = ["contracts", "generation", "cost", *SUITES, *EXTRA_SUITES]


def run_extra(args: argparse.Namespace) -> list[str]:
    """Run the extra evals that were chosen (all when no --suite); print them; return gate failures."""
    import importlib

    failures: list[str] = []
    for name, path in EXTRA_SUITES.items():
        if args.suite and name not in args.suite:
            continue
        module = importlib.import_module(path)
        report, baseline = module.run(), module.read_baseline()
        print(module.table(report, baseline))
        if args.update_baselines:
            module.write_baseline(report)
        failures += module.gate(report, baseline)
    return failures


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise ValueError(f"{what} must look like NAME=VALUE (e.g. explainer/system=2), got {value!r}")
        out[name] = rest
    return out


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the suites; with --gate, exit 1 (with the reasons) when a metric regresses past its tolerance."""
    from tutormesh import prompts
    from tutormesh.evals import gate, langsmith_sync, runner

    try:
        versions = _pairs(args.prompt, "--prompt")
        overrides = {name: Path(path).read_text(encoding="utf-8") for name, path in
                     _pairs(args.override, "--override").items()}
        for name in {**versions, **overrides}:
            prompts.resolve(name, versions, overrides)
    except (ValueError, OSError, prompts.PromptError, prompts.UnknownPrompt) as exc:
        print(f"tutormesh eval: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    chosen = [s for s in args.suite or [] if s not in EXTRA_SUITES] or None
    only_extra = bool(args.suite) and chosen is None  # e.g. --suite utterances
    report: dict[str, object] = {"errors": {}} if only_extra else runner.run(
        chosen, versions=versions, overrides=overrides, progress=not args.quiet, fresh=args.fresh)
    baseline = {} if only_extra else runner.read_baseline()
    regressions = gate.check(report, baseline) if baseline else []
    if not only_extra:
        print(gate.table(report, baseline, regressions))
    extra = run_extra(args)
    print(f"eval took {time.perf_counter() - started:.1f} s")
    if args.update_baselines and not only_extra:
        if args.suite or versions or overrides:
            print("tutormesh eval: a baseline comes from a full run of the committed prompts (drop --suite, --prompt "
                  "and --override; save a new prompt version first)", file=sys.stderr)
            return 2
        if report["errors"]:
            print(f"tutormesh eval: not writing a baseline from a run with errors: {report['errors']}", file=sys.stderr)
            return 1
        diff = runner.write_baseline(report)
        print(diff or "baseline unchanged")
        print(f"baseline written: {runner.BASELINE} (review the diff above, then commit it)")
    if langsmith_sync.enabled() and not args.offline and not only_extra:
        for name in langsmith_sync.run_experiments(versions=versions, overrides=overrides):
            print(f"langsmith experiment: {name}")
    if args.gate and not args.update_baselines:
        if not baseline and not only_extra:
            print("eval gate: no baseline committed (run `tutormesh eval --update-baselines`)", file=sys.stderr)
            return 1
        failures = [str(r) for r in regressions] + extra
        for failure in failures:
            print(f"eval gate: REGRESSION {failure}", file=sys.stderr)
        print(f"eval gate: {'FAILED' if failures else 'passed'} ({len(failures)} regressions)")
        return 1 if failures else 0
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `eval` sub-command."""
    parser = subparsers.add_parser("eval", help="run the eval suites (offline; LangSmith too when a key is set)")
    parser.add_argument("--gate", action="store_true", help="exit 1 when a metric regresses past its tolerance")
    parser.add_argument("--suite", action="append", choices=SUITE_NAMES, help="run only this suite (repeatable)")
    parser.add_argument("--prompt", action="append", metavar="NAME=VERSION",
                        help="evaluate this version of a prompt instead of its default (repeatable)")
    parser.add_argument("--override", action="append", metavar="NAME=FILE",
                        help="evaluate the text in FILE as prompt NAME, unsaved (repeatable)")
    parser.add_argument("--update-baselines", action="store_true",
                        help="write this run as the committed baseline and print the diff")
    parser.add_argument("--fresh", action="store_true", help="send every model call again (ignore the reply cache)")
    parser.add_argument("--offline", action="store_true", help="do not use LangSmith even if a key is set")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_eval)
