"""Server CPU per tier-1 practice turn through the whole API app in one process: no sockets, no driver.

A quieter figure than bench_api.py's for work on the hot path: each turn is a real
`POST /v1/threads/{id}/messages` through the middleware, auth, routing, thread hop, student graph,
SQLite and checkpointer, called as ASGI from this process one at a time. Answers (3 right : 1 wrong)
are looked up before each timed call. Prints CPU time (all threads) and wall time per turn;
`--count-sql` also counts the SQL statements SQLAlchemy sends per timed turn and its commits (the learner store's;
the checkpointer's own sqlite3 connection is not SQLAlchemy and not counted); `--count-calls` counts
Python function calls per timed turn in every thread, a figure other processes' load does not move
(its profiler hook makes the CPU figures of that run meaningless).

    python benchmarks/bench_api_cpu.py --turns 1000
    python benchmarks/bench_api_cpu.py --turns 200 --count-sql
    python benchmarks/bench_api_cpu.py --turns 200 --count-calls
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


async def call(app: Any, path: str, headers: dict[str, str], body: bytes) -> int:
    """POST `body` to `path` as one ASGI request; return the status."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
             + [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {}, "app": app}
    sent, status = False, 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # no disconnect while the response is sent
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(turns: int, students: int, count_sql: bool = False, count_calls: bool = False) -> None:
    """Warm up `students` threads, then time `turns` practice answers."""
    import threading

    from bench_api import make_students
    from sqlalchemy import Engine, event

    calls = {"timed": False, "n": 0}

    def called(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and calls["timed"]:
            calls["n"] += 1

    if count_calls:  # before any thread starts: the API's worker threads and LangGraph's inherit it
        threading.setprofile(called)
        sys.setprofile(called)

    from tutormesh.server.app import create_app
    from tutormesh.tools.curriculum import load_curriculum

    curriculum = load_curriculum()
    people = make_students(students)
    app = create_app()
    async with app.router.lifespan_context(app):
        tutor = app.state.services.tutor

        def next_body(student: dict[str, Any]) -> bytes:
            item = tutor.state(student["thread"]).get("current_item")
            student["turns"] += 1
            wrong = not item or student["turns"] % 4 == 3
            return json.dumps({"content": "x = 12345" if wrong else curriculum.item(item["id"]).answer}).encode()

        for student in people:
            body = json.dumps({"content": "practice linear equations"}).encode()
            assert await call(app, f"/v1/threads/{student['thread']}/messages", student["headers"], body) == 200
        cpu: list[float] = []
        wall: list[float] = []
        statements = {"timed": False, "n": 0, "select": 0, "commits": 0}

        def counted(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
            if statements["timed"]:
                statements["n"] += 1
                statements["select"] += sql.lstrip().upper().startswith("SELECT")

        def committed(conn: Any) -> None:
            statements["commits"] += statements["timed"]

        if count_sql:
            event.listen(Engine, "before_cursor_execute", counted)
            event.listen(Engine, "commit", committed)
        for i in range(turns + students):
            student = people[i % students]
            body = next_body(student)
            statements["timed"] = calls["timed"] = i >= students
            w, c = time.perf_counter(), time.process_time()
            status = await call(app, f"/v1/threads/{student['thread']}/messages", student["headers"], body)
            if i >= students:  # the first round warms caches and connections
                cpu.append(time.process_time() - c)
                wall.append(time.perf_counter() - w)
            assert status == 200, status
        statements["timed"] = calls["timed"] = False
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        if count_sql:
            event.remove(Engine, "before_cursor_execute", counted)
            event.remove(Engine, "commit", committed)
    cpu.sort()
    wall.sort()
    print(f"{turns} practice turns, one at a time: CPU per turn mean {sum(cpu) / turns * 1000:.2f} ms, "
          f"p50 {cpu[turns // 2] * 1000:.2f} ms; wall p50 {wall[turns // 2] * 1000:.2f} ms, "
          f"p95 {wall[int(turns * 0.95)] * 1000:.2f} ms")
    if count_calls:
        print(f"Python function calls per turn (all threads): {calls['n'] / turns:,.0f}")
    if count_sql:
        print(f"SQL statements per turn (SQLAlchemy, counter on): {statements['n'] / turns:.2f} "
              f"({statements['select'] / turns:.2f} SELECTs), {statements['commits'] / turns:.2f} commits")


def main() -> None:
    """Parse arguments; run on a scratch data dir with limits out of the way."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--count-sql", action="store_true",
                        help="count SQLAlchemy statements per timed turn (the listener adds a little CPU)")
    parser.add_argument("--count-calls", action="store_true",
                        help="count Python function calls per timed turn (a profiler hook: slows the run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tm-bench-") as tmp:
        os.environ.update(TUTORMESH_DATA_DIR=tmp, TUTORMESH_JWT_SECRET=secrets.token_urlsafe(48),
                          TUTORMESH_RATE_LIMIT_USER="1000000/second", TUTORMESH_RATE_LIMIT_IP="1000000/second")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        asyncio.run(measure(args.turns, args.students, args.count_sql, args.count_calls))


if __name__ == "__main__":
    main()
