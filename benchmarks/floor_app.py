"""The floor under `bench_api.py --floor`: a trivial 3-node checkpointed graph behind FastAPI.

Same route, body model, thread hop, checkpointer (our SqliteSaver or PostgresSaver) and durability
as a real turn, but no auth, limits, middleware or learner model: what any checkpointed turn costs
on this machine before TutorMesh does anything. Started by bench_api.py with uvicorn:

    uvicorn floor_app:create_app --factory --app-dir benchmarks
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypedDict

import anyio.to_thread
from fastapi import FastAPI
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from tutormesh.core.checkpoints import open_checkpointer


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


def create_app() -> FastAPI:
    """The floor app: one route running the trivial graph with one checkpoint per turn."""
    builder = trivial_graph()
    graphs: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with open_checkpointer() as saver:
            graphs["turn"] = builder.compile(checkpointer=saver)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/threads/{thread_id}/messages")
    async def message(thread_id: str, body: MessageIn) -> dict[str, Any]:
        def turn() -> dict[str, Any]:
            state = graphs["turn"].invoke({"content": body.content}, {"configurable": {"thread_id": thread_id}},
                                          durability="exit")
            return {"thread_id": thread_id, "n": state["n"]}

        return await anyio.to_thread.run_sync(turn)

    return app
