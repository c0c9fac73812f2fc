"""Fixtures for the LLM tier: a scripted chat model in place of the server, and a student."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from tutormesh.agents import explainer
from tutormesh.core import llm
from tutormesh.tools.store import get_store


class ScriptedModels:
    """Hands out fake chat models that stream scripted answers (one per call), metering like the real one."""

    def __init__(self) -> None:
        """Start with no scripted answers."""
        self.answers: list[str] = []
        self.calls = 0

    def __call__(self, *args: Any, student_id: str | None = None, **kwargs: Any) -> GenericFakeChatModel:
        """Return a model that streams the next scripted answer on each call."""
        settings = kwargs.get("settings")
        callbacks = [llm.MeteringCallback(student_id, "gemma3-270m", "explain", settings)] if student_id else []
        return GenericFakeChatModel(messages=self._next(), callbacks=callbacks)

    def _next(self) -> Iterator[AIMessage]:
        while True:
            self.calls += 1
            yield AIMessage(self.answers.pop(0) if self.answers else "Nothing scripted.")


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedModels]:
    """Replace the chat model factory the explainer uses with scripted answers."""
    scripted = ScriptedModels()
    monkeypatch.setattr(explainer.llm, "chat_model", scripted)
    yield scripted


@pytest.fixture
def student() -> Callable[..., str]:
    """Create a student with a profile; returns its id."""

    def make(name: str = "ana", **profile: Any) -> str:
        store = get_store()
        store.ensure_student(name, name=name)
        if profile:
            store.update_profile(name, **profile)
        return name

    return make
