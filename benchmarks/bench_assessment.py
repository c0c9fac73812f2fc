"""Assessment throughput and latency through one real Celery worker process, per broker.

For each broker (embedded filesystem queue, Redis, RabbitMQ; unreachable ones are reported and
skipped) it starts ONE `celery worker` process (pool per `default_pool`, one task at a time) and measures:

- tasks/s: N submissions (a choice and an open answer: tier-1 graders, SQL writes and event delivery
  to the student and SME agents) queued up front, drained by the worker;
- submission-to-feedback latency, p50/p95: one submission at a time (choice + open + a code
  question run in the sandbox), from the commit of the submission to its stored result;

and, once, the sandbox's start-to-verdict overhead for a trivial program.

    python benchmarks/bench_assessment.py [--tasks 300] [--samples 30] [--brokers embedded,redis,rabbitmq]
    python benchmarks/bench_assessment.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

BROKERS = {"embedded": "", "redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}
ADD = "def add(a, b):\n    return a + b\n"
TESTS = "from solution import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"
RUBRIC = {"criteria": [{"id": "inverse", "description": "Undo the +3", "points": 2, "keywords": ["subtract|minus"]},
                       {"id": "check", "description": "Check", "points": 1, "keywords": ["check|substitute"]}]}


def _pct(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   max {ordered[-1]:7.1f} ms"


def _settings(broker_url: str, database_url: str, data_dir: Path):  # type: ignore[no-untyped-def]
    os.environ.update(TUTORMESH_DATA_DIR=str(data_dir), TUTORMESH_BROKER_URL=broker_url,
                      TUTORMESH_DATABASE_URL=database_url, TUTORMESH_ASSESSMENT_QUEUE=f"bench-{uuid.uuid4().hex[:8]}")
    from tutormesh.core.settings import get_settings
    from tutormesh.tools.store import prepare_database

    get_settings.cache_clear()
    settings = get_settings()
    prepare_database(settings)
    return settings


def _quiz(sessions, with_code: bool) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    from tutormesh.assessment import quizzes

    questions = [quizzes.QuestionIn(kind="choice", prompt="2 + 3 * 4", topic="order-of-operations",
                                    spec={"choices": {"a": "20", "b": "14"}, "answer": "b"}),
                 quizzes.QuestionIn(kind="open", prompt="Solve x + 3 = 5", spec={"rubric": RUBRIC})]
    if with_code:
        questions.append(quizzes.QuestionIn(kind="code", prompt="add(a, b)", spec={"tests": TESTS}))
    with sessions.begin() as s:
        quiz_id = quizzes.create_quiz(s, quizzes.QuizIn(title="bench", questions=questions), created_by="bench")["id"]
    answers = {f"{quiz_id}.q1": "b", f"{quiz_id}.q2": "subtract 3 and check", f"{quiz_id}.q3": ADD}
    return quiz_id, {k: v for k, v in answers.items() if with_code or not k.endswith("q3")}


def _submit(sessions, quiz_id: str, answers: dict[str, str], student: str) -> str:  # type: ignore[no-untyped-def]
    from tutormesh.assessment import quizzes

    with sessions.begin() as s:
        return quizzes.create_submission(s, quiz_id, student_id=student, cohort="bench", answers=answers)


def _graded(sessions) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from tutormesh.core.models.assessment import SubmissionResult

    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(SubmissionResult)) or 0)


def run_broker(name: str, database_url: str, tasks: int, samples: int) -> None:
    """Measure one broker: drain throughput, then one-at-a-time latency."""
    from kombu import Connection, Exchange, Queue

    from tutormesh.core.db import sessionmaker_for
    from tutormesh.server import worker

    url = BROKERS[name]
    if url:
        try:
            with Connection(url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            print(f"{name:9} unreachable ({exc}); skipped")
            return
    settings = _settings(url, database_url, Path(tempfile.mkdtemp(prefix=f"bench-{name}-")))
    sessions = sessionmaker_for(settings)
    quiz_id, answers = _quiz(sessions, with_code=False)
    ids = [_submit(sessions, quiz_id, answers, f"s{i}") for i in range(tasks)]
    worker.dispatch(ids, settings)
    child = worker.worker_child(settings)
    log = settings.data_dir / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(child.command, env={**os.environ, **child.env}, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)

    def wait(done: Callable[[], bool], pause: float) -> None:
        deadline = time.monotonic() + 120
        while not done():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name}: worker exited or stalled (code {proc.poll()}); see {log}")
            time.sleep(pause)

    try:
        wait(child.ready, 0.02)
        wait(lambda: _graded(sessions) > 0, 0.005)
        start = time.perf_counter()
        wait(lambda: _graded(sessions) >= tasks, 0.01)
        rate = (tasks - 1) / (time.perf_counter() - start)
        quiz_id, answers = _quiz(sessions, with_code=True)
        latencies = []
        for i in range(samples):
            t0 = time.perf_counter()
            sid = _submit(sessions, quiz_id, answers, f"e2e{i}")
            worker.dispatch([sid], settings)
            wait(lambda: _graded(sessions) >= tasks + i + 1, 0.002)  # noqa: B023 - called at once
            latencies.append((time.perf_counter() - t0) * 1000)
        pool = worker.default_pool(settings)
        print(f"{name:9} {rate:7.1f} tasks/s (1 worker process, pool {pool}, {tasks} queued)   "
              f"submission->feedback {_pct(latencies)}")
    finally:
        proc.terminate()
        proc.wait(30)
        if url:
            with Connection(url) as conn:
                Queue(settings.assessment_queue).bind(conn.default_channel).delete()
                Exchange(settings.assessment_queue, type="direct").bind(conn.default_channel).delete()
            if url.startswith("redis"):  # kombu leaves its binding sets behind
                import redis

                q = settings.assessment_queue
                redis.Redis.from_url(url).delete(f"_kombu.binding.{q}", f"_kombu.binding_permanent.{q}")


def sandbox_overhead(runs: int) -> None:
    """Time run_tests on a trivial program, start to verdict."""
    from tutormesh.tools.sandbox import run_tests

    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = run_tests(ADD, TESTS)
        walls.append((time.perf_counter() - t0) * 1000)
        assert result.verdict == "passed", result.to_json()
    print(f"sandbox   trivial program start-to-verdict {_pct(walls)}")


def main() -> int:
    """Parse options and run every measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--brokers", default=",".join(BROKERS))
    parser.add_argument("--database-url", default="", help="empty: SQLite in a temp dir")
    args = parser.parse_args()
    db = "postgres" if args.database_url else "sqlite"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, db {db}, load {os.getloadavg()[0]:.1f}")
    sandbox_overhead(args.samples)
    for name in args.brokers.split(","):
        run_broker(name.strip(), args.database_url, args.tasks, args.samples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
