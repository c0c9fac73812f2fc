"""The student graph compiled with our checkpointer: what the CLI, API and benchmarks drive.

LangGraph Studio loads the exported graphs (no checkpointer) and brings its own; everything else
goes through `open_tutor`, so both paths run the same nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from tutormesh.core.checkpoints import open_checkpointer
from tutormesh.core.errors import Misconfigured
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.shards import ShardRouter, get_router, logical_of_id, logical_shard, student_scope
from tutormesh.graphs.student.context import StudentContext
from tutormesh.graphs.student.graph import builder


class Tutor:
    """Runs student turns on checkpointed threads: one checkpoint per turn, older ones pruned.

    Sharded (a `router`): each turn runs on the graph compiled with the saver of the student's
    shard database, inside `router.using` (a turn of a shard being moved waits for the flip) and
    `student_scope` (store calls keyed by negotiation or thread id find the shard).
    """

    def __init__(self, saver: BaseCheckpointSaver[str], settings: Settings, router: ShardRouter | None = None) -> None:
        """Compile the student graph with `saver` (and, sharded, once per shard database)."""
        self.saver = saver
        self.settings = settings
        self.router = router
        self.graph = builder.compile(checkpointer=saver, name="student")
        self._graphs: dict[str, tuple[Any, BaseCheckpointSaver[str]]] = {}

    @contextmanager
    def _turn(self, student_id: str, thread_id: str = "") -> Iterator[tuple[Any, BaseCheckpointSaver[str]]]:
        """The graph and saver of the student's shard, held for one turn."""
        if self.router is None:
            yield self.graph, self.saver
            return
        router = self.router
        logical = logical_shard(student_id) if student_id else logical_of_id(thread_id)
        if logical is None:
            raise Misconfigured("a sharded thread needs its student (or an id from shards.owned_id)")
        with router.using_logical(logical) as db, student_scope(student_id):
            if db.name not in self._graphs:
                saver = router.saver(db.name)
                self._graphs[db.name] = (builder.compile(checkpointer=saver, name="student"), saver)
            yield self._graphs[db.name]

    def graph_for(self, student_id: str, thread_id: str = "") -> AbstractContextManager[
            tuple[Any, BaseCheckpointSaver[str]]]:
        """The graph and saver holding the thread's checkpoints (sharded: its student's shard), for one call.

        For reads and edits outside a turn: `get_state`, `update_state`, `delete_thread`.
        """
        return self._turn(student_id, thread_id)

    def send(self, student_id: str, thread_id: str, text: str, *, now: str | None = None,
             language: str = "") -> dict[str, Any]:
        """Run one turn and return the thread's new state."""
        # durability="exit": one checkpoint per turn instead of one per step (STACK-NOTES).
        with self._turn(student_id) as (graph, saver):
            state = graph.invoke({"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": thread_id}},
                                 context=_context(student_id, thread_id, now, language), durability="exit")
            self._maybe_prune(saver, thread_id, state)
        return dict(state)

    def stream(self, student_id: str, thread_id: str, text: str, *, now: str | None = None,
               language: str = "") -> Iterator[dict[str, Any]]:
        """Run one turn like `send`, yielding events as it goes (what the API streams over SSE).

        Events: `{"event": "stage", "node", "status": "started"|"done"}` per node;
        `{"event": "token", "node", "text"}` for each AI message chunk (a streaming LLM's tokens, or a
        tier-1 node's whole reply); finally `{"event": "state", "state": <the thread's new state>}`.
        """
        state: dict[str, Any] = {}
        with self._turn(student_id) as (graph, saver):
            turn = graph.stream({"messages": [HumanMessage(text)]}, {"configurable": {"thread_id": thread_id}},
                                context=_context(student_id, thread_id, now, language),
                                stream_mode=["tasks", "messages", "values"], durability="exit")
            for mode, chunk in turn:
                if mode == "values":
                    state = chunk
                elif mode == "tasks":
                    yield {"event": "stage", "node": chunk["name"],
                           "status": "done" if "result" in chunk else "started"}
                else:
                    message, meta = chunk
                    if isinstance(message, AIMessage | AIMessageChunk) and message.content:
                        yield {"event": "token", "node": meta.get("langgraph_node"), "text": str(message.text)}
            self._maybe_prune(saver, thread_id, state)
        yield {"event": "state", "state": state}

    def resume(self, student_id: str, thread_id: str, value: Any) -> dict[str, Any]:
        """Resume a thread paused at an `interrupt()` (a human tutor's reply) and return its new state."""
        with self._turn(student_id) as (graph, _saver):
            state = graph.invoke(Command(resume=value), {"configurable": {"thread_id": thread_id}},
                                 context=_context(student_id, thread_id, None, ""), durability="exit")
        return dict(state)

    def _maybe_prune(self, saver: BaseCheckpointSaver[str], thread_id: str, state: dict[str, Any]) -> None:
        """Every N turns keep only the thread's latest checkpoint: storage stays constant per thread.

        Not every turn: a prune is several DELETEs (about 5 ms on Postgres, measured).
        """
        every = self.settings.prune_every_turns
        if every and state.get("turns", 0) % every == 0:
            saver.prune([thread_id], strategy="keep_latest")

    def state(self, thread_id: str, student_id: str = "") -> dict[str, Any]:
        """Return the latest checkpointed state of a thread ({} if it has none).

        Sharded, the thread's shard comes from `student_id` or from an id made by `shards.owned_id`.
        """
        with self._turn(student_id, thread_id) as (graph, _saver):
            snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
        return dict(snapshot.values)


def _context(student_id: str, thread_id: str, now: str | None, language: str) -> StudentContext:
    # thread_id also goes in config["configurable"]: the checkpointer keys threads by it.
    return StudentContext(student_id=student_id, thread_id=thread_id, now=now or "", language=language)


def new_replies(state: dict[str, Any]) -> list[str]:
    """Return the agent's replies to the latest human message of a turn's state."""
    messages = state.get("messages", [])
    last_human = max((i for i, m in enumerate(messages) if m.type == "human"), default=-1)
    return [str(m.content) for m in messages[last_human + 1 :] if m.type == "ai"]


@contextmanager
def open_tutor(settings: Settings | None = None) -> Iterator[Tutor]:
    """Open the configured checkpointer and yield a Tutor bound to it."""
    settings = settings or get_settings()
    router = get_router(settings)
    with open_checkpointer(settings) as saver:
        try:
            yield Tutor(saver, settings, router)
        finally:
            if router is not None:
                router.close()
