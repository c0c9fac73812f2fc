"""Host side of the sandbox: start the solution's and the tests' sandboxes, wire them, judge the record.

Two bubblewrap sandboxes per run, each in its own namespaces: one holds only the solution (and the
code that answers calls into it), the other only the tests. They share two pipes and nothing else.
The verdict comes from the tests' sandbox alone, on a third pipe. See docs/sandbox.md.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import marshal
import os
import selectors
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from . import bwrap, seccomp
from .result import SandboxLimits, SandboxResult, SandboxUnavailable

_HERE = Path(__file__).parent
_PACKAGE = "/box/_box"  # the in-sandbox modules, importable there as package ``_box``
_STUDENT_MODULES = ("confine", "wire", "student_side")
_TEACHER_MODULES = ("confine", "wire", "teacher_side")
_GRACE_SECONDS = 3.0  # interpreter start-up and reporting on top of the run's own budget
_SHUTDOWN_SECONDS = 2.0  # for the solution's sandbox to empty itself once the tests are done
_MAX_RECORD = 1024 * 1024
_MAX_STDERR = 4096
_MESSAGE_CHARS = 300

# Outcome codes written by teacher_side.py, in the order that decides the overall verdict.
_CODE_VERDICT = {
    "B": "tests_error", "E": "error", "T": "timeout", "M": "memory", "L": "killed", "X": "failed", "F": "failed",
}  # fmt: skip


class _BadTests(ValueError):
    """The tests file cannot be used as written (a teacher's mistake, not the student's)."""


def _collect_tests(tests_code: str) -> list[dict[str, Any]]:
    """Return the top-level ``def test_*`` functions in file order, with how visible each one is.

    ``@visible`` (or ``@sandbox.visible``) shows the failing line and error; ``@visible("hint")``
    shows only the hint. Read from the source, so nothing run at import can change it.
    """
    tree = ast.parse(tests_code, filename="tests.py")
    tests = []
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test")):
            continue
        test: dict[str, Any] = {"name": node.name, "visible": False, "hint": None}
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
            if name != "visible":
                continue
            test["visible"] = True
            if isinstance(decorator, ast.Call):
                args = decorator.args
                if decorator.keywords or len(args) != 1 or not isinstance(getattr(args[0], "value", None), str):
                    raise _BadTests(f"@visible takes one string literal, the hint (line {decorator.lineno})")
                test["hint"] = args[0].value  # type: ignore[attr-defined]
        tests.append(test)
    return tests


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.cache
def _bytecode(module: str) -> bytes:
    """Return an in-sandbox module as an unchecked-hash .pyc.

    Compiling the sources anew in every sandboxed process cost 5-40 ms a run; a sourceless .pyc
    is imported as is.
    """
    source = (_HERE / f"{module}.py").read_bytes()
    code = compile(source, f"{_PACKAGE}/{module}.py", "exec", dont_inherit=True)
    flags = (0b01).to_bytes(4, "little")  # hash-based, source not checked (there is no source)
    return importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source) + marshal.dumps(code)


def _files(modules: tuple[str, ...], extra: dict[str, bytes]) -> dict[str, int]:
    """Memfds for one sandbox's ``/box`` (each sandbox its own: bwrap reads them to the end)."""
    files = {f"{_PACKAGE}/__init__.py": _memfd("init", b"")}
    for module in modules:
        files[f"{_PACKAGE}/{module}.pyc"] = _memfd(module, _bytecode(module))
    for path, data in extra.items():
        files[path] = _memfd(Path(path).stem, data)
    return files


def _config(limits: SandboxLimits, uid: int | None, **fds: int) -> dict[str, Any]:
    return {
        **fds,
        "drop_to_uid": uid,
        "wall_seconds": limits.wall_seconds,
        "cpu_seconds": limits.cpu_seconds,
        "memory_mb": limits.memory_mb,
        "max_processes": limits.max_processes,
        "max_file_mb": limits.max_file_mb,
        "max_open_files": limits.max_open_files,
        "call_seconds": limits.call_seconds,
        "max_return_bytes": limits.max_return_kb * 1024,
    }


