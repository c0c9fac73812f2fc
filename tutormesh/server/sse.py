"""Server-sent events: run a sync turn generator in a worker thread and stream its events.

Graph nodes are synchronous (they do SQL), so a turn runs in a worker thread and hands events to
the event loop through a queue. If the client goes away mid-turn, the turn still completes and is
stored: nothing a student sent is lost to a dropped connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio.to_thread
from sse_starlette import EventSourceResponse, ServerSentEvent

from tutormesh.core.errors import TutorMeshError

log = logging.getLogger("tutormesh.server.sse")
_DONE = object()
_running: set[asyncio.Future[Any]] = set()  # keeps turns whose client left alive until they finish


async def iterate_in_thread(produce: Callable[[], Iterator[Any]]) -> AsyncIterator[Any]:
    """Run `produce()` to exhaustion in a worker thread, yielding its items on the event loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def put(item: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop closed (shutdown): the turn is stored, nobody is listening
            pass

    def run() -> None:
        try:
            for item in produce():
                put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(exc)
        else:
            put(_DONE)

    task = asyncio.ensure_future(anyio.to_thread.run_sync(run))
    _running.add(task)
    task.add_done_callback(_running.discard)
    while True:
        item = await queue.get()
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _frame(event: dict[str, Any]) -> ServerSentEvent:
    data = {k: v for k, v in event.items() if k != "event"}
    return ServerSentEvent(json.dumps(data, ensure_ascii=False, default=str), event=event["event"])


async def _frames(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[ServerSentEvent]:
    try:
        async for event in events:
            yield _frame(event)
    except TutorMeshError as exc:
        yield _frame({"event": "error", "code": exc.code, "message": exc.message})
    except Exception as exc:  # noqa: BLE001 - headers are sent: report in-band, log server-side
        log.error("turn failed mid-stream: %s", type(exc).__name__, exc_info=exc)
        yield _frame({"event": "error", "code": "internal", "message": "internal error"})


def event_stream(events: AsyncIterator[dict[str, Any]]) -> EventSourceResponse:
    """Wrap turn events (`{"event": name, ...fields}`) as an SSE response; errors become `error` events."""
    return EventSourceResponse(_frames(events), ping=15, headers={"Cache-Control": "no-store",
                                                                 "X-Accel-Buffering": "no"})
