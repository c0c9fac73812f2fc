"""`tutormesh eval`: run the eval suites offline, print the table, and gate on the baselines in CI."""

from __future__ import annotations

import argparse
import sys

from tutormesh.evals.evaluators import SUITES

# Evals with their own scoring, table and gate (modules with run, table, gate, read/write_baseline).
EXTRA_SUITES = {"utterances": "tutormesh.evals.utterances", "conversations": "tutormesh.evals.conversations"}


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


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the suites; with --gate, exit 1 on a quality drop or a cost-per-student rise."""
    from tutormesh.evals import runner

    suites = [s for s in args.suite or [] if s in SUITES] or None
    only_extra = bool(args.suite) and suites is None  # e.g. --suite utterances
    report = {"scores": {}} if only_extra else runner.run(suites, progress=not args.quiet)
    baseline = runner.read_baseline()
    if not only_extra:
        print(runner.table(report, baseline))
    if args.update_baselines and not only_extra:
        runner.write_baseline(report)
        print(f"baseline written: {runner.BASELINE}")
    extra = run_extra(args)
    if runner.langsmith_enabled() and not args.offline and not only_extra:
        for name in runner.run_langsmith(suites):
            print(f"langsmith experiment: {name}")
    if args.gate:
        if not baseline:
            print("eval gate: no baseline committed (run `tutormesh eval --update-baselines`)", file=sys.stderr)
            return 1
        failures = runner.gate(report, baseline) + extra
        for failure in failures:
            print(f"eval gate: REGRESSION {failure}", file=sys.stderr)
        print("eval gate: " + ("FAILED" if failures else "passed"))
        return 1 if failures else 0
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `eval` sub-command."""
    parser = subparsers.add_parser("eval", help="run the eval suites (offline; LangSmith too when a key is set)")
    parser.add_argument("--gate", action="store_true", help="exit 1 if quality drops or cost per student rises")
    parser.add_argument("--suite", action="append", choices=sorted([*SUITES, *EXTRA_SUITES]),
                        help="run only this suite (repeatable)")
    parser.add_argument("--update-baselines", action="store_true", help="write this run as the committed baseline")
    parser.add_argument("--offline", action="store_true", help="do not use LangSmith even if a key is set")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_eval)
