"""Conversation threads: create, list, read, and post messages (JSON or an SSE stream)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from tutormesh.core.errors import Forbidden
from tutormesh.server import admission, chat
from tutormesh.server.deps import CurrentUser, ServicesDep
from tutormesh.server.fields import IDEMPOTENCY_KEY, NOT_BLANK
from tutormesh.server.sse import event_stream, iterate_in_thread

router = APIRouter(prefix="/v1/threads", tags=["threads"])
ThreadId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="a thread id")]


class NewThread(BaseModel):
    """The created thread."""

    thread_id: str
    status: str


class MessageIn(BaseModel):
    """A chat message from the student (its length is checked against `max_message_chars` and `max_message_tokens`)."""

    # Python's regex engine, so that "not blank" means what `str.strip` means.
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")
    content: str = Field(pattern=NOT_BLANK, description=(
        "what the student says, e.g. 'practice linear equations' or 'x = 3'; not blank; at most "
        "`max_message_chars` characters and about `max_message_tokens` tokens (server settings)"))


@router.post("", status_code=201, responses={403: {"description": "only students have tutoring threads"}})
async def create_thread(user: CurrentUser, services: ServicesDep) -> NewThread:
    """Start a conversation thread owned by the signed-in student."""
    if user.role != "student" or user.student_id is None:
        raise Forbidden("only students have tutoring threads")
    thread = await anyio.to_thread.run_sync(services.accounts.create_thread, user.student_id)
    return NewThread(thread_id=thread["thread_id"], status=thread["status"])


@router.get("")
async def list_threads(user: CurrentUser, services: ServicesDep) -> list[dict[str, Any]]:
    """List the threads you may read: yours, your cohort's (teachers), or all (admins)."""
    if user.role == "student":
        kwargs: dict[str, Any] = {"student_id": user.student_id or ""}
    elif user.role == "teacher":
        if user.cohort is None:  # a teacher with no cohort sees nothing
            return []
        kwargs = {"cohort": user.cohort}
    else:
        kwargs = {}
    return await anyio.to_thread.run_sync(lambda: services.accounts.threads(**kwargs))


@router.get("/{thread_id}", responses={404: {"description": "no such thread, or not yours"}})
async def read_thread(thread_id: ThreadId, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Return the thread's full history, the student's profile (with pace), mastery and negotiations."""

    def view() -> dict[str, Any]:
        return chat.thread_view(services, chat.visible_thread(services, user, thread_id))

    return await anyio.to_thread.run_sync(view)


@router.post("/{thread_id}/messages", responses={
    200: {"content": {"text/event-stream": {}}, "description": "the turn (JSON), or its SSE stream"},
    403: {"description": "not the thread's student"}, 404: {"description": "no such thread, or not yours"},
    409: {"description": "a turn with this Idempotency-Key is still running"},
    413: {"description": "body over the limit"}, 422: {"description": "malformed input, with the reason"},
    429: {"description": "rate limited"}})
async def post_message(thread_id: ThreadId, body: MessageIn, request: Request, user: CurrentUser,
                       services: ServicesDep,
                       idempotency_key: Annotated[str | None, Header(
                           pattern=IDEMPOTENCY_KEY,
                           description="send the same key to retry a turn safely: the stored result comes back "
                           "instead of a second turn")] = None) -> Any:
    """Send a message to your learning agent.

    With `Accept: text/event-stream` the reply streams as SSE: `stage` events per agent step,
    `token` events with reply text, then one `state` event with the turn result. Otherwise the
    turn result is returned as JSON.
    """
    text = chat.clean_content(body.content, services.settings.max_message_chars,
                              services.settings.max_message_tokens)
    key = chat.check_idempotency_key(idempotency_key)
    thread = chat.own_thread(services, user, thread_id) or await anyio.to_thread.run_sync(
        lambda: chat.visible_thread(services, user, thread_id, write=True))
    slot = await admission.admit(services, text)  # 503 + Retry-After when the turn's tier is full
    if "text/event-stream" in request.headers.get("accept", ""):
        return event_stream(slot.around(iterate_in_thread(
            lambda: chat.stream_turn_once(services, user, thread, text, key))))
    # orjson straight from the dict: FastAPI's generic encoder cost 0.14 ms per turn (measured).
    with slot:
        encoded = await anyio.to_thread.run_sync(chat.run_turn_once, services, user, thread, text, key)
    return Response(encoded, media_type="application/json")
