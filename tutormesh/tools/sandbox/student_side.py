"""The student's sandbox: import the solution and answer the tests' calls (stdlib only).

Nothing in this sandbox is trusted once the solution runs, and nothing here needs to be: it holds
no test, no expected value and no channel to the verdict, only a request pipe from the tests'
process and a reply pipe back to it. Whatever the student's code does, it can only change the
replies, which the tests' process reads as plain values (see wire.py, docs/sandbox.md).

A supervisor that never runs student code relays between those pipes and one child per test (a
pipe pair each way): at each ``start`` it kills every other process, empties the scratch
directory and forks a fresh child that imports the solution, so module state never carries over
from one test to the next.
"""

from __future__ import annotations

import builtins
import os
import resource
import select
import sys

from . import confine, wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

BOX = "/box"
# Exceptions the tests' side can raise again as themselves; any other class travels as its
# nearest ancestor in this list (its own name, chosen by the student, is never shown).
PORTABLE_EXCEPTIONS = (
    "ArithmeticError", "AssertionError", "AttributeError", "FileNotFoundError", "IndexError", "KeyError",
    "LookupError", "NameError", "NotImplementedError", "OSError", "OverflowError", "PermissionError",
    "RecursionError", "RuntimeError", "TypeError", "ValueError", "ZeroDivisionError", "Exception",
)  # fmt: skip
_MAX_TEXT = 2000
_MAX_NAMES = 1000


def _describe(exc: BaseException) -> dict[str, Any]:
    """Return an exception as plain data: its portable class, its own name, message and limit hit."""
    builtin = (c.__name__ for c in type(exc).__mro__ if c is getattr(builtins, c.__name__, None))
    portable = next((name for name in builtin if name in PORTABLE_EXCEPTIONS), "Exception")
    try:
        message = str(exc)[:_MAX_TEXT]
    except Exception:
        message = "<an exception that cannot be printed>"
    errno = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    limit = None
    if isinstance(exc, MemoryError):
        limit = "memory"
    elif errno in (27, 28):  # EFBIG, ENOSPC
        limit = "file"
    elif isinstance(exc, BlockingIOError) and errno == 11:  # EAGAIN from fork: the process limit
        limit = "process"
    return {"type": portable, "name": type(exc).__name__[:100], "message": message, "limit": limit}


