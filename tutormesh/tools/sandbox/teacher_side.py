"""The tests' sandbox: run the teacher's tests, calling the solution in another sandbox (stdlib only).

The solution is not in this process. ``import solution`` gives a stand-in module whose functions
send their arguments over a pipe and return what comes back, decoded by wire.py into fresh
built-in values; an exception the solution raised comes back as a class name and a message.
So the assertions, the builtins they use and the record this process writes for the host are
out of the student's reach. What the student can do is make a reply late, large, malformed or
missing: each of those fails the test whatever the test's own code does with it.
"""

from __future__ import annotations

# _signal rather than signal: the wrapper imports enum, milliseconds of start-up for nothing here.
import _signal
import builtins
import os
import select
import sys
import time

from . import confine, wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, NoReturn
else:
    ModuleType = type(sys)  # what types.ModuleType is, without importing types

BOX = "/box"
PASS, FAIL, IMPORT_ERROR, BROKEN_TESTS, MEMORY, LIMIT, TIMEOUT, CRASH = "P", "F", "E", "B", "M", "L", "T", "X"
_MAX_MESSAGE = 500


class SolutionError(Exception):
    """An exception raised by the solution, re-created here from its class name and message.

    Attributes:
        type_name: The nearest built-in class the solution's exception derives from.
        message: ``str()`` of the solution's exception (shown only for tests marked visible).
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name, self.message = type_name, message


def visible(arg: Any = None) -> Any:
    """Mark a test's failure feedback as visible to the student (the host reads it from the source).

    ``@visible`` shows the failing line and the error; ``@visible("hint")`` shows only the hint.
    """
    return arg if callable(arg) else (lambda func: func)


class _SolutionGone(BaseException):
    """The solution cannot answer any more in this test; a BaseException so ``except Exception`` misses it."""


class _OutOfTime(BaseException):
    """The test as a whole used up the run's wall-clock budget."""


_EXCEPTION_CLASSES: dict[str, type[SolutionError]] = {}


def _solution_error(type_name: str, message: str) -> SolutionError:
    """Build a SolutionError that is also the named built-in exception, so ``except ValueError`` works."""
    cls = _EXCEPTION_CLASSES.get(type_name)
    if cls is None:
        base = getattr(builtins, type_name, Exception)
        if not (isinstance(base, type) and issubclass(base, Exception)):
            base = Exception
        cls = SolutionError if base is Exception else type(type_name, (SolutionError, base), {})
        _EXCEPTION_CLASSES[type_name] = cls
    return cls(type_name, message)