def _start(
    exe: str, files: dict[str, int], limits: SandboxLimits, module: str, config: dict[str, Any], uid: int | None
) -> subprocess.Popen[bytes]:
    """Start one sandbox; closes this process's copies of the descriptors handed to it."""
    bpf = seccomp.build_filter()
    seccomp_fd = _memfd("seccomp", bpf) if bpf is not None else None
    passed = [*files.values(), *_config_fds(config), *([seccomp_fd] if seccomp_fd is not None else [])]
    argv = bwrap.command(exe, files, limits, module, json.dumps(config), uid, seccomp_fd)
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # nothing printed inside is ever parsed
            stderr=subprocess.PIPE,  # bwrap's own errors; the sandboxed process points fd 2 at /dev/null
            pass_fds=passed,
            start_new_session=True,
            env={},
        )
    finally:
        for fd in passed:
            os.close(fd)


def _config_fds(config: dict[str, Any]) -> list[int]:
    """The pipe ends named in a sandbox's configuration."""
    return [int(v) for k, v in config.items() if k.endswith("_fd")]


def _collect(
    tests: subprocess.Popen[bytes], solution: subprocess.Popen[bytes], result_fd: int, deadline: float
) -> tuple[bytes, bytes, bytes, bool]:
    """Read the record and both stderr tails until the tests' sandbox exits, or kill both at the deadline."""
    assert tests.stderr is not None and solution.stderr is not None
    record, tails = bytearray(), {"tests": bytearray(), "solution": bytearray()}
    timed_out = False
    with selectors.DefaultSelector() as sel:
        sel.register(result_fd, selectors.EVENT_READ, "record")
        sel.register(tests.stderr.fileno(), selectors.EVENT_READ, "tests")
        sel.register(solution.stderr.fileno(), selectors.EVENT_READ, "solution")
        waiting_for = {"record", "tests"}
        while waiting_for:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(remaining):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    waiting_for.discard(key.data)
                elif key.data == "record":
                    record += chunk[: max(0, _MAX_RECORD - len(record))]
                    if record.endswith(b"\n"):  # complete: no need to wait for bwrap to let go of the pipe
                        sel.unregister(key.fd)
                        waiting_for.clear()
                else:
                    tails[key.data] = (tails[key.data] + chunk)[-_MAX_STDERR:]
        # The tests said stop: the supervisor kills every other process there, then exits, and
        # bwrap follows. So no student process outlives the run.
        for proc in (tests, solution):
            try:
                proc.wait(timeout=0 if timed_out else _SHUTDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                _kill(proc)
                proc.wait()
        # bwrap's own complaints about the solution's sandbox, if it never started.
        assert solution.stderr is not None
        tails["solution"] = (tails["solution"] + _read_rest(solution.stderr))[-_MAX_STDERR:]
    return bytes(record), bytes(tails["tests"]), bytes(tails["solution"]), timed_out


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # bwrap leads its own session; --die-with-parent does the rest
    except ProcessLookupError:
        pass


def _read_rest(stream: IO[bytes]) -> bytes:
    os.set_blocking(stream.fileno(), False)
    try:
        return stream.read(_MAX_STDERR) or b""
    except BlockingIOError:
        return b""


def _short(text: str) -> str:
    text = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates reach JSON printers
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


def _result(
    passed: int, failed: int, verdict: str, tests: list[dict[str, Any]], t0: float, detail: str
) -> SandboxResult:
    wall_ms = (time.perf_counter() - t0) * 1000
    return SandboxResult(passed, failed, verdict, tests, wall_ms, detail)


def _judge(record: dict[str, Any], names: list[str], t0: float) -> SandboxResult:
    """Turn the tests' record into a result; any test missing from it counts against the solution."""
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
    worst = next(c for c in (*_CODE_VERDICT, "P") if c in codes)
    first = next((t for t, c in zip(tests, codes, strict=True) if c == worst), None)
    if verdict == "passed":
        detail = f"All {passed} tests passed."
    elif verdict == "tests_error":
        detail = "The tests could not run: a problem in the tests, not in the solution."
    elif verdict == "error" and first:
        detail = first["message"][:1].upper() + first["message"][1:]
    else:
        detail = f"{passed} of {len(names)} tests passed; {first['name']}: {first['message']}" if first else ""
    return _result(passed, len(names) - passed, verdict, tests, t0, _short(detail))


def _uids() -> tuple[int | None, int | None]:
    """Two different uids in root mode (one per sandbox), so neither can signal the other."""
    first = bwrap.sandbox_uid()
    second = bwrap.sandbox_uid()
    while second is not None and second == first:
        second = bwrap.sandbox_uid()
    return first, second


def run_tests(solution_code: str, tests_code: str, *, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run the ``test_*`` functions of ``tests_code`` against ``solution_code``, each in its own sandbox.

    The tests import the student's code as module ``solution``, but it lives in another process:
    each call sends plain data over a pipe and gets plain data back. Each test gets a fresh
    solution process. A failure shows the student only the test's name and "failed" unless the
    test is marked ``@visible``; see docs/sandbox.md.

    Args:
        solution_code: The student's Python source.
        tests_code: Trusted Python source whose top-level ``test_*`` functions assert on ``solution``.
        limits: Resource limits; ``SandboxLimits()`` when omitted.

    Returns:
        The graded result. It never raises for anything the student's code does.

    Raises:
        SandboxUnavailable: bubblewrap is missing or cannot create a sandbox on this machine.
    """
    t0 = time.perf_counter()
    limits = limits or SandboxLimits()
    try:
        tests = _collect_tests(tests_code)
    except SyntaxError as exc:
        return _result(0, 0, "tests_error", [], t0, f"The tests file has a syntax error (line {exc.lineno}).")
    except _BadTests as exc:
        return _result(0, 0, "tests_error", [], t0, f"The tests file cannot be used: {exc}.")
    if not tests:
        return _result(0, 0, "no_tests", [], t0, "The tests file defines no test_* functions.")
    exe = bwrap.find_bwrap()
    student_uid, teacher_uid = _uids()
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    result_r, result_w = os.pipe()
    student_files = _files(_STUDENT_MODULES, {"/box/solution.py": solution_code.encode("utf-8", "surrogateescape")})
    student_cfg = _config(limits, student_uid, request_fd=request_r, reply_fd=reply_w)
    solution = _start(exe, student_files, limits, "_box.student_side", student_cfg, student_uid)
    # Visible tests run first: what the student's code says about them (its exception messages) is
    # shown, and that must be said before any input of a hidden test has reached it.
    order = sorted(tests, key=lambda t: not t["visible"])
    teacher_files = _files(_TEACHER_MODULES, {"/box/tests.py": tests_code.encode("utf-8", "surrogateescape")})
    teacher_cfg = _config(limits, teacher_uid, request_fd=request_w, reply_fd=reply_r, result_fd=result_w)
    teacher_cfg["tests"] = order
    try:
        checker = _start(exe, teacher_files, limits, "_box.teacher_side", teacher_cfg, teacher_uid)
    except BaseException:
        _kill(solution)
        solution.wait()
        os.close(result_r)
        raise
    try:
        raw, tests_err, solution_err, timed_out = _collect(
            checker, solution, result_r, time.monotonic() + limits.wall_seconds + _GRACE_SECONDS
        )
    finally:
        os.close(result_r)
    for stderr in (tests_err, solution_err):
        if stderr.startswith(b"bwrap:"):  # only bwrap writes there, never code inside a sandbox
            raise SandboxUnavailable(stderr.decode("utf-8", "replace").strip())
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        record = None
    names = [t["name"] for t in tests]
    if not isinstance(record, dict):
        if timed_out:
            return _result(0, len(names), "timeout", [], t0, "The run exceeded the wall-clock limit.")
        return _result(0, len(names), "error", [], t0, "The tests stopped before they could report.")
    return _judge(record, names, t0)
