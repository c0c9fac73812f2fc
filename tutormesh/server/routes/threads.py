"""Conversation threads: create, list, read, and post messages (JSON or an SSE stream)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from tutormesh.core.errors import Forbidden
from tutormesh.server import admission, thread_service
from tutormesh.server.deps import CurrentUser, ServicesDep
from tutormesh.server.fields import IDEMPOTENCY_KEY, NOT_BLANK
from tutormesh.server.sse import event_stream, iterate_in_thread

router = APIRouter(prefix="/threads", tags=["threads"])
ThreadId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="a thread id")]


class NewThread(BaseModel):
    """The created thread."""

    thread_id: str
    status: str


class ThreadOut(BaseModel):
    """A thread: who it belongs to, its status and activity."""

    thread_id: str
    student_id: str
    status: str
    turns: int
    started_at: str
    last_active_at: str


class AdaptationOut(BaseModel):
    """One change the agent made to the learner model, and why (docs/learner-model.md)."""

    kind: str = Field(description="learning_style | pace | strengths | weaknesses")
    before: Any
    after: Any
    reason: str
    created_at: str | None


class ProfileOut(BaseModel):
    """The learner profile the agent adapts to."""

    pace: str = Field(description="slow | moderate | fast")
    learning_style: dict[str, float] = Field(
        description="weight per content type in [0, 1]: text, visual, worked_example, recap")
    language: str
    cultural_context: str
    strengths: list[str]
    weaknesses: list[str]
    goals: list[str]
    style_override: str | None = Field(default=None, description="the content type the student chose to see first")
    adaptations: list[AdaptationOut] | None = Field(
        default=None, description="the latest adaptations, newest first (GET /v1/threads/{id}; not in a turn result)")


class LearnerView(BaseModel):
    """The learner model a page shows next to a thread."""

    profile: ProfileOut
    mastery: dict[str, float] = Field(description="probability known, per skill")
    skills: dict[str, str] = Field(description="skill id -> title")
    negotiations: list[dict[str, Any]] = Field(description="the latest negotiations with their typed messages")


class MessageOut(BaseModel):
    """A message of the thread; `author` names the human tutor of a tutor reply."""

    id: int
    role: str = Field(description="user | assistant | tutor")
    content: str
    author: str | None = None


class ThreadView(LearnerView, ThreadOut):
    """A thread's full history with the learner model."""

    messages: list[MessageOut]


class TurnResult(LearnerView):
    """What a turn returns (JSON form): the agent's replies and the learner model after it."""

    thread_id: str
    replies: list[str]
    intent: str | None
    topic: str | None
    last_grade: dict[str, Any] | None
    current_item: dict[str, Any] | None


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


@router.get("", response_model=list[ThreadOut])
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


@router.get("/{thread_id}", responses={404: {"description": "no such thread, or not yours"}},
            response_model=ThreadView, response_model_exclude_unset=True)
async def read_thread(thread_id: ThreadId, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Return the thread's full history, the student's profile (with pace), mastery and negotiations."""

    def view() -> dict[str, Any]:
        thread = thread_service.visible_thread(services, user, thread_id)
        return thread_service.thread_view(services, thread, for_student=user.role == "student")

    return await anyio.to_thread.run_sync(view)


@router.post("/{thread_id}/messages", response_model=TurnResult, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "the turn (JSON), or with `Accept: text/event-stream` its SSE stream"},
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
    text = thread_service.clean_content(body.content, services.settings.max_message_chars,
                              services.settings.max_message_tokens)
    key = thread_service.check_idempotency_key(idempotency_key)
    thread = thread_service.own_thread(services, user, thread_id) or await anyio.to_thread.run_sync(
        lambda: thread_service.visible_thread(services, user, thread_id, write=True))
    slot = await admission.admit(services, text)  # 503 + Retry-After when the turn's tier is full
    if "text/event-stream" in request.headers.get("accept", ""):
        return event_stream(slot.around(iterate_in_thread(
            lambda: thread_service.stream_turn_once(services, user, thread, text, key))))
    # orjson straight from the dict: FastAPI's generic encoder cost 0.14 ms per turn (measured).
    with slot:
        encoded = await anyio.to_thread.run_sync(thread_service.run_turn_once, services, user, thread, text, key)
    return Response(encoded, media_type="application/json")
