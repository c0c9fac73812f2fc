"""Trusted test runner that executes inside the bubblewrap sandbox (stdlib only).

Run as ``python -I -S -B harness.py CONFIG_JSON``. This process (the "reporter") never imports
student code: it forks one child per test, and only a child imports ``solution``. A child reports
its outcome on a private pipe, tagged with a random per-test token; the reporter accepts an
outcome only if it carries that token. After every child and all their descendants are dead,
the reporter reads the run nonce from a pipe it has held unread all along and writes the single
authenticated record the host accepts. Children close the nonce and result pipes before any
student code runs, so nothing the student runs can ever hold them.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import select
import sys
import threading
import time
from typing import Any, NoReturn

BOX = "/box"
SCRATCH = "/tmp"
TOKEN_BYTES = 16
MAX_CHILD_BYTES = 64 * 1024  # what we keep from a child's report pipe; the rest is drained
MAX_MESSAGE = 500

# Audit events a child blocks once student code may run: the ways to reach another frame's locals
# (where the per-test token lives), to rewrite code, or to load raw memory access.
_BLOCKED_EVENTS = frozenset(
    {
        "sys._getframe",
        "sys._current_frames",
        "sys._current_exceptions",
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "code.__new__",
        "marshal.loads",
        "marshal.load",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.addressof",
        "ctypes.cdata",
        "ctypes.PyObj_FromPtr",
    }
)
_BLOCKED_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_BLOCKED_IMPORTS = frozenset({"ctypes", "_ctypes", "_testcapi", "_testinternalcapi", "_xxsubinterpreters"})

# Stdlib modules that rebuild code objects at import time (asyncio uses types.coroutine), which
# the audit hook refuses once student code may run; imported before the fork when mentioned.
_PRELOAD = ("asyncio",)

# One-byte outcome codes shared with the host side (runner.py keeps the same table).
PASS, FAIL, IMPORT_ERROR, MEMORY, LIMIT, TIMEOUT, CRASH = "P", "F", "E", "M", "L", "T", "X"


def _audit_hook(
    event: str,
    args: tuple[Any, ...],
    _events: frozenset[str] = _BLOCKED_EVENTS,
    _attrs: frozenset[str] = _BLOCKED_ATTRS,
    _imports: frozenset[str] = _BLOCKED_IMPORTS,
    _type: type = type,
    _str: type = str,
) -> None:
    """Refuse introspection that could reach the runner's frame (see ``_BLOCKED_EVENTS``)."""
    if event in _events:
        # ValueError is what callers of sys._getframe already handle (namedtuple, typing, enum).
        raise ValueError(f"{event} is disabled in the sandbox")
    if event == "object.__getattr__" and _type(args[1]) is _str and args[1] in _attrs:
        raise ValueError(f"reading {args[1]} is disabled in the sandbox")
    if event == "object.__setattr__" and _type(args[1]) is _str and args[1] == "__code__":
        raise ValueError("replacing __code__ is disabled in the sandbox")
    if event == "import" and _type(args[0]) is _str and args[0] in _imports:
        raise ImportError(f"module {args[0]} is disabled in the sandbox")
    if event == "sys.addaudithook":
        raise RuntimeError("audit hooks are reserved")  # RuntimeError: the new hook is silently skipped


def _set_limit(which: int, value: int) -> None:
    resource.setrlimit(which, (value, value))


def _child(
    name: str, tests_code: Any, lines: list[str], holder: list[bytes], out: int, cfg: dict[str, Any]
) -> NoReturn:
    """Set this forked process up for student code, then run the test in a worker thread.

    The token must never sit in a main-thread frame: a signal handler is handed the interrupted
    main-thread frame and could walk ``f_back`` to it. So the worker takes it out of ``holder``
    (emptying the list every main-thread frame can see) before any student code runs.
    """
    mb = 1024 * 1024
    _set_limit(resource.RLIMIT_CPU, int(cfg["cpu_seconds"]))
    _set_limit(resource.RLIMIT_AS, int(cfg["memory_mb"]) * mb)
    _set_limit(resource.RLIMIT_FSIZE, int(cfg["max_file_mb"]) * mb)
    _set_limit(resource.RLIMIT_NOFILE, int(cfg["max_open_files"]))
    os.chdir(SCRATCH)
    # Student output goes nowhere: the host never parses it, and bwrap's stderr stays bwrap's own.
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.path[:] = [BOX, *(p for p in sys.path if p != BOX)]  # stdlib stays importable
    sys.dont_write_bytecode = True
    # Import from source, never from cached .pyc, so marshal (a way to forge code objects) can stay
    # blocked for the student without blocking the import system.
    sys.pycache_prefix = "/nonexistent"
    # The tests run in a namespace we own, with a private copy of builtins, so the student can
    # neither swap the module in sys.modules nor patch the builtins the tests see.
    namespace: dict[str, Any] = {"__name__": "tests", "__builtins__": dict(vars(builtins))}
    worker = threading.Thread(target=_run_test, args=(name, tests_code, lines, holder, out, namespace))
    sys.addaudithook(_audit_hook)
    try:
        worker.start()
        worker.join()
    finally:
        os._exit(70)  # the worker always exits the process itself; getting here means it was cut short