def _answer(module: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Carry out one ``get`` or ``call`` request on the solution module."""
    reply: dict[str, Any] = {"id": message.get("id")}
    name = str(message.get("name", ""))
    try:
        target = getattr(module, name)
    except AttributeError:
        return {**reply, "missing": True}
    try:
        if message.get("op") == "get":
            if callable(target):
                return {**reply, "function": True}
            return {**reply, "ok": wire.encode(target)}
        args = wire.decode(message.get("args", []))
        kwargs = wire.decode(message.get("kwargs", {"d": []}))
        result = target(*args, **kwargs)
    except wire.WireError as exc:
        return {**reply, "unsupported": str(exc)}
    except Exception as exc:
        return {**reply, "raised": _describe(exc)}
    try:
        return {**reply, "ok": wire.encode(result)}
    except (wire.WireError, RecursionError) as exc:
        return {**reply, "unsupported": str(exc)}


def _send(out: int, reply: dict[str, Any]) -> None:
    try:
        data = wire.dumps(reply)
    except (ValueError, RecursionError) as exc:  # e.g. an int past the digit limit
        data = wire.dumps({"id": reply.get("id"), "unsupported": f"the value cannot be written: {exc}"})
    view = memoryview(b"\n" + data)  # a fresh line, whatever the solution itself wrote to this pipe
    while view:
        view = view[os.write(out, view) :]


def _lines(fd: int) -> Any:
    """Yield the lines read from ``fd`` until end of file."""
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        *lines, pending = (pending + chunk).split(b"\n")
        yield from lines


def _serve(code: Any, requests: int, out: int, gen: int, cfg: dict[str, Any]) -> NoReturn:
    """In a fresh child: import the solution, then answer requests until the supervisor goes."""
    confine.limit_process(int(cfg["cpu_seconds"]), int(cfg["memory_mb"]), int(cfg["max_file_mb"]),
                          int(cfg["max_open_files"]))  # fmt: skip
    os.chdir(confine.SCRATCH)
    sys.path[:] = [BOX, *sys.path]
    module = type(sys)("solution")
    module.__file__ = f"{BOX}/solution.py"
    sys.modules["solution"] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit too: a solution that exits at import cannot be tested
        _send(out, {"id": gen, "import_error": _describe(exc)})
        os._exit(0)
    # The callables' names save the tests a round trip per ``from solution import f``.
    names = [k for k, v in list(vars(module).items())[:_MAX_NAMES] if not k.startswith("__") and callable(v)]
    _send(out, {"id": gen, "ready": True, "callables": names})
    for line in _lines(requests):
        try:
            reply = _answer(module, wire.loads_message(line))
        except wire.WireError:
            continue
        except BaseException:
            os._exit(0)  # sys.exit() inside the solution ends its process, like anywhere else
        _send(out, reply)
    os._exit(0)


def _empty_scratch(path: str = confine.SCRATCH) -> None:
    with os.scandir(path) as entries:
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    _empty_scratch(entry.path)
                    os.rmdir(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


class _Stopped(Exception):
    """The tests are done."""


class _Supervisor:
    """Relay between the tests' pipes and the current test's child; never runs student code."""

    def __init__(self, code: Any, req: int, resp: int, cfg: dict[str, Any]) -> None:
        self.code, self.req, self.resp, self.cfg = code, req, resp, cfg
        self.to_fd = self.from_fd = self.pidfd = -1  # the current child's pipes and pidfd (-1: none)
        self.gen = self.pid = 0
        self.from_tests = bytearray()
        self.to_tests = bytearray()
        self.to_child = bytearray()
        # Beyond this much unread output the child is flooding: it is killed, not buffered.
        self.max_pending = int(cfg["max_return_bytes"]) * 2 + 65536

    def start(self, gen: int) -> None:
        """Replace the current child (if any) by a fresh one for the test ``gen``."""
        self.drop_child()
        confine.kill_others()
        _empty_scratch()
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()  # kill(0, ...) from the solution reaches only its own process group
                for fd in (self.req, self.resp, requests_w, replies_r):
                    os.close(fd)
                _serve(self.code, requests_r, replies_w, gen, self.cfg)
            finally:
                os._exit(70)
        os.close(requests_r)
        os.close(replies_w)
        os.set_blocking(requests_w, False)
        os.set_blocking(replies_r, False)
        self.to_fd, self.from_fd, self.gen, self.pid, self.pidfd = requests_w, replies_r, gen, pid, os.pidfd_open(pid)

    def drop_child(self) -> None:
        for fd in (self.to_fd, self.from_fd, self.pidfd):
            if fd >= 0:
                os.close(fd)
        self.to_fd = self.from_fd = self.pidfd = -1
        self.to_child.clear()
        self.to_tests += b"\n"  # a reply cut short by the child's end never runs into the next line

    def child_ended(self, flooded: bool) -> None:
        """Tell the tests' side how the child ended (it ended, or must end, without answering)."""
        how = "flooded its channel"
        if not flooded:
            # Its pipe closes a moment before it becomes a zombie: give it that moment.
            select.select([self.pidfd], [], [], 0.2)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done == 0:
                how = "closed its channel"
            elif os.WIFSIGNALED(status):
                how = f"signal {os.WTERMSIG(status)}"
            else:
                how = f"exit {os.WEXITSTATUS(status)}"
        self.drop_child()
        confine.kill_others()
        self.to_tests += wire.dumps({"gen": self.gen, "died": how})

    def on_request_line(self, line: bytes) -> None:
        try:
            message = wire.loads_message(line)
        except wire.WireError:
            return  # an empty separator line, or a request cut short by a timeout on the tests' side
        if message.get("op") == "start":
            self.start(int(message.get("id", 0)))
        elif message.get("op") == "stop":
            raise _Stopped
        elif self.to_fd >= 0:
            self.to_child += line + b"\n"
        else:
            self.to_tests += wire.dumps({"gen": self.gen, "died": "gone"})

    def run(self) -> NoReturn:
        """Relay until the tests' side says ``stop`` or closes its request pipe, then exit."""
        try:
            self._relay()
        except _Stopped:
            pass
        # bwrap returns as soon as this process exits, before its namespace is torn down: so
        # nothing the student started may be left by then.
        self.drop_child()
        confine.kill_others()
        os._exit(0)

    def _relay(self) -> None:
        os.set_blocking(self.req, False)
        os.set_blocking(self.resp, False)
        while True:
            child = self.from_fd >= 0
            readers = [self.req, self.from_fd] if child else [self.req]
            writers = [self.resp] if self.to_tests else []
            if child and self.to_child:
                writers.append(self.to_fd)
            ready, writable, _ = select.select(readers, writers, [])
            if self.resp in writable:
                try:
                    del self.to_tests[: os.write(self.resp, self.to_tests[:65536])]
                except BlockingIOError:
                    pass
                except BrokenPipeError:
                    return  # the tests' side is gone
            if child and self.to_fd in writable:
                try:
                    del self.to_child[: os.write(self.to_fd, self.to_child[:65536])]
                except (BlockingIOError, BrokenPipeError):
                    pass
            if child and self.from_fd in ready:
                try:
                    chunk: bytes | None = os.read(self.from_fd, 65536)
                except BlockingIOError:
                    chunk = None
                if chunk == b"" or len(self.to_tests) > self.max_pending:
                    self.child_ended(flooded=bool(chunk))
                elif chunk:
                    self.to_tests += chunk
            if self.req in ready:
                chunk = os.read(self.req, 65536)
                if not chunk:  # the tests are done
                    return
                self.from_tests += chunk
                while b"\n" in self.from_tests:
                    line, _, rest = bytes(self.from_tests).partition(b"\n")
                    self.from_tests[:] = rest
                    self.on_request_line(line)


def main() -> None:
    """Confine this process, check that the solution compiles, then relay until the tests finish."""
    cfg: dict[str, Any] = wire.loads(sys.argv[1])
    req, resp = int(cfg["request_fd"]), int(cfg["reply_fd"])
    confine.enter({req, resp}, cfg.get("drop_to_uid"), int(cfg["max_processes"]))
    confine.set_limit(resource.RLIMIT_AS, int(cfg["memory_mb"]) * confine.MB)
    try:
        with open(f"{BOX}/solution.py", "rb") as fh:
            code = compile(fh.read(), "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        lineno = getattr(exc, "lineno", None)
        where = f" (line {lineno})" if lineno else ""
        text = f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}{where}"[:_MAX_TEXT]
        os.write(resp, wire.dumps({"hello": False, "error": text}))
        return
    os.write(resp, wire.dumps({"hello": True}))
    _Supervisor(code, req, resp, cfg).run()
