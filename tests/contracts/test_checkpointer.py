"""The checkpointer contract over every saver `open_checkpointer` can open: our SQLite saver and PostgresSaver.

Cases follow the behaviour LangGraph's checkpoint-conformance suite specifies for a
`BaseCheckpointSaver` (put/get round trips, namespaces, metadata filters, newest-first order,
pending writes, delete_thread, prune keeping the latest checkpoint per namespace), written against
the sync API our runtime uses. Postgres runs on a scratch database of the real server, directly
and through a private PgBouncer in transaction mode (fails under CI when either is missing).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT

from tests.pgbouncer import pgbouncer, pgbouncer_url  # noqa: F401  (fixtures)
from tutormesh.core.checkpoints import open_checkpointer
from tutormesh.core.settings import get_settings

SAVERS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
          pytest.param("pgbouncer", marks=[pytest.mark.postgres, pytest.mark.integration])]


@pytest.fixture(params=SAVERS)
def saver(request: pytest.FixtureRequest) -> Iterator[BaseCheckpointSaver[str]]:
    """A saver opened the way the runtime opens it, on SQLite, Postgres, or Postgres behind PgBouncer."""
    settings = get_settings()
    if request.param == "postgres":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("postgres_url")})
    elif request.param == "pgbouncer":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pgbouncer_url")})
    with open_checkpointer(settings) as opened:
        yield opened


def config(thread_id: str, ns: str = "", checkpoint_id: str | None = None) -> RunnableConfig:
    """A config naming a thread, a namespace and optionally one checkpoint."""
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def checkpoint(values: dict[str, Any] | None = None, versions: dict[str, int] | None = None,
               seen: dict[str, dict[str, int]] | None = None) -> Checkpoint:
    """A well-formed checkpoint with a fresh time-ordered id."""
    values = values or {}
    return Checkpoint(v=1, id=str(uuid6(clock_seq=-1)), ts=datetime.now(UTC).isoformat(), channel_values=values,
                      channel_versions=dict(versions if versions is not None else {k: 1 for k in values}),
                      versions_seen=seen or {}, updated_channels=None)


def meta(source: str = "loop", step: int = 0, **extra: Any) -> CheckpointMetadata:
    """Checkpoint metadata as LangGraph writes it, plus custom keys."""
    return {"source": source, "step": step, "parents": {}, **extra}  # type: ignore[typeddict-item]


def chain(saver: BaseCheckpointSaver[str], thread_id: str, count: int, ns: str = "",
          sources: tuple[str, ...] = ("loop",)) -> list[RunnableConfig]:
    """Put `count` checkpoints, each the child of the previous; return their stored configs."""
    stored: list[RunnableConfig] = []
    for step in range(count):
        parent = stored[-1]["configurable"]["checkpoint_id"] if stored else None
        stored.append(saver.put(config(thread_id, ns, parent), checkpoint(), meta(sources[step % len(sources)], step),
                                {}))
    return stored


def ids(saver: BaseCheckpointSaver[str], cfg: RunnableConfig, **kwargs: Any) -> list[str]:
    """Checkpoint ids `list` returns, in its order."""
    return [t.checkpoint["id"] for t in saver.list(cfg, **kwargs)]


def got(saver: BaseCheckpointSaver[str], cfg: RunnableConfig) -> CheckpointTuple:
    """`get_tuple`, asserting that it found something."""
    found = saver.get_tuple(cfg)
    assert found is not None
    return found


def new_thread() -> str:
    return f"t-{uuid.uuid4().hex}"


# put and get_tuple


def test_put_returns_the_stored_address(saver: BaseCheckpointSaver[str]) -> None:
    cp = checkpoint({"k": "v"})
    stored = saver.put(config(tid := new_thread(), "child:1"), cp, meta(), {"k": 1})
    assert stored["configurable"] == {"thread_id": tid, "checkpoint_ns": "child:1", "checkpoint_id": cp["id"]}


def test_channel_values_of_every_plain_type_round_trip(saver: BaseCheckpointSaver[str]) -> None:
    values = {"text": "héllo", "number": 42, "ratio": 0.25, "items": [1, 2, 3], "nested": {"a": {"b": None}},
              "flag": True}
    cp = checkpoint(values)
    stored = saver.put(config(new_thread()), cp, meta(), {k: 1 for k in values})
    found = got(saver, stored)
    assert found.checkpoint["id"] == cp["id"]
    assert found.checkpoint["channel_values"] == values
    assert {k: str(v).split(".")[0] for k, v in found.checkpoint["channel_versions"].items()} == \
        {k: "1" for k in values}


def test_versions_seen_round_trip(saver: BaseCheckpointSaver[str]) -> None:
    seen = {"node_a": {"ch": 1, "other": 2}, "node_b": {"ch": 3}}
    stored = saver.put(config(new_thread()), checkpoint(seen=seen), meta(), {})
    found = got(saver, stored).checkpoint["versions_seen"]
    assert {node: {ch: str(v).split(".")[0] for ch, v in chans.items()} for node, chans in found.items()} == \
        {node: {ch: str(v) for ch, v in chans.items()} for node, chans in seen.items()}


def test_metadata_round_trips_with_custom_and_nested_keys(saver: BaseCheckpointSaver[str]) -> None:
    nested = {"tags": ["a", "b"], "prefs": {"n": 3, "on": True}, "empty": {}, "none": []}
    stored = saver.put(config(new_thread()), checkpoint(), meta("input", -1, run_id="run-1", user=nested), {})
    found = got(saver, stored).metadata
    assert (found["source"], found["step"]) == ("input", -1)
    assert found.get("run_id") == "run-1" and found.get("user") == nested


def test_get_without_an_id_returns_the_newest(saver: BaseCheckpointSaver[str]) -> None:
    stored = chain(saver, tid := new_thread(), 3)
    found = got(saver, config(tid))
    assert found.checkpoint["id"] == stored[-1]["configurable"]["checkpoint_id"]
    assert found.metadata["step"] == 2


def test_get_by_id_returns_that_checkpoint_and_its_parent(saver: BaseCheckpointSaver[str]) -> None:
    first, second = chain(saver, new_thread(), 2)
    assert got(saver, first).parent_config is None
    found = got(saver, second)
    assert found.parent_config is not None
    assert found.parent_config["configurable"]["checkpoint_id"] == first["configurable"]["checkpoint_id"]
    assert got(saver, first).checkpoint["id"] == first["configurable"]["checkpoint_id"]


def test_get_of_a_missing_thread_or_id_is_none(saver: BaseCheckpointSaver[str]) -> None:
    assert saver.get_tuple(config(new_thread())) is None
    chain(saver, tid := new_thread(), 1)
    assert saver.get_tuple(config(tid, checkpoint_id=str(uuid6(clock_seq=-1)))) is None


def test_unchanged_channels_are_read_from_earlier_versions(saver: BaseCheckpointSaver[str]) -> None:
    tid = new_thread()
    first = saver.put(config(tid), checkpoint({"a": "v1", "b": "v2"}), meta(step=0), {"a": 1, "b": 1})
    second_cp = checkpoint({"a": "v1-new", "b": "v2"}, {"a": 2, "b": 1})
    second = saver.put(config(tid, checkpoint_id=first["configurable"]["checkpoint_id"]), second_cp, meta(step=1),
                       {"a": 2})
    assert got(saver, second).checkpoint["channel_values"] == {"a": "v1-new", "b": "v2"}
    assert got(saver, first).checkpoint["channel_values"] == {"a": "v1", "b": "v2"}
    third_cp = checkpoint({"a": "v1-new"}, {"a": 2})  # "b" dropped from the versions: gone from the values
    third = saver.put(config(tid, checkpoint_id=second["configurable"]["checkpoint_id"]), third_cp, meta(step=2), {})
    assert got(saver, third).checkpoint["channel_values"] == {"a": "v1-new"}


def test_namespaces_and_threads_are_isolated(saver: BaseCheckpointSaver[str]) -> None:
    tid, other = new_thread(), new_thread()
    root = saver.put(config(tid), checkpoint({"x": "root"}), meta(), {"x": 1})
    child = saver.put(config(tid, "child:1"), checkpoint({"x": "child"}), meta(), {"x": 1})
    saver.put(config(other), checkpoint({"x": "other"}), meta(), {"x": 1})
    assert got(saver, config(tid)).checkpoint["id"] == root["configurable"]["checkpoint_id"]
    assert got(saver, config(tid, "child:1")).checkpoint["id"] == child["configurable"]["checkpoint_id"]
    assert got(saver, config(tid, "child:1")).config["configurable"]["checkpoint_ns"] == "child:1"
    assert got(saver, config(other)).checkpoint["channel_values"] == {"x": "other"}


# list


def test_list_is_newest_first_and_per_namespace(saver: BaseCheckpointSaver[str]) -> None:
    stored = chain(saver, tid := new_thread(), 4)
    chain(saver, tid, 2, ns="child:1")
    assert ids(saver, config(tid)) == [c["configurable"]["checkpoint_id"] for c in reversed(stored)]
    assert len(ids(saver, config(tid, "child:1"))) == 2
    assert ids(saver, config(new_thread())) == []


def test_list_filters_on_metadata(saver: BaseCheckpointSaver[str]) -> None:
    tid = new_thread()
    chain(saver, tid, 4, sources=("input", "loop"))
    assert len(ids(saver, config(tid), filter={"source": "input"})) == 2
    assert len(ids(saver, config(tid), filter={"step": 1})) == 1
    assert len(ids(saver, config(tid), filter={"source": "loop", "step": 3})) == 1
    assert ids(saver, config(tid), filter={"source": "loop", "step": 2}) == []
    assert ids(saver, config(tid), filter={"source": "update", "step": 99}) == []
    saver.put(config(tid), checkpoint(), meta(score=42, run_id="run-abc"), {})
    saver.put(config(tid), checkpoint(), meta(score=99, run_id="run-xyz"), {})
    [found] = list(saver.list(config(tid), filter={"score": 42}))
    assert found.metadata.get("run_id") == "run-abc"


def test_list_pages_with_before_and_limit(saver: BaseCheckpointSaver[str]) -> None:
    tid = new_thread()
    stored = [c["configurable"]["checkpoint_id"] for c in chain(saver, tid, 4)]
    assert set(ids(saver, config(tid), before=config(tid, checkpoint_id=stored[2]))) == {stored[0], stored[1]}
    assert len(ids(saver, config(tid), limit=1)) == 1
    assert len(ids(saver, config(tid), limit=2)) == 2
    assert ids(saver, config(tid), before=config(tid, checkpoint_id=stored[3]), limit=1) == [stored[2]]


def test_list_carries_pending_writes(saver: BaseCheckpointSaver[str]) -> None:
    [stored] = chain(saver, tid := new_thread(), 1)
    saver.put_writes(stored, [("ch", "val")], task := str(uuid.uuid4()))
    [found] = list(saver.list(config(tid)))
    assert [(w[0], w[1], w[2]) for w in found.pending_writes or []] == [(task, "ch", "val")]


# put_writes


def test_writes_of_several_tasks_are_kept_apart(saver: BaseCheckpointSaver[str]) -> None:
    [stored] = chain(saver, new_thread(), 1)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    saver.put_writes(stored, [("ch1", "v1"), ("ch2", {"data": 123})], first)
    saver.put_writes(stored, [("ch1", "from second")], second, task_path="a:b:c")
    writes = sorted((w[0] == first, w[1], str(w[2])) for w in got(saver, stored).pending_writes or [])
    assert writes == [(False, "ch1", "from second"), (True, "ch1", "v1"), (True, "ch2", "{'data': 123}")]


def test_a_replayed_write_is_not_doubled(saver: BaseCheckpointSaver[str]) -> None:
    [stored] = chain(saver, new_thread(), 1)
    task = str(uuid.uuid4())
    saver.put_writes(stored, [("ch", "val")], task)
    saver.put_writes(stored, [("ch", "val")], task)
    assert len(got(saver, stored).pending_writes or []) == 1


def test_error_and_interrupt_writes_round_trip(saver: BaseCheckpointSaver[str]) -> None:
    [stored] = chain(saver, new_thread(), 1)
    task = str(uuid.uuid4())
    saver.put_writes(stored, [(ERROR, "it broke"), (INTERRUPT, {"reason": "human_input"})], task)
    writes = {w[1]: w[2] for w in got(saver, stored).pending_writes or []}
    assert writes == {ERROR: "it broke", INTERRUPT: {"reason": "human_input"}}


def test_writes_belong_to_their_namespace_and_checkpoint(saver: BaseCheckpointSaver[str]) -> None:
    tid = new_thread()
    [root] = chain(saver, tid, 1)
    [child] = chain(saver, tid, 1, ns="child:1")
    saver.put_writes(root, [("ch", "root")], str(uuid.uuid4()))
    saver.put_writes(child, [("ch", "child")], str(uuid.uuid4()))
    assert [w[2] for w in got(saver, root).pending_writes or []] == ["root"]
    assert [w[2] for w in got(saver, child).pending_writes or []] == ["child"]
    later = saver.put(config(tid, checkpoint_id=root["configurable"]["checkpoint_id"]), checkpoint(), meta(step=1), {})
    assert got(saver, later).pending_writes == []


# delete_thread


def test_delete_thread_removes_every_namespace_and_write_of_that_thread_only(saver: BaseCheckpointSaver[str]) -> None:
    tid, other = new_thread(), new_thread()
    [root] = chain(saver, tid, 2)[-1:]
    chain(saver, tid, 2, ns="child:1")
    saver.put_writes(root, [("ch", "val")], str(uuid.uuid4()))
    chain(saver, other, 1)
    saver.delete_thread(tid)
    assert saver.get_tuple(config(tid)) is None and saver.get_tuple(config(tid, "child:1")) is None
    assert ids(saver, config(tid)) == [] and ids(saver, config(tid, "child:1")) == []
    assert saver.get_tuple(config(other)) is not None
    saver.delete_thread(new_thread())  # a missing thread is no error


# prune (keep the latest checkpoint of each namespace, or delete everything)


def test_prune_keeps_the_latest_checkpoint_of_each_thread(saver: BaseCheckpointSaver[str]) -> None:
    one, two, untouched = new_thread(), new_thread(), new_thread()
    latest_one, latest_two = chain(saver, one, 4)[-1], chain(saver, two, 2)[-1]
    chain(saver, untouched, 3)
    before = ids(saver, config(untouched))
    saver.prune([one, two], strategy="keep_latest")
    assert ids(saver, config(one)) == [latest_one["configurable"]["checkpoint_id"]]
    assert ids(saver, config(two)) == [latest_two["configurable"]["checkpoint_id"]]
    assert ids(saver, config(untouched)) == before


def test_prune_keeps_the_latest_checkpoint_of_each_namespace(saver: BaseCheckpointSaver[str]) -> None:
    """A subgraph's namespace (negotiation) keeps its own latest checkpoint, even when the root's is newer."""
    tid = new_thread()
    latest_child = chain(saver, tid, 2, ns="negotiate:1")[-1]
    latest_root = chain(saver, tid, 3)[-1]  # written after the child's, so newer across the thread
    saver.put_writes(latest_child, [("ch", "child write")], str(uuid.uuid4()))
    saver.prune([tid], strategy="keep_latest")
    assert ids(saver, config(tid)) == [latest_root["configurable"]["checkpoint_id"]]
    assert ids(saver, config(tid, "negotiate:1")) == [latest_child["configurable"]["checkpoint_id"]]
    assert [w[2] for w in got(saver, latest_child).pending_writes or []] == ["child write"]


def test_prune_keeps_the_pending_writes_of_the_latest(saver: BaseCheckpointSaver[str]) -> None:
    stored = chain(saver, tid := new_thread(), 3)
    saver.put_writes(stored[0], [("ch", "old")], str(uuid.uuid4()))
    saver.put_writes(stored[-1], [("ch", "val")], str(uuid.uuid4()))
    saver.prune([tid], strategy="keep_latest")
    assert [(w[1], w[2]) for w in got(saver, config(tid)).pending_writes or []] == [("ch", "val")]


def test_prune_delete_removes_the_thread(saver: BaseCheckpointSaver[str]) -> None:
    chain(saver, tid := new_thread(), 3)
    chain(saver, tid, 1, ns="child:1")
    saver.prune([tid], strategy="delete")
    assert ids(saver, config(tid)) == [] and ids(saver, config(tid, "child:1")) == []


def test_prune_of_nothing_or_a_missing_thread_is_no_error(saver: BaseCheckpointSaver[str]) -> None:
    saver.prune([], strategy="keep_latest")
    saver.prune([new_thread()], strategy="keep_latest")


def test_an_interrupted_subgraph_resumes_after_a_prune(saver: BaseCheckpointSaver[str]) -> None:
    """What the per-namespace rule protects: a paused subgraph's own checkpoint, needed to resume it."""
    from typing import TypedDict

    from langgraph.graph import START, StateGraph
    from langgraph.types import Command, interrupt

    class State(TypedDict, total=False):
        answer: str

    def ask(_state: State) -> State:
        return {"answer": str(interrupt("which pace?"))}

    inner = StateGraph(State)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")
    outer = StateGraph(State)
    outer.add_node("negotiate", inner.compile())
    outer.add_edge(START, "negotiate")
    graph = outer.compile(checkpointer=saver)
    run: RunnableConfig = {"configurable": {"thread_id": new_thread()}}
    graph.invoke({}, run)
    saver.prune([run["configurable"]["thread_id"]], strategy="keep_latest")
    assert graph.invoke(Command(resume="slower"), run) == {"answer": "slower"}