def _run_test(
    name: str, tests_code: Any, lines: list[str], holder: list[bytes], out: int, namespace: dict[str, Any]
) -> NoReturn:
    """Exec the tests, call test ``name`` and write ``token + code + message`` to ``out``.

    Everything used after student code starts is bound to a local first: the student can rebind
    module globals and builtins, but not this frame's locals without a frame, and frames are what
    the audit hook withholds.
    """
    token = holder.pop()
    write, exit_, type_, isinstance_, str_, len_, getattr_ = os.write, os._exit, type, isinstance, str, len, getattr
    base_exc, mem_err, os_err, blocking = BaseException, MemoryError, OSError, BlockingIOError
    clock, exec_ = time.perf_counter, exec

    def report(code: str, message: str) -> NoReturn:
        data = message.encode("utf-8", "replace")[:MAX_MESSAGE]
        write(out, token + code.encode() + data)  # one write under PIPE_BUF: atomic
        exit_(0)

    def describe(exc: BaseException, in_test: bool) -> tuple[str, str]:
        try:
            text = f"{type_(exc).__name__}: {str_(exc)}".rstrip(": ")
        except base_exc:
            text = "<exception that cannot be printed>"
        try:
            tb = exc.__traceback__
            # tb (this frame) -> test function frame: tb_lineno there is the failing test line.
            if in_test and tb is not None and tb.tb_next is not None:
                lineno = tb.tb_next.tb_lineno
                if 0 < lineno <= len_(lines):
                    text = f"line {lineno}: {lines[lineno - 1].strip()} -> {text}"
        except base_exc:
            pass
        if isinstance_(exc, mem_err):
            return MEMORY, text
        errno = getattr_(exc, "errno", None) if isinstance_(exc, os_err) else None
        if errno in (27, 28):  # EFBIG, ENOSPC
            return LIMIT, "file size or scratch space limit exceeded: " + text
        if isinstance_(exc, blocking) and errno == 11:  # EAGAIN from fork: the process limit
            return LIMIT, "process limit reached: " + text
        return FAIL, text

    started = clock()
    try:
        exec_(tests_code, namespace)
        func = namespace[name]
    except base_exc as exc:
        code, text = describe(exc, in_test=False)
        report(IMPORT_ERROR if code == FAIL else code, text)
    try:
        returned = func()
    except base_exc as exc:
        code, text = describe(exc, in_test=True)
        report(code, text)
    if returned is not None:
        report(FAIL, "the test returned a value instead of None (is it a generator or async?)")
    report(PASS, f"passed in {(clock() - started) * 1000:.1f} ms")


def _kill_strays() -> None:
    """Kill every process in the sandbox's pid namespace except init and this reporter.

    Loops until kill(-1) finds nobody (zombies count until bwrap's init reaps them), so no student
    process is alive, or even dying, when the nonce is read or the host gets the verdict.
    """
    for _ in range(400):  # about 2 s at most; normally the first or second pass finds nobody
        try:
            os.kill(-1, 9)
        except ProcessLookupError:
            return
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.005)


def _run_one(name: str, tests_code: Any, lines: list[str], cfg: dict[str, Any], deadline: float) -> dict[str, Any]:
    """Fork a child for test ``name`` and turn what it reports (or how it died) into an outcome."""
    holder = [os.urandom(TOKEN_BYTES)]  # a list, so the child can take the token out of every frame
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.close(cfg["nonce_fd"])
            os.close(cfg["result_fd"])
            _child(name, tests_code, lines, holder, write_end, cfg)
        finally:
            os._exit(70)
    token = holder[0]
    os.close(write_end)
    pidfd = os.pidfd_open(pid)
    os.set_blocking(read_end, False)
    received = bytearray()
    timed_out = False
    exited = False
    while not exited:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([pidfd, read_end], [], [], remaining)
        if read_end in ready:
            received += _drain(read_end, MAX_CHILD_BYTES - len(received))
        exited = pidfd in ready
    if timed_out:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    _kill_strays()  # a test's forks and threads must not outlive it
    received += _drain(read_end, MAX_CHILD_BYTES - len(received))
    os.close(read_end)
    code, message = _decode(bytes(received), token)
    if code is None:
        code, message = _from_status(status, timed_out)
    ms = (time.monotonic() - started) * 1000
    return {"name": name, "code": code, "message": message, "ms": round(ms, 1)}


