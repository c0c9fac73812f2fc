"""`tutormesh eval`: run the eval suites offline, print the table, and gate on the baselines in CI."""

from __future__ import annotations

import argparse
import sys

from tutormesh.evals.evaluators import SUITES


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the suites; with --gate, exit 1 on a quality drop or a cost-per-student rise."""
    from tutormesh.evals import runner

    suites = args.suite or None
    report = runner.run(suites, progress=not args.quiet)
    baseline = runner.read_baseline()
    print(runner.table(report, baseline))
    if args.update_baselines:
        runner.write_baseline(report)
        print(f"baseline written: {runner.BASELINE}")
    if runner.langsmith_enabled() and not args.offline:
        for name in runner.run_langsmith(suites):
            print(f"langsmith experiment: {name}")
    if args.gate:
        if not baseline:
            print("eval gate: no baseline committed (run `tutormesh eval --update-baselines`)", file=sys.stderr)
            return 1
        failures = runner.gate(report, baseline)
        for failure in failures:
            print(f"eval gate: REGRESSION {failure}", file=sys.stderr)
        print("eval gate: " + ("FAILED" if failures else "passed"))
        return 1 if failures else 0
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `eval` sub-command."""
    parser = subparsers.add_parser("eval", help="run the eval suites (offline; LangSmith too when a key is set)")
    parser.add_argument("--gate", action="store_true", help="exit 1 if quality drops or cost per student rises")
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="run only this suite (repeatable)")
    parser.add_argument("--update-baselines", action="store_true", help="write this run as the committed baseline")
    parser.add_argument("--offline", action="store_true", help="do not use LangSmith even if a key is set")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_eval)
