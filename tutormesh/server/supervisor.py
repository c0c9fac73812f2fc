"""`tutormesh serve`: start the API and its helper processes as children, watch them, stop them cleanly.

Children are described by `ChildSpec`s. Each entry of `CHILD_PROVIDERS` names a function
`(settings) -> ChildSpec | None` (None: not needed on this profile), so the Celery worker and the
local LLM server join by adding one line here, with the function living in their own module.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from tutormesh.core.errors import TutorMeshError
from tutormesh.core.settings import Settings

CHILD_PROVIDERS: tuple[str, ...] = (
    "tutormesh.server.supervisor:llm_child",
    "tutormesh.server.worker:child_spec",
    "tutormesh.server.supervisor:api_child",
)
MAX_RESTARTS = 3  # within RESTART_WINDOW seconds; more than that and serve gives up
RESTART_WINDOW = 60.0


@dataclass
class ChildSpec:
    """How to run and watch one child process."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None  # polled until it answers 200 before the next child starts
    ready_timeout: float = 60.0
    stop_timeout: float = 10.0  # SIGTERM, then SIGKILL after this many seconds
    restart: bool = True


def api_child(settings: Settings) -> ChildSpec:
    """The API: uvicorn with the app factory, workers per `api_workers`, our own PII-free access log."""
    host, port = settings.api_host, str(settings.api_port)
    argv = [sys.executable, "-m", "uvicorn", "tutormesh.server.app:create_app", "--factory", "--host", host,
            "--port", port, "--workers", str(settings.api_workers), "--no-access-log",
            "--timeout-graceful-shutdown", "5", "--log-level", "warning"]
    # X-Forwarded-For is believed from configured proxies only (uvicorn trusts 127.0.0.1 by default).
    if settings.trusted_proxies.strip():
        argv += ["--proxy-headers", "--forwarded-allow-ips", settings.trusted_proxies.strip()]
    else:
        argv += ["--no-proxy-headers"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return ChildSpec("api", argv, ready_url=f"http://{shown}:{port}/v1/health")


def llm_child(settings: Settings) -> ChildSpec | None:
    """The local LLM server (llama-cpp over the packaged GGUF), unless a remote endpoint is configured."""
    if settings.llm_base_url or not settings.llm_enabled:
        return None
    from tutormesh.core import llm_server

    return ChildSpec("llm", llm_server.llm_server_command(settings),
                     ready_url=f"{llm_server.llm_base_url(settings)}/models", ready_timeout=120.0)


def child_specs(settings: Settings) -> list[ChildSpec]:
    """Ask every provider for its child on this profile."""
    specs = []
    for entry in CHILD_PROVIDERS:
        module, _, name = entry.partition(":")
        provider: Callable[[Settings], ChildSpec | None] = getattr(importlib.import_module(module), name)
        spec = provider(settings)
        if spec is not None:
            specs.append(spec)
    return specs


class Supervisor:
    """Starts children in order, restarts one that dies (a few times), and stops all on a signal."""

    def __init__(self, specs: list[ChildSpec]) -> None:
        """Supervise `specs` (started in order, stopped in reverse)."""
        self.specs = specs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, list[float]] = {s.name: [] for s in specs}
        self.stopping = False

    def start(self, spec: ChildSpec) -> None:
        """Launch a child in its own process group (so Ctrl-C reaches it only through us)."""
        env = {**os.environ, **spec.env}
        self.procs[spec.name] = subprocess.Popen(spec.argv, env=env, start_new_session=True)
        if spec.ready_url:
            self._wait_ready(spec)

    def _wait_ready(self, spec: ChildSpec) -> None:
        deadline = time.monotonic() + spec.ready_timeout
        while time.monotonic() < deadline and not self.stopping:
            if self.procs[spec.name].poll() is not None:
                raise TutorMeshError(f"{spec.name} exited during start (code {self.procs[spec.name].returncode})")
            try:
                with urllib.request.urlopen(spec.ready_url, timeout=2) as response:  # noqa: S310 - our own URL
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        if not self.stopping:
            raise TutorMeshError(f"{spec.name} not ready after {spec.ready_timeout:.0f}s")

    def watch(self) -> int:
        """Block until a stop signal (0) or a child that keeps dying (1)."""
        while not self.stopping:
            for spec in self.specs:
                proc = self.procs.get(spec.name)
                if proc is None or proc.poll() is None:
                    continue
                now = time.monotonic()
                recent = [t for t in self.restarts[spec.name] if now - t < RESTART_WINDOW]
                if not spec.restart or len(recent) >= MAX_RESTARTS:
                    print(f"tutormesh serve: {spec.name} exited (code {proc.returncode}); stopping", file=sys.stderr)
                    return 1
                print(f"tutormesh serve: {spec.name} exited (code {proc.returncode}); restarting", file=sys.stderr)
                self.restarts[spec.name] = [*recent, now]
                time.sleep(min(2 ** len(recent), 8))
                self.start(spec)
            time.sleep(0.2)
        return 0

    def stop(self) -> None:
        """SIGTERM each child's group in reverse order; SIGKILL what is left after its timeout."""
        self.stopping = True
        for spec in reversed(self.specs):
            proc = self.procs.get(spec.name)
            if proc is None or proc.poll() is not None:
                continue
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=spec.stop_timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def serve(settings: Settings) -> int:
    """Prepare the database, start every child, print where to open the page, run until Ctrl-C."""
    from tutormesh.server.security import signing_secret
    from tutormesh.tools.store import prepare_database

    try:
        signing_secret(settings)  # production without a secret stops here, with the reason
        prepare_database(settings)  # once, before workers start (they would race on migrations)
    except TutorMeshError as exc:
        print(f"tutormesh serve: {exc.message}", file=sys.stderr)
        return 1
    supervisor = Supervisor(child_specs(settings))

    def on_signal(signum: int, _frame: object) -> None:
        supervisor.stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for spec in supervisor.specs:
            supervisor.start(spec)
        if not supervisor.stopping:
            host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
            print(f"TutorMesh is running: open http://{host}:{settings.api_port}/ (API docs at /docs). "
                  "Ctrl-C stops it.", flush=True)
        code = supervisor.watch()
    except TutorMeshError as exc:
        print(f"tutormesh serve: {exc.message}", file=sys.stderr)
        code = 1
    finally:
        supervisor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("tutormesh serve: stopped", flush=True)
    return code