def _drain(fd: int, keep: int) -> bytes:
    """Read what is available on ``fd``; keep at most ``keep`` bytes, discard the rest."""
    kept = bytearray()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return bytes(kept)
        if not chunk:
            return bytes(kept)
        if len(kept) < keep:
            kept += chunk[: keep - len(kept)]


def _decode(data: bytes, token: bytes) -> tuple[str | None, str]:
    """Find the frames tagged with ``token``; a pass needs every tagged frame to say pass.

    A student process that forked mid-test holds the token too, but only by running the real test,
    so any non-pass frame wins.
    """
    codes: list[str] = []
    message = ""
    start = data.find(token)
    while start >= 0:
        nxt = data.find(token, start + len(token))
        body = data[start + len(token) : nxt if nxt >= 0 else len(data)]
        if body:
            code = chr(body[0])
            if code in (PASS, FAIL, IMPORT_ERROR, MEMORY, LIMIT):
                codes.append(code)
                if code != PASS or not message:
                    message = body[1 : 1 + MAX_MESSAGE].decode("utf-8", "replace")
        start = nxt
    if not codes:
        return None, ""
    worst = next((c for c in codes if c != PASS), PASS)
    return worst, message


def _from_status(status: int, timed_out: bool) -> tuple[str, str]:
    """Explain a child that died without a valid report."""
    if timed_out:
        return TIMEOUT, "wall-clock time limit exceeded"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (24, 9):  # SIGXCPU at the soft CPU limit, SIGKILL at the hard one
            return TIMEOUT, f"CPU time limit exceeded (signal {sig})"
        if sig == 25:
            return LIMIT, "file size limit exceeded"
        return CRASH, f"the test process was killed by signal {sig}"
    code = os.WEXITSTATUS(status)
    return CRASH, f"the test process exited (status {code}) before the test finished"


def _drop_privileges(uid: int) -> None:
    """As root, become an otherwise unused uid so RLIMIT_NPROC is enforced and caps are gone."""
    os.chown(SCRATCH, uid, uid)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def main() -> None:
    """Run every configured test, then write the authenticated record."""
    cfg: dict[str, Any] = json.loads(sys.argv[1])
    keep = {cfg["nonce_fd"], cfg["result_fd"]}
    for fd in range(3, 1024):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    if cfg.get("drop_to_uid") is not None:
        _drop_privileges(int(cfg["drop_to_uid"]))
    _set_limit(resource.RLIMIT_NPROC, int(cfg["max_processes"]))
    _set_limit(resource.RLIMIT_CORE, 0)
    deadline = time.monotonic() + float(cfg["wall_seconds"])
    record: dict[str, Any] = {"tests": []}
    sys.path[:] = [p for p in sys.path if p != BOX]  # this process must never import solution
    try:
        with open(f"{BOX}/solution.py", "rb") as fh:
            solution_src = fh.read()
        compile(solution_src, "solution.py", "exec", dont_inherit=True)
        with open(f"{BOX}/tests.py", "rb") as fh:
            tests_src = fh.read()
        tests_code = compile(tests_src, "tests.py", "exec", dont_inherit=True)
        for module in _PRELOAD:
            if module.encode() in solution_src or module.encode() in tests_src:
                __import__(module)  # stdlib only, imported here where code.__new__ is still allowed
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        lineno = getattr(exc, "lineno", None)
        where = f" (line {lineno})" if lineno else ""
        record["error"] = f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}{where}"[:MAX_MESSAGE]
    else:
        lines = tests_src.decode("utf-8", "replace").splitlines()
        for name in cfg["tests"]:
            if time.monotonic() >= deadline:
                record["tests"].append({"name": name, "code": TIMEOUT, "message": "not run", "ms": 0.0})
                continue
            outcome = _run_one(name, tests_code, lines, cfg, deadline)
            record["tests"].append(outcome)
            if outcome["code"] == IMPORT_ERROR:
                break  # every other test would fail the same way
    _kill_strays()
    # Only now, with no student process left alive, is the nonce pulled out of its pipe.
    record["nonce"] = os.read(cfg["nonce_fd"], 256).decode("ascii")
    payload = json.dumps(record).encode()
    view = memoryview(payload)
    while view:
        view = view[os.write(cfg["result_fd"], view) :]
    os._exit(0)


if __name__ == "__main__":
    main()
