"""Tier-1 turn service time through the student graph, per checkpointer, and checkpoint growth.

Runs one thread of N turns (a practice mix: mostly right answers, some wrong, so negotiations
happen too) on one core, in-process, and prints p50/p95/p99, turns/s, the growth from the first
to the last 50 turns, checkpoint bytes per thread, the same for LangGraph's defaults (no window,
no pruning, durability "async") and for a trivial 3-node graph (the floor), the learner model's
hot-path read and write timed alone, and BKT update time.

    python benchmarks/bench_turns.py                 # SQLite (embedded)
    python benchmarks/bench_turns.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import timeit
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values in milliseconds."""
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def configure(data_dir: Path, postgres: str | None, *, window: int, prune: bool) -> Any:
    """Point TutorMesh at a scratch data dir (and Postgres) and return fresh settings."""
    os.environ["TUTORMESH_DATA_DIR"] = str(data_dir)
    os.environ["TUTORMESH_STATE_MESSAGE_WINDOW"] = str(window)
    os.environ["TUTORMESH_PRUNE_EVERY_TURNS"] = "20" if prune else "0"
    if postgres:
        os.environ["TUTORMESH_DATABASE_URL"] = postgres
    else:
        os.environ.pop("TUTORMESH_DATABASE_URL", None)
    from tutormesh.core.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


def checkpoint_bytes(saver: Any, thread_id: str) -> int:
    """Bytes the saver stores for one thread (checkpoints, blobs and pending writes)."""
    if type(saver).__name__.startswith("Prunable") or "Sqlite" in type(saver).__name__:
        with saver.cursor() as cur:
            cur.execute("SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints "
                        "WHERE thread_id = ?", (thread_id,))
            total = cur.fetchone()[0]
            cur.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?", (thread_id,))
            return int(total + cur.fetchone()[0])
    with saver._cursor() as cur:  # noqa: SLF001 - the only way to size PostgresSaver's tables
        total = 0
        for table, cols in (("checkpoints", "checkpoint::text || metadata::text"), ("checkpoint_blobs", "blob"),
                            ("checkpoint_writes", "blob")):
            cur.execute(f"SELECT COALESCE(SUM(pg_column_size({cols})), 0) AS n FROM {table} "  # noqa: S608
                        "WHERE thread_id = %s", (thread_id,))
            total += int(cur.fetchone()["n"])
        return total


def run_thread(turns: int, *, durability: str | None) -> dict[str, Any]:
    """Drive one thread for `turns` turns and measure each turn."""
    from langchain_core.messages import HumanMessage

    from tutormesh.graphs.runtime import open_tutor
    from tutormesh.graphs.student.context import StudentContext
    from tutormesh.tools.curriculum import load_curriculum
    from tutormesh.tools.store import get_store

    store = get_store()
    student_id = f"bench-{uuid.uuid4().hex[:8]}"
    store.ensure_student(student_id)
    curriculum = load_curriculum()
    thread_id = f"bench-{uuid.uuid4().hex[:8]}"
    times: list[float] = []
    with open_tutor() as tutor:
        tutor.send(student_id, thread_id, "I want to practice linear equations")
        config = {"configurable": {"thread_id": thread_id}}
        context = StudentContext(student_id=student_id, thread_id=thread_id)
        state = tutor.state(thread_id)
        for turn in range(turns):
            item = curriculum.item(state["current_item"]["id"])
            text = "x = 12345" if turn % 4 == 3 else item.answer
            start = time.perf_counter()
            if durability is None:  # LangGraph's defaults: a checkpoint per step
                state = tutor.graph.invoke({"messages": [HumanMessage(text)]}, config, context=context)
            else:
                state = tutor.send(student_id, thread_id, text)
            times.append(time.perf_counter() - start)
        size = checkpoint_bytes(tutor.saver, thread_id)
    return {"times": times, "bytes": size}


