"""Enforce a hard time limit on grading, whichever thread calls it.

Design, in three layers (figures in docs/grader.md):

1. Bounded work. The lexer and parser refuse input that could make sympy or Python's big integers
   run long *inside one C call*: more than 500 characters or 300 tokens, nesting deeper than 60,
   numbers over 60 digits, exact results over 20,000 bits (so 9^9^9 and 10**100000 are refused
   before anything is computed), symbolic exponents over 1000, factorials over 200!, more than two
   ±. Comparison uses exact modular evaluation or fixed-precision mpmath, never `simplify`.
2. Cooperative checks. Loops that could add up (sampling points, matching solution sets) call
   `check()`, which raises `GradeTimeout` once the deadline has passed.
3. A hard backstop. One daemon watchdog thread keeps a heap of deadlines. When a call overruns,
   it raises `_Interrupt` inside the grading thread with CPython's `PyThreadState_SetAsyncExc`.
   Unlike `signal.alarm`, this works from any thread (web-server workers, LangGraph executor
   threads, Celery's daemonic workers). The exception lands at the next bytecode boundary, so it
   cannot cut a single long C call short; layer 1 exists to make sure there is none. It is a
   `BaseException`, so sympy's `except Exception` blocks do not swallow it; it is raised at most
   once per call and cleared under a lock if the call finishes first, so it never leaks out.

A subprocess per grade was rejected: it costs milliseconds per call (the median target is 5 ms),
needs sympy re-imported in every worker, and `multiprocessing` cannot start children from a
daemonic Celery worker. On interpreters without `PyThreadState_SetAsyncExc` only layers 1 and 2 apply.
"""

from __future__ import annotations

import collections
import ctypes
import heapq
import itertools
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GradeTimeout(Exception):
    """The grading work ran past its time limit."""


class _Interrupt(BaseException):
    """Raised inside an overrunning grading thread by the watchdog."""


_set_async_exc = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
if _set_async_exc is not None:
    _set_async_exc.restype = ctypes.c_int

_local = threading.local()
COOPERATIVE_SHARE = 0.9  # `check()` gives up at 90% of the limit; the watchdog fires at 100%


class _Ticket:
    __slots__ = ("thread_id", "deadline", "done", "fired")

    def __init__(self, thread_id: int, deadline: float) -> None:
        self.thread_id = thread_id
        self.deadline = deadline
        self.done = False
        self.fired = False


class _Watchdog:
    """One thread that interrupts grading calls which pass their deadline.

    A grading thread can be interrupted between any two bytecodes, so it must never be inside
    Python-level locking code (threading.Condition, Event, logging, imports) when that can happen:
    it only touches C-level primitives here, a deque append, a `SimpleQueue.put` and a bare `Lock`.

    Registering a call does not wake the watchdog unless the call's deadline comes before the
    watchdog's next look (waking it per call handed the GIL over on every grade: about 5% of a
    practice turn, measured). It looks at least every IDLE_LOOK_S, so limits longer than that need
    no wake-up at all.
    """

    IDLE_LOOK_S = 0.25

    def __init__(self) -> None:
        self._pending: collections.deque[_Ticket] = collections.deque()
        self._wakeup: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # makes "fire" and "finish" mutually exclusive
        self._thread: threading.Thread | None = None
        self._next_look = math.inf  # monotonic time of the watchdog's next look; inf while it is busy

    def start(self, ticket: _Ticket) -> None:
        if self._thread is None:  # before the ticket is queued, so nothing can interrupt this
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="grader-watchdog", daemon=True)
                    self._thread.start()
        self._pending.append(ticket)
        if ticket.deadline < self._next_look:
            self._wakeup.put(None)

    def finish(self, ticket: _Ticket) -> None:
        with self._lock:
            ticket.done = True
            if ticket.fired and _set_async_exc is not None:
                # The interrupt may still be pending (not yet raised): cancel it.
                _set_async_exc(ctypes.c_ulong(ticket.thread_id), None)

    def _run(self) -> None:
        heap: list[tuple[float, int, _Ticket]] = []
        seq = itertools.count()
        while True:
            self._next_look = math.inf  # tickets registered from now on wake the next wait at once
            while self._pending:
                ticket = self._pending.popleft()
                heapq.heappush(heap, (ticket.deadline, next(seq), ticket))
            now = time.monotonic()
            while heap and (heap[0][2].done or heap[0][0] <= now):
                ticket = heapq.heappop(heap)[2]
                with self._lock:
                    if not ticket.done:
                        ticket.fired = True
                        assert _set_async_exc is not None
                        _set_async_exc(ctypes.c_ulong(ticket.thread_id), ctypes.py_object(_Interrupt))
            look = min(heap[0][0], now + self.IDLE_LOOK_S) if heap else now + self.IDLE_LOOK_S
            self._next_look = look
            if self._pending:  # registered between the drain and publishing `look`
                continue
            try:
                self._wakeup.get(timeout=max(0.0, look - time.monotonic()))
            except queue.Empty:
                pass


_watchdog = _Watchdog()


def _reset_after_fork() -> None:
    global _watchdog
    _watchdog = _Watchdog()  # the parent's thread does not exist in the child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def check() -> None:
    """Raise `GradeTimeout` if the current thread's grading deadline has passed."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise GradeTimeout("time limit reached")


def run_with_time_limit(fn: Callable[[], T], seconds: float) -> T:
    """Call `fn` and return its result, or raise `GradeTimeout` once `seconds` have passed.

    Raises:
        GradeTimeout: if `fn` was still running at the deadline.
    """
    now, seconds = time.monotonic(), max(seconds, 0.0)
    deadline = now + seconds
    previous = getattr(_local, "deadline", None)
    _local.deadline = now + COOPERATIVE_SHARE * seconds  # prefer stopping at a safe point
    try:
        if _set_async_exc is None:
            return fn()
        ticket = _Ticket(threading.get_ident(), deadline)
        try:
            try:
                _watchdog.start(ticket)
                return fn()
            finally:
                _watchdog.finish(ticket)
        except _Interrupt:
            _watchdog.finish(ticket)  # idempotent; the watchdog fires at most once per ticket
            raise GradeTimeout("time limit reached") from None
    finally:
        _local.deadline = previous
