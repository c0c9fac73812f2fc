"""A thread's live event stream: human-tutor replies reach an open chat page as they are sent (SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from tutormesh.server import thread_events, thread_service
from tutormesh.server.deps import CurrentUser, ServicesDep
from tutormesh.server.staff import stores

router = APIRouter(prefix="/threads", tags=["threads"])
ThreadId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="a thread id")]
STREAM_SECONDS = 600.0  # the page reconnects after this; keeps idle connections from living forever


@router.get("/{thread_id}/events", response_class=EventSourceResponse, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "`tutor_message` events"},
    404: {"description": "no such thread, or not yours"}})
async def thread_stream(thread_id: ThreadId, user: CurrentUser, services: ServicesDep,
                        after: Annotated[int, Query(ge=0, description="the newest message id the page has")] = 0
                        ) -> EventSourceResponse:
    """Stream `tutor_message` events (`{"id", "author", "content", "created_at"}`) for new human replies."""
    await anyio.to_thread.run_sync(lambda: thread_service.visible_thread(services, user, thread_id))
    escalations = stores(services).escalations

    def read_new(since: int) -> list[dict[str, object]]:
        return escalations.tutor_messages(thread_id, after=since)

    async def frames() -> AsyncIterator[ServerSentEvent]:
        async for message in thread_events.watch(thread_id, read_new, after, max_seconds=STREAM_SECONDS):
            yield ServerSentEvent(json.dumps(message, ensure_ascii=False), event="tutor_message",
                                  id=str(message["id"]))

    return EventSourceResponse(frames(), ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