def trivial_floor(turns: int) -> list[float]:
    """A trivial 3-node graph with SqliteSaver and one checkpoint per turn: the floor."""
    from floor_app import trivial_graph

    from tutormesh.core.checkpoints import open_checkpointer

    builder = trivial_graph()
    times = []
    with open_checkpointer() as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "floor"}}
        for _ in range(turns):
            start = time.perf_counter()
            graph.invoke({"n": 0}, config, durability="exit")
            times.append(time.perf_counter() - start)
    return times


def learner_sql_cost(rounds: int = 1000) -> tuple[float, float]:
    """Mean wall ms of the hot path's one read and one write of the learner model, in isolation."""
    from tutormesh.tools.curriculum import load_curriculum
    from tutormesh.tools.store import get_store

    store, now = get_store(), datetime.now(UTC)
    topic = load_curriculum().subjects["math"].topics[0]
    item = {"id": topic.template(1).instantiate(1).id, "skill": topic.skill, "difficulty": 1}
    grade = {"correct": True, "reason": "equivalent", "feedback": "Correct."}
    store.load_learner("sql-cost", "math", today=now.date(), now=now)  # spawns the learner
    start = time.perf_counter()
    for _ in range(rounds):
        store.load_learner("sql-cost", "math", today=now.date(), now=now)
    load = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        store.record_practice(student_id="sql-cost", thread_id="sql-cost", item=item, answer="x = 3", grade=grade,
                              p_before=0.3, p_after=0.4, reply="Correct!")
    return load * 1000, (time.perf_counter() - start) / rounds * 1000


def report(label: str, times: list[float], size: int | None = None) -> None:
    """Print one row of the results table."""
    head, tail = times[:50], times[-50:]
    growth = statistics.mean(tail) / statistics.mean(head)
    size_text = f"{size / 1024:10.1f}" if size is not None else f"{'-':>10}"
    print(f"| {label:<34} | {pct(times, .5):6.2f} | {pct(times, .95):6.2f} | {pct(times, .99):6.2f} | "
          f"{len(times) / sum(times):7.0f} | {growth:6.2f}x | {size_text} |")


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--postgres", help="also measure on this Postgres (SQL data and checkpoints)")
    parser.add_argument("--skip-defaults", action="store_true", help="skip the LangGraph-defaults baseline")
    args = parser.parse_args()
    print(f"{args.turns} turns on one thread, one process (one core). Times in ms.\n")
    print("| setup | p50 | p95 | p99 | turns/s | growth 1-50 -> last 50 | KiB/thread |")
    print("|---|---|---|---|---|---|---|")
    sql_costs: dict[str, tuple[float, float]] = {}
    backends = [("sqlite", None)] + ([("postgres", args.postgres)] if args.postgres else [])
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in backends:
            configure(Path(tmp) / name, url, window=12, prune=True)
            result = run_thread(args.turns, durability="exit")
            report(f"student graph, {name} (ours)", result["times"], result["bytes"])
            sql_costs[name] = learner_sql_cost()
            if not args.skip_defaults:
                configure(Path(tmp) / f"{name}-defaults", url, window=100_000, prune=False)
                result = run_thread(args.turns, durability=None)
                report(f"student graph, {name}, LangGraph defaults", result["times"], result["bytes"])
        configure(Path(tmp) / "floor", None, window=12, prune=True)
        report("trivial 3-node graph, sqlite (floor)", trivial_floor(args.turns))
    for name, (load, write) in sql_costs.items():
        print(f"\nLearner model SQL, {name}: load_learner {load:.2f} ms, record_practice {write:.2f} ms (wall, mean)")
    from tutormesh.tools import bkt

    params = bkt.BKTParams()
    n = 200_000
    seconds = timeit.timeit(lambda: bkt.update(0.4, True, params), number=n)
    print(f"\nBKT online update: {seconds / n * 1e9:.0f} ns per attempt ({n} updates)")


if __name__ == "__main__":
    main()
