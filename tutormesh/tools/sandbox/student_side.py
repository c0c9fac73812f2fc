"""The student's sandbox: import the solution and answer the tests' calls (stdlib only).

Nothing in this sandbox is trusted once the solution runs, and nothing here needs to be: it holds
no test, no expected value and no channel to the verdict, only a request pipe from the tests'
process and a reply pipe back to it. Whatever the student's code does, it can only change the
replies, which the tests' process reads as plain values (see wire.py, docs/sandbox.md).

A supervisor that never runs student code relays between the pipes and one child per test: at
each ``start`` it kills every other process, empties the scratch directory and forks a fresh child
that imports the solution, so module state never carries over from one test to the next.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import select
import socket
import sys
from typing import Any, NoReturn

from . import confine, wire

BOX = "/box"
# Exceptions the tests' side can raise again as themselves; any other class travels as its
# nearest ancestor in this list (its own name, chosen by the student, is never shown).
PORTABLE_EXCEPTIONS = (
    "ArithmeticError", "AssertionError", "AttributeError", "IndexError", "KeyError", "LookupError",
    "NameError", "NotImplementedError", "OverflowError", "RecursionError", "RuntimeError", "TypeError",
    "ValueError", "ZeroDivisionError", "Exception",
)  # fmt: skip
_MAX_TEXT = 2000


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


def _send(sock: socket.socket, reply: dict[str, Any]) -> None:
    try:
        data = wire.dumps(reply)
    except (ValueError, RecursionError) as exc:  # e.g. an int past the digit limit
        data = wire.dumps({"id": reply.get("id"), "unsupported": f"the value cannot be written: {exc}"})
    sock.sendall(b"\n" + data)  # a fresh line, whatever the solution itself wrote to this socket


def _serve(code: Any, sock: socket.socket, gen: int, cfg: dict[str, Any]) -> NoReturn:
    """In a fresh child: import the solution, then answer requests until the socket closes."""
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
        _send(sock, {"id": gen, "import_error": _describe(exc)})
        os._exit(0)
    _send(sock, {"id": gen, "ready": True})
    reader = sock.makefile("rb")
    for line in reader:
        try:
            reply = _answer(module, wire.loads(line))
        except wire.WireError:
            continue
        except BaseException:
            os._exit(0)  # sys.exit() inside the solution ends its process, like anywhere else
        _send(sock, reply)
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


class _Supervisor:
    """Relay between the tests' pipes and the current test's child; never runs student code."""

    def __init__(self, code: Any, req: int, resp: int, cfg: dict[str, Any]) -> None:
        self.code, self.req, self.resp, self.cfg = code, req, resp, cfg
        self.child: socket.socket | None = None
        self.gen = self.pid = 0
        self.pidfd = -1
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
        parent, child = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()  # kill(0, ...) from the solution reaches only its own process group
                parent.close()
                os.close(self.req)
                os.close(self.resp)
                _serve(self.code, child, gen, self.cfg)
            finally:
                os._exit(70)
        child.close()
        parent.setblocking(False)
        self.child, self.gen, self.pid, self.pidfd = parent, gen, pid, os.pidfd_open(pid)

    def drop_child(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        self.to_child.clear()
        self.to_tests += b"\n"  # a reply cut short by the child's end never runs into the next line

    def child_ended(self, flooded: bool) -> None:
        """Tell the tests' side how the child ended (it ended, or must end, without answering)."""
        how = "flooded its channel"
        if not flooded:
            # Its socket closes a moment before it becomes a zombie: give it that moment.
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
            message = wire.loads(line)
        except wire.WireError:
            return  # an empty separator line, or a request cut short by a timeout on the tests' side
        if message.get("op") == "start":
            self.start(int(message.get("id", 0)))
        elif self.child is not None:
            self.to_child += line + b"\n"
        else:
            self.to_tests += wire.dumps({"gen": self.gen, "died": "gone"})

    def run(self) -> None:
        """Relay until the tests' side closes its request pipe."""
        os.set_blocking(self.req, False)
        os.set_blocking(self.resp, False)
        while True:
            readers: list[int] = [self.req] if self.child is None else [self.req, self.child.fileno()]
            writers: list[int] = [self.resp] if self.to_tests else []
            if self.child is not None and self.to_child:
                writers.append(self.child.fileno())
            ready, writable, _ = select.select(readers, writers, [])
            if self.resp in writable:
                try:
                    del self.to_tests[: os.write(self.resp, self.to_tests[:65536])]
                except BlockingIOError:
                    pass
            if self.child is not None and self.child.fileno() in writable:
                try:
                    del self.to_child[: self.child.send(self.to_child[:65536])]
                except (BlockingIOError, ConnectionError):
                    pass
            if self.child is not None and self.child.fileno() in ready:
                try:
                    chunk = self.child.recv(65536)
                except BlockingIOError:
                    chunk = None
                except ConnectionError:
                    chunk = b""
                if chunk == b"" or len(self.to_tests) > self.max_pending:
                    self.child_ended(flooded=bool(chunk))
                elif chunk:
                    self.to_tests += chunk
            if self.req in ready:
                chunk = os.read(self.req, 65536)
                if not chunk:  # the tests are done
                    self.drop_child()
                    confine.kill_others()
                    return
                self.from_tests += chunk
                while b"\n" in self.from_tests:
                    line, _, rest = bytes(self.from_tests).partition(b"\n")
                    self.from_tests[:] = rest
                    self.on_request_line(line)


def main() -> None:
    """Confine this process, check that the solution compiles, then relay until the tests finish."""
    cfg: dict[str, Any] = json.loads(sys.argv[1])
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
