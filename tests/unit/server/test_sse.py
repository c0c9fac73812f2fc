"""SSE plumbing: a sync generator in a worker thread, its events and errors on the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tutormesh.core.errors import Invalid
from tutormesh.server.sse import _frames, iterate_in_thread


async def test_items_arrive_in_order_from_a_worker_thread() -> None:
    threads: set[int] = set()

    def produce() -> Iterator[int]:
        for n in range(5):
            threads.add(threading.get_ident())
            yield n

    assert [n async for n in iterate_in_thread(produce)] == [0, 1, 2, 3, 4]
    assert threading.get_ident() not in threads


async def test_a_failure_reaches_the_consumer() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise Invalid("bad turn")

    seen = []
    with pytest.raises(Invalid, match="bad turn"):
        async for n in iterate_in_thread(produce):
            seen.append(n)
    assert seen == [1]


async def test_errors_become_error_events_without_internals() -> None:
    async def events():  # type: ignore[no-untyped-def]
        yield {"event": "stage", "node": "understand", "status": "started"}
        raise RuntimeError("/secret/path")

    frames = [f async for f in _frames(events())]
    assert [f.event for f in frames] == ["stage", "error"]
    assert frames[1].data == '{"code": "internal", "message": "internal error"}'
