"""A real `tutormesh serve` on a free loopback port, for the serve and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Live:
    """A running supervisor and where its API listens."""

    proc: subprocess.Popen[str]
    url: str
    banner: str


def free_port() -> int:
    """Ask the OS for a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `tutormesh ARGS` in a subprocess on the given data dir."""
    full = {**os.environ, "TUTORMESH_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tutormesh.cli", *args], env=full, capture_output=True,
                          text=True, timeout=120, check=False)


@contextmanager
def serve(data_dir: Path, **env: str) -> Iterator[Live]:
    """Start `tutormesh serve`, wait for its banner, and stop it with SIGINT (like Ctrl-C) at exit."""
    port = free_port()
    # Free ports for every child, so a developer's own `tutormesh serve` does not collide with it.
    full = {**os.environ, "TUTORMESH_DATA_DIR": str(data_dir), "TUTORMESH_API_PORT": str(port),
            "TUTORMESH_LLM_PORT": str(free_port()), **{f"TUTORMESH_{k.upper()}": v for k, v in env.items()}}
    proc = subprocess.Popen([sys.executable, "-m", "tutormesh.cli", "serve"], env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    banner = ""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        banner += line
        if "TutorMesh is running" in line:
            break
    try:
        assert "TutorMesh is running" in banner, banner
        yield Live(proc, f"http://127.0.0.1:{port}", banner)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
