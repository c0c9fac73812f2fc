"""The local Gemma server's chat template has no system role: the factory folds it into the first user turn."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from tutormesh.core import llm
from tutormesh.core.settings import get_settings


def test_the_local_model_gets_the_system_text_in_its_first_user_turn() -> None:
    model = llm.chat_model()
    assert isinstance(model, llm.SystemFoldingChatOpenAI)
    payload = model._get_request_payload([SystemMessage("RULES"), HumanMessage("Q1"), AIMessage("A1"),
                                          HumanMessage("Q2")])
    assert [m["role"] for m in payload["messages"]] == ["user", "assistant", "user"]
    assert payload["messages"][0]["content"] == "RULES\n\nQ1" and payload["messages"][2]["content"] == "Q2"
    only_system = model._get_request_payload([SystemMessage("RULES")])
    assert only_system["messages"] == [{"role": "user", "content": "RULES"}]


def test_a_configured_endpoint_keeps_its_system_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORMESH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    model = llm.chat_model()
    assert not isinstance(model, llm.SystemFoldingChatOpenAI)
    assert model._get_request_payload([SystemMessage("RULES"), HumanMessage("Q")])["messages"][0]["role"] == "system"