class Channel:
    """The tests' end of the pipes to the student's sandbox, with a deadline and a size cap per reply."""

    def __init__(self, req: int, resp: int, call_seconds: float, max_bytes: int, deadline: float) -> None:
        self.req, self.resp, self.deadline = req, resp, deadline
        self.call_seconds, self.max_bytes = call_seconds, max_bytes
        os.set_blocking(req, False)
        self.buffer = bytearray()
        self.next_id = self.gen = 0
        self.fatal: tuple[str, str] | None = None
        self.missing: list[str] = []
        self.hidden = False  # inputs of a hidden test have been sent: the student's own text is no longer shown
        self.cache: dict[str, Any] = {}

    def fail(self, code: str, text: str) -> NoReturn:
        self.fatal = self.fatal or (code, text)
        raise _SolutionGone(text)

    def exchange(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the reply that carries its id; fail the test on anything else."""
        if self.fatal is not None:
            raise _SolutionGone(self.fatal[1])
        self.next_id += 1
        message["id"] = self.next_id
        if message.get("op") == "start":
            self.gen = self.next_id  # the new child's end is reported under this number
        out = memoryview(b"\n" + wire.dumps(message))
        call_deadline = time.monotonic() + self.call_seconds
        deadline = min(call_deadline, self.deadline)
        while True:
            reply = self._next_line()
            while reply is not None:
                if reply.get("id") == self.next_id:
                    return reply
                if "died" in reply and reply.get("gen") == self.gen:
                    self._died(str(reply["died"]))
                reply = self._next_line()
            remaining = deadline - time.monotonic()
            if remaining <= 0 and deadline < call_deadline:
                self.fail(TIMEOUT, "timed out: the run's time budget was used up")
            if remaining <= 0:
                self.fail(TIMEOUT, f"timed out: your code did not answer within {self.call_seconds:g} s")
            readable, writable, _ = select.select([self.resp], [self.req] if out else [], [], remaining)
            if writable:
                try:
                    out = out[os.write(self.req, out[:65536]) :]
                except BlockingIOError:
                    pass
                except BrokenPipeError:
                    self.fail(CRASH, "your code's process ended before it answered")
            if readable:
                chunk = os.read(self.resp, 65536)
                if not chunk:
                    self.fail(CRASH, "your code's process ended before it answered")
                self.buffer += chunk

    def _next_line(self) -> dict[str, Any] | None:
        """Pop the next complete message; lines that are not messages are skipped."""
        while True:
            end = self.buffer.find(b"\n")
            if end < 0:
                if len(self.buffer) > self.max_bytes:
                    self.fail(FAIL, f"your code returned more than {self.max_bytes // 1024} KiB")
                return None
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            if len(line) > self.max_bytes:
                self.fail(FAIL, f"your code returned more than {self.max_bytes // 1024} KiB")
            if line:
                try:
                    return wire.loads_message(line)
                except wire.WireError:
                    continue

    def _died(self, how: str) -> NoReturn:
        if how in ("signal 24", "signal 9"):  # SIGXCPU at the CPU limit (SIGKILL past it)
            self.fail(TIMEOUT, "timed out: your code used up its CPU time")
        if how == "signal 25":
            self.fail(LIMIT, "your code went over the file size limit")
        if how == "flooded its channel":
            self.fail(FAIL, f"your code sent more than {self.max_bytes // 1024} KiB")
        self.fail(CRASH, "your code's process ended before it answered")

    def start(self) -> tuple[str, str] | None:
        """Give the next test a fresh solution process; return an outcome if it cannot import."""
        self.fatal, self.missing, self.cache = None, [], {}
        try:
            reply = self.exchange({"op": "start"})
        except _SolutionGone:
            return self.fatal
        if reply.get("ready") is True:
            callables = reply.get("callables")
            for name in callables if isinstance(callables, list) else []:
                self.cache[str(name)] = _RemoteFunction(self, str(name))
            return None
        error = reply.get("import_error")
        text = "your solution could not be imported"
        if isinstance(error, dict) and not self.hidden:  # nothing of a hidden test has reached it yet
            text += f": {error.get('name')}: {error.get('message')}"
        return _limit_code(error) or IMPORT_ERROR, text[:_MAX_MESSAGE]

    def get(self, name: str) -> Any:
        """Return the solution's attribute ``name``: a stand-in if callable, else its plain value."""
        if name not in self.cache:
            reply = self.exchange({"op": "get", "name": name})
            if reply.get("missing"):
                self.missing.append(name)
                raise AttributeError(f"the solution does not define {name}")
            self.cache[name] = _RemoteFunction(self, name) if reply.get("function") else self._value(reply)
        return self.cache[name]

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            request = {"op": "call", "name": name, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)}
        except wire.WireError as exc:
            raise TypeError(f"only plain data can be passed to the solution: {exc}") from None
        reply = self.exchange(request)
        if reply.get("missing"):
            self.missing.append(name)
            raise AttributeError(f"the solution does not define {name}")
        raised = reply.get("raised")
        if isinstance(raised, dict):
            limit = raised.get("limit")
            if limit in _LIMITS:
                self.fail(*_LIMITS[limit])
            raise _solution_error(str(raised.get("type")), str(raised.get("message", "")))
        return self._value(reply)

    def _value(self, reply: dict[str, Any]) -> Any:
        if "ok" not in reply:
            self.fail(FAIL, "your code returned a value that is not plain data (numbers, strings, lists, "
                            "tuples, dicts, sets, True/False/None)")  # fmt: skip
        try:
            return wire.decode(reply["ok"])
        except wire.WireError:
            self.fail(FAIL, "your code sent a reply that is not plain data")


_LIMITS = {
    "memory": (MEMORY, "your code ran out of memory"),
    "file": (LIMIT, "your code went over the file size or scratch space limit"),
    "process": (LIMIT, "your code reached the process limit"),
}


def _limit_code(error: Any) -> str | None:
    limit = error.get("limit") if isinstance(error, dict) else None
    return _LIMITS[limit][0] if limit in _LIMITS else None


class _RemoteFunction:
    """Calls one function of the solution across the process boundary."""

    def __init__(self, channel: Channel, name: str) -> None:
        self._channel, self.name = channel, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.call(self.name, args, kwargs)

    def __repr__(self) -> str:
        return f"<solution function {self.name}>"


class _SolutionModule(ModuleType):
    """``sys.modules["solution"]`` in this process: attribute reads go to the student's process."""

    def __init__(self, channel: Channel) -> None:
        super().__init__("solution")
        self._channel = channel

    def __getattr__(self, name: str) -> Any:
        if name == "__all__":  # what ``from solution import *`` brings in: the solution's functions
            return [n for n, v in self._channel.cache.items() if isinstance(v, _RemoteFunction)]
        if name.startswith("__"):  # the import system probes __path__, __spec__ and the like
            raise AttributeError(name)
        return self._channel.get(name)


def _install_modules(channel: Channel) -> None:
    helpers = ModuleType("sandbox", "What a tests file can import: visible, SolutionError.")
    helpers.visible = visible  # type: ignore[attr-defined]
    helpers.SolutionError = SolutionError  # type: ignore[attr-defined]
    sys.modules["sandbox"] = helpers
    sys.modules["solution"] = _SolutionModule(channel)


def _failing_line(exc: BaseException, lines: list[str]) -> str:
    """Return ``line N: source`` for the deepest tests.py frame of the traceback, or ''."""
    lineno, tb = 0, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "tests.py":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if not 0 < lineno <= len(lines):
        return ""
    return f"line {lineno}: {lines[lineno - 1].strip()} -> "


