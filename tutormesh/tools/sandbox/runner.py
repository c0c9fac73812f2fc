"""Host side of the sandbox: start bwrap, collect the harness's record, decide the verdict."""

from __future__ import annotations

import ast
import json
import os
import secrets
import selectors
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from . import bwrap, seccomp
from .result import SandboxLimits, SandboxResult, SandboxUnavailable

_HARNESS = Path(__file__).with_name("harness.py")
_GRACE_SECONDS = 3.0  # interpreter start-up and reporting on top of the harness's own budget
_MAX_RECORD = 1024 * 1024
_MAX_STDERR = 4096
_MESSAGE_CHARS = 300

# Outcome codes written by harness.py, in the order that decides the overall verdict.
_CODE_VERDICT = {"E": "error", "T": "timeout", "M": "memory", "L": "killed", "X": "failed", "F": "failed"}


def _test_names(tests_code: str) -> list[str]:
    """Return the top-level ``def test_*`` names, in file order (the tests file is trusted)."""
    tree = ast.parse(tests_code, filename="tests.py")
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)  # not CLOEXEC-free: pass_fds makes it inheritable in the child
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _collect(proc: subprocess.Popen[bytes], result_fd: int, deadline: float) -> tuple[bytes, bytes, bool]:
    """Read the record and a stderr tail until bwrap exits or the deadline; kill it on timeout."""
    assert proc.stderr is not None
    record, stderr = bytearray(), bytearray()
    timed_out = False
    with selectors.DefaultSelector() as sel:
        sel.register(result_fd, selectors.EVENT_READ, "record")
        sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(remaining):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                elif key.data == "record":
                    record += chunk[: max(0, _MAX_RECORD - len(record))]
                else:
                    stderr = (stderr + chunk)[-_MAX_STDERR:]
    if timed_out:
        os.killpg(proc.pid, signal.SIGKILL)  # bwrap leads its own session; --die-with-parent does the rest
    proc.wait()
    return bytes(record), bytes(stderr), timed_out


def _short(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


def _result(
    passed: int, failed: int, verdict: str, tests: list[dict[str, Any]], t0: float, detail: str
) -> SandboxResult:
    wall_ms = (time.perf_counter() - t0) * 1000
    return SandboxResult(passed, failed, verdict, tests, wall_ms, detail)


def _judge(record: dict[str, Any], names: list[str], t0: float) -> SandboxResult:
    """Turn the harness's record into a result; anything missing counts against the solution."""
    if record.get("error"):
        detail = f"The solution does not compile: {record['error']}"
        return _result(0, len(names), "error", [], t0, _short(detail))
    outcomes = {t.get("name"): t for t in record.get("tests", []) if isinstance(t, dict)}
    tests: list[dict[str, Any]] = []
    codes: list[str] = []
    for name in names:
        outcome = outcomes.get(name)
        code = outcome.get("code") if outcome else None
        if code not in ("P", *_CODE_VERDICT):
            code, message = "X", "not run"
        else:
            message = str(outcome.get("message", "")) if outcome else ""
        codes.append(str(code))
        tests.append({"name": name, "passed": code == "P", "message": _short(message)})
    passed = sum(t["passed"] for t in tests)
    verdict = next((v for c, v in _CODE_VERDICT.items() if c in codes), "passed")
    first = next((t for t in tests if not t["passed"]), None)
    if verdict == "passed":
        detail = f"All {passed} tests passed."
    elif verdict == "error":
        detail = f"The solution could not be imported: {first['message'] if first else ''}"
    else:
        detail = f"{passed} of {len(names)} tests passed; {first['name']}: {first['message']}" if first else ""
    return _result(passed, len(names) - passed, verdict, tests, t0, _short(detail))


def run_tests(solution_code: str, tests_code: str, *, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run the ``test_*`` functions of ``tests_code`` against ``solution_code`` in a sandbox.

    The student's code is importable as module ``solution``. Each test runs in a fresh process
    inside a bubblewrap sandbox (no network, no host files, resource limits); see docs/sandbox.md.

    Args:
        solution_code: The student's Python source.
        tests_code: Trusted Python source whose top-level ``test_*`` functions assert on ``solution``.
        limits: Resource limits; ``SandboxLimits()`` when omitted.

    Returns:
        The graded result. It never raises for anything the student's code does.

    Raises:
        SandboxUnavailable: bubblewrap is missing or cannot create the sandbox on this machine.
    """
    t0 = time.perf_counter()
    limits = limits or SandboxLimits()
    try:
        names = _test_names(tests_code)
    except SyntaxError as exc:
        return _result(0, 0, "error", [], t0, f"The tests file has a syntax error (line {exc.lineno}).")
    if not names:
        return _result(0, 0, "no_tests", [], t0, "The tests file defines no test_* functions.")
    exe = bwrap.find_bwrap()
    uid = bwrap.sandbox_uid()
    nonce = secrets.token_hex(32)
    bpf = seccomp.build_filter()
    fds = [
        _memfd("solution", solution_code.encode("utf-8", "surrogateescape")),
        _memfd("tests", tests_code.encode("utf-8", "surrogateescape")),
        _memfd("harness", _HARNESS.read_bytes()),
    ]
    if bpf is not None:
        fds.append(_memfd("seccomp", bpf))
    nonce_r, nonce_w = os.pipe()
    os.write(nonce_w, nonce.encode())  # 64 bytes: fits the pipe buffer, read only at the very end
    os.close(nonce_w)
    result_r, result_w = os.pipe()
    config = {
        "tests": names,
        "nonce_fd": nonce_r,
        "result_fd": result_w,
        "drop_to_uid": uid,
        "wall_seconds": limits.wall_seconds,
        "cpu_seconds": limits.cpu_seconds,
        "memory_mb": limits.memory_mb,
        "max_processes": limits.max_processes,
        "max_file_mb": limits.max_file_mb,
        "max_open_files": limits.max_open_files,
    }
    layout = bwrap.Layout(fds[0], fds[1], fds[2], fds[3] if bpf is not None else None)
    argv = bwrap.command(exe, layout, limits, json.dumps(config), uid)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # nothing the student prints is ever parsed
            stderr=subprocess.PIPE,
            pass_fds=[*fds, nonce_r, result_w],
            start_new_session=True,
            env={},
        )
    finally:
        for fd in (*fds, nonce_r, result_w):
            os.close(fd)
    try:
        raw, stderr, timed_out = _collect(proc, result_r, time.monotonic() + limits.wall_seconds + _GRACE_SECONDS)
    finally:
        os.close(result_r)
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or not secrets.compare_digest(str(record.get("nonce", "")), nonce):
        if stderr.startswith(b"bwrap:"):  # only bwrap and the harness write here, never student code
            raise SandboxUnavailable(stderr.decode("utf-8", "replace").strip())
        if timed_out:
            return _result(0, len(names), "timeout", [], t0, "The run exceeded the wall-clock limit.")
        detail = "The test harness was stopped before it could report (did the program kill it?)."
        return _result(0, len(names), "error", [], t0, detail)
    return _judge(record, names, t0)
