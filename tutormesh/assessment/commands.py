"""CLI sub-commands of the assessment area: `grade-code` (the sandbox) and `worker` (Celery)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MAX_SOURCE_BYTES = 256_000


def _read(path: str, what: str) -> str:
    file = Path(path)
    if file.stat().st_size > MAX_SOURCE_BYTES:
        raise ValueError(f"{what} file {path} is over {MAX_SOURCE_BYTES} bytes")
    return file.read_text(encoding="utf-8")


def cmd_grade_code(args: argparse.Namespace) -> int:
    """Run the tests against the solution in the sandbox; print the result as JSON."""
    from tutormesh.tools.sandbox import SandboxLimits, SandboxUnavailable, run_tests

    limits = SandboxLimits(wall_seconds=args.wall_seconds) if args.wall_seconds else None
    try:
        result = run_tests(_read(args.solution, "solution"), _read(args.tests, "tests"), limits=limits)
    except SandboxUnavailable as exc:
        print(f"tutormesh grade-code: the sandbox is unavailable, nothing was run: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run one assessment worker in this process until it is stopped (SIGTERM: warm shutdown)."""
    from tutormesh.core.settings import get_settings
    from tutormesh.server import worker

    settings = get_settings()
    argv: list[Any] = worker.worker_command(settings, pool=args.pool, concurrency=args.concurrency,
                                            loglevel=args.loglevel)
    url, _ = worker.broker_config(settings)
    print(f"assessment worker: broker {url.split('@')[-1]}, queue {settings.assessment_queue}, "
          f"pool {args.pool or worker.default_pool(settings)}", file=sys.stderr)
    worker.celery_app(settings).worker_main(argv[argv.index("worker"):])
    return 0


def register(subparsers: Any) -> None:
    """Add `grade-code` and `worker` to the `tutormesh` command line."""
    code = subparsers.add_parser("grade-code", help="run tests against untrusted Python in the sandbox (JSON out)")
    code.add_argument("--solution", required=True, help="the student's Python file (imported as `solution`)")
    code.add_argument("--tests", required=True, help="a Python file of test_* functions")
    code.add_argument("--wall-seconds", type=float, default=None, help="wall-clock budget for the whole run")
    code.set_defaults(func=cmd_grade_code)
    work = subparsers.add_parser("worker", help="run a Celery worker that grades quiz submissions")
    work.add_argument("--pool", choices=("solo", "prefork", "threads"), default=None,
                      help="default: solo on the embedded broker, threads on Redis and RabbitMQ")
    work.add_argument("--concurrency", type=int, default=1)
    work.add_argument("--loglevel", default="INFO")
    work.set_defaults(func=cmd_worker)
