"""The tier-2 path against the real local llama-cpp server: streaming, metering, budget, cache, fallback.

The model is a tiny base model: these tests assert plumbing (tokens stream, calls are metered, the
budget is enforced before a call, the cache answers repeats, the lesson answers when the server is
down), never what the model says.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from tutormesh.agents import guards
from tutormesh.core import llm_server
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.ledger import get_ledger
from tutormesh.graphs.student.context import StudentContext
from tutormesh.graphs.student.graph import builder
from tutormesh.tools.store import get_store

pytestmark = pytest.mark.integration
QUESTION = "why do we flip the sign when we move a term?"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run the real llama-cpp server over the packaged GGUF for this module."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"
    with llm_server.running_llm_server(Settings(llm_port=port, llm_n_ctx=1024), port=port, log=log) as url:
        yield url


@pytest.fixture
def live(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point this test's settings at the running server, with short answers."""
    monkeypatch.setenv("TUTORMESH_LLM_BASE_URL", server_url)
    monkeypatch.setenv("TUTORMESH_LLM_MAX_TOKENS", "48")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the base model's junk through the guards (they have their own tests): this tests transport."""
    monkeypatch.setattr(guards, "check_rules", lambda text, instructions="": guards.GuardResult(True))
    monkeypatch.setattr(guards.MathChecker, "check", lambda self, line: None)


def _turn(student_id: str, text: str = QUESTION) -> tuple[list[Any], dict[str, Any]]:
    get_store().ensure_student(student_id, name=student_id)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": f"t-{student_id}"}}
    context = StudentContext(student_id=student_id, thread_id=f"t-{student_id}")
    chunks = [(chunk, meta) for chunk, meta in graph.stream({"messages": [HumanMessage(text)]}, config,
                                                            context=context, stream_mode="messages")]
    return chunks, graph.get_state(config).values


def test_readiness_check(server_url: str) -> None:
    assert llm_server.is_ready(server_url)
    assert not llm_server.is_ready(f"http://127.0.0.1:{_free_port()}/v1")


def test_question_streams_from_the_explain_node_and_is_metered(live: Settings, lenient: None) -> None:
    chunks, state = _turn("ana")
    tokens = [c for c, meta in chunks if meta.get("langgraph_node") == "explain" and c.content]
    final = state["messages"][-1]
    assert final.response_metadata["tier"] == "llm"
    assert len(tokens) >= 2 and "".join(str(t.content) for t in tokens).strip() == str(final.content).strip()
    spend = get_ledger().spend("ana")
    assert spend.calls >= 1 and spend.month_usd > 0


def test_repeat_question_is_served_from_the_cache(live: Settings, lenient: None) -> None:
    _, first = _turn("ana")
    assert first["messages"][-1].response_metadata["tier"] == "llm", first["messages"][-1].response_metadata
    _, second = _turn("ben")
    assert second["messages"][-1].response_metadata["tier"] == "cache"
    assert get_ledger().spend("ben").calls == 0


def test_over_budget_student_gets_the_lesson_and_no_call(live: Settings) -> None:
    get_ledger().set_budget("cara", daily_usd=0.0, monthly_usd=0.0)
    _, state = _turn("cara")
    assert state["messages"][-1].response_metadata["reason"] == "budget"
    assert get_ledger().spend("cara").calls == 0


def test_guards_run_on_the_real_stream(live: Settings) -> None:
    _, state = _turn("fay")
    meta = state["messages"][-1].response_metadata
    assert meta["tier"] == "llm" or meta["reason"] in ("guard", "offline")  # whatever the junk, a clear outcome


def test_server_down_falls_back_to_tier_one(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    with llm_server.running_llm_server(Settings(llm_port=port), port=port) as url:
        monkeypatch.setenv("TUTORMESH_LLM_BASE_URL", url)
        get_settings.cache_clear()
    assert not llm_server.is_ready(url)  # the server has stopped
    _, state = _turn("dev")
    final = state["messages"][-1]
    assert final.response_metadata["reason"] == "offline" and "Worked example" in final.content


def test_judge_returns_a_structured_verdict(live: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORMESH_LLM_JUDGE_MODEL", "gemma3-270m")
    get_settings.cache_clear()
    result = guards.judge("Subtract 4 from both sides.", student_id="eve")
    assert result is None or isinstance(result.ok, bool)  # a verdict that parses, or none; never an error
    assert get_ledger().spend("eve").calls == 1
