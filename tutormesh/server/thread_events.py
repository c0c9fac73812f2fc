"""Live thread updates: wake the event streams of open chat pages when a human tutor replies.

SQL is the source of truth (`thread_messages`); this only shortens the wait. A stream re-reads SQL
when woken here (a reply served by this process) and at least every `POLL_SECONDS` (a reply served
by another worker or pod), so a reply reaches an open page in both cases.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

POLL_SECONDS = 3.0
_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
_lock = threading.Lock()


def notify(thread_id: str) -> None:
    """Wake every stream of the thread in this process (safe from any thread)."""
    with _lock:
        waiting = list(_waiters.get(thread_id, ()))
    for loop, event in waiting:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # that stream's loop closed
            pass


async def watch(thread_id: str, read_new: Callable[[int], list[dict[str, Any]]], after: int,
                *, max_seconds: float) -> AsyncIterator[dict[str, Any]]:
    """Yield messages newer than `after` as they arrive, for at most `max_seconds` (clients reconnect)."""
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    entry = (loop, event)
    with _lock:
        _waiters.setdefault(thread_id, set()).add(entry)
    try:
        deadline = loop.time() + max_seconds
        while loop.time() < deadline:
            event.clear()
            for message in await asyncio.to_thread(read_new, after):
                after = max(after, int(message["id"]))
                yield message
            try:
                await asyncio.wait_for(event.wait(), timeout=min(POLL_SECONDS, max(0.0, deadline - loop.time())))
            except TimeoutError:
                pass
    finally:
        with _lock:
            waiting = _waiters.get(thread_id)
            if waiting is not None:
                waiting.discard(entry)
                if not waiting:
                    _waiters.pop(thread_id, None)
