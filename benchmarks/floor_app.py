"""The peers of a TutorMesh turn in `bench_api.py`: the trivial floor and the naive LangGraph app.

`create_app` (`--floor`): a trivial 3-node checkpointed graph behind FastAPI. Same route, body
model, thread hop, checkpointer (our SqliteSaver or PostgresSaver) and durability as a real turn,
but no auth, limits, middleware or learner model: what any checkpointed turn costs on this machine
before TutorMesh does anything.

`create_naive_app` (`--naive`): the same tier-1 work as a TutorMesh practice turn (grade the answer
with the same grader, update BKT mastery, serve the next item from the same curriculum) written the
way most LangGraph users would: the stock saver opened from its connection string, the default
durability (a checkpoint per step), and everything in graph state (the full message history and
the learner model), with no SQL, window or pruning. No auth or limits either. Started by
bench_api.py with uvicorn:

    uvicorn floor_app:create_app --factory --app-dir benchmarks
    uvicorn floor_app:create_naive_app --factory --app-dir benchmarks
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import anyio.to_thread
from fastapi import FastAPI
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from pydantic import BaseModel

from tutormesh.core.checkpoints import libpq_url, open_checkpointer
from tutormesh.core.settings import get_settings
from tutormesh.tools import bkt
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.grading import grade


class State(TypedDict, total=False):
    """A counter and the latest message: as small as a checkpointed state gets."""

    n: int
    content: str


class MessageIn(BaseModel):
    """The same body as the real `POST /v1/threads/{id}/messages`."""

    content: str


def trivial_graph() -> StateGraph[State]:
    """Three nodes in a row, each adding one to a counter (also bench_turns.py's floor)."""
    builder = StateGraph(State)
    for name in ("a", "b", "c"):
        builder.add_node(name, lambda s: {"n": s.get("n", 0) + 1})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder


def _peer_app(builder: StateGraph[Any], saver: Callable[[], contextlib.AbstractContextManager[Any]],
              turn: Callable[[Any, str, str], dict[str, Any]]) -> FastAPI:
    """One FastAPI app for a peer: the health route and the turn route, with `turn(graph, thread_id, text)`."""
    graphs: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with saver() as opened:
            graphs["turn"] = builder.compile(checkpointer=opened)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/threads/{thread_id}/messages")
    async def message(thread_id: str, body: MessageIn) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(turn, graphs["turn"], thread_id, body.content)

    return app


def _floor_turn(graph: Any, thread_id: str, text: str) -> dict[str, Any]:
    state = graph.invoke({"content": text}, {"configurable": {"thread_id": thread_id}}, durability="exit")
    return {"thread_id": thread_id, "n": state["n"]}


def create_app() -> FastAPI:
    """The floor app: one route running the trivial graph with one checkpoint per turn."""
    return _peer_app(trivial_graph(), open_checkpointer, _floor_turn)


class NaiveState(TypedDict, total=False):
    """Everything in state, as tutorials show it: the whole conversation and the learner model."""

    messages: Annotated[list[AnyMessage], add_messages]
    mastery: dict[str, float]
    current_item: dict[str, Any] | None
    correct: bool | None


def naive_graph() -> StateGraph[NaiveState]:
    """Grade the answer, update mastery, serve the next item: three nodes, all state in the checkpoint."""
    curriculum = load_curriculum()
    topic = curriculum.topic("two-step-equations")
    params = bkt.BKTParams()

    def check(state: NaiveState) -> NaiveState:
        current = state.get("current_item")
        if not current:
            return {"correct": None}
        item = curriculum.item(current["id"])
        return {"correct": grade(item.answer, str(state["messages"][-1].content), form=item.form).correct}

    def learn(state: NaiveState) -> NaiveState:
        if state.get("correct") is None:
            return {}
        mastery = dict(state.get("mastery") or {})
        mastery[topic.slug] = bkt.update(mastery.get(topic.slug, params.p_init), bool(state["correct"]), params)
        return {"mastery": mastery}

    def next_item(state: NaiveState) -> NaiveState:
        level = 1 + min(4, int((state.get("mastery") or {}).get(topic.slug, 0.0) * 5))
        item = topic.template(level).instantiate(random.randrange(10**6), "A")
        verdict = {True: "Correct! ", False: "Not quite. ", None: ""}[state.get("correct")]
        return {"messages": [AIMessage(f"{verdict}{item.prompt}")], "current_item": {"id": item.id}}

    builder = StateGraph(NaiveState)
    builder.add_node("check", check)
    builder.add_node("learn", learn)
    builder.add_node("next_item", next_item)
    builder.add_edge(START, "check")
    builder.add_edge("check", "learn")
    builder.add_edge("learn", "next_item")
    builder.add_edge("next_item", END)
    return builder


@contextlib.contextmanager
def stock_saver() -> Iterator[BaseCheckpointSaver[str]]:
    """The stock saver from its connection string, as LangGraph's docs open it."""
    url = get_settings().checkpoints_url
    if url.startswith("postgresql"):
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(libpq_url(url)) as pg_saver:
            pg_saver.setup()
            yield pg_saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    Path(url).parent.mkdir(parents=True, exist_ok=True)
    with SqliteSaver.from_conn_string(url) as sqlite_saver:
        sqlite_saver.setup()
        yield sqlite_saver


def _naive_turn(graph: Any, thread_id: str, text: str) -> dict[str, Any]:
    state = graph.invoke({"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": thread_id}})
    return {"thread_id": thread_id, "reply": state["messages"][-1].content, "mastery": state.get("mastery"),
            "current_item": state.get("current_item")}  # as TutorMesh's reply names it (the bench answers it)


def create_naive_app() -> FastAPI:
    """The naive app: the same route and body, the naive graph, default durability."""
    return _peer_app(naive_graph(), stock_saver, _naive_turn)