def _failure_message(exc: BaseException, test: dict[str, Any], channel: Channel, lines: list[str]) -> str:
    """The feedback for a failed assertion or error: only what the teacher marked visible."""
    if test.get("hint"):
        return str(test["hint"])
    if channel.missing:
        return f"your solution does not define {channel.missing[0]}"
    raised = f"your code raised {exc.type_name}" if isinstance(exc, SolutionError) else ""
    if not test.get("visible"):
        return f"failed: {raised}" if raised else "failed"
    if isinstance(exc, SolutionError):
        detail = f"{raised}: {exc.message}" if not channel.hidden else raised
    else:
        detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return _failing_line(exc, lines) + detail


def _run_test(test: dict[str, Any], code: Any, lines: list[str], channel: Channel) -> tuple[str, str]:
    """Run one test against a fresh solution process; return its outcome code and message."""
    not_ready = channel.start()
    if not_ready is not None:
        return not_ready
    channel.hidden = channel.hidden or not test.get("visible")
    namespace: dict[str, Any] = {"__name__": "tests", "__builtins__": builtins}
    remaining = channel.deadline - time.monotonic()
    _signal.setitimer(_signal.ITIMER_REAL, max(remaining, 0.001))
    try:
        try:
            exec(code, namespace)
        except (_SolutionGone, _OutOfTime):
            raise
        except BaseException as exc:
            if channel.missing:
                return FAIL, f"your solution does not define {channel.missing[0]}"
            return BROKEN_TESTS, f"the tests could not run ({type(exc).__name__}): a problem in the tests"
        returned = namespace[test["name"]]()
    except _SolutionGone:
        pass
    except _OutOfTime:
        return TIMEOUT, "timed out: the run's time budget was used up"
    except BaseException as exc:
        if channel.fatal is None:
            return FAIL, _failure_message(exc, test, channel, lines)[:_MAX_MESSAGE]
    else:
        if channel.fatal is None and returned is not None:
            return FAIL, "the test returned a value instead of None (is it a generator or async?)"
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
    if channel.fatal is not None:
        return channel.fatal
    return PASS, "passed"


def _on_alarm(signum: int, frame: Any) -> NoReturn:
    raise _OutOfTime()


def main() -> None:
    """Confine this process, run the configured tests in order, write the record for the host."""
    cfg: dict[str, Any] = wire.loads(sys.argv[1])
    req, resp, result = int(cfg["request_fd"]), int(cfg["reply_fd"]), int(cfg["result_fd"])
    confine.enter({req, resp, result}, cfg.get("drop_to_uid"), int(cfg["max_processes"]))
    confine.limit_process(int(cfg["wall_seconds"]) + 2, int(cfg["memory_mb"]), int(cfg["max_file_mb"]),
                          int(cfg["max_open_files"]))  # fmt: skip
    os.chdir(confine.SCRATCH)
    sys.path[:] = [p for p in sys.path if p != BOX]
    deadline = time.monotonic() + float(cfg["wall_seconds"])
    channel = Channel(req, resp, float(cfg["call_seconds"]), int(cfg["max_return_bytes"]), deadline)
    _signal.signal(_signal.SIGALRM, _on_alarm)
    record: dict[str, Any] = {"tests": []}
    with open(f"{BOX}/tests.py", "rb") as fh:
        source = fh.read()
    code = compile(source, "tests.py", "exec", dont_inherit=True)
    lines = source.decode("utf-8", "replace").splitlines()
    _install_modules(channel)
    hello = _hello(channel)
    if hello is not None:
        record["error"] = hello
    else:
        for test in cfg["tests"]:
            started = time.monotonic()
            if started >= deadline:
                outcome = (TIMEOUT, "not run: the run's time budget was used up")
            else:
                outcome = _run_test(test, code, lines, channel)
            ms = round((time.monotonic() - started) * 1000, 1)
            record["tests"].append({"name": test["name"], "code": outcome[0], "message": outcome[1], "ms": ms})
            if outcome[0] == IMPORT_ERROR:
                break  # every other test would fail the same way
    try:
        os.write(req, b"\n" + wire.dumps({"op": "stop"}))  # the solution's side can shut down meanwhile
    except OSError:
        pass
    payload = memoryview(wire.dumps(record))  # one line: the host stops reading at its newline
    while payload:
        payload = payload[os.write(result, payload) :]
    os._exit(0)


def _hello(channel: Channel) -> str | None:
    """Wait for the student's sandbox to say whether the solution compiles; return the error if not."""
    deadline = min(time.monotonic() + channel.call_seconds, channel.deadline)
    while True:
        message = channel._next_line()
        if message is not None and "hello" in message:
            return None if message["hello"] is True else f"{message.get('error', '')}"[:_MAX_MESSAGE]
        if message is None:
            ready, _, _ = select.select([channel.resp], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(channel.resp, 65536) if ready else b""
            if not chunk:
                return None  # the tests then fail one by one with the reason (no answer, no process)
            channel.buffer += chunk
