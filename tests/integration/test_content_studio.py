"""LangGraph Studio serves the content graph: its context form, and a run from a deck sent as JSON."""

from __future__ import annotations

import pytest
from langgraph_sdk import get_sync_client

from tests.integration.test_langgraph_dev import dev_server  # noqa: F401 - the fixture, one server per module
from tutormesh.tools.ingest.draft import Deck, Slide

pytestmark = pytest.mark.integration


def test_the_content_graph_runs_in_studio_on_a_deck_given_as_json(dev_server: str) -> None:  # noqa: F811
    client = get_sync_client(url=dev_server)
    (assistant,) = [a for a in client.assistants.search(limit=20) if a["graph_id"] == "content"]
    fields = client.assistants.get_schemas(assistant["assistant_id"])["context_schema"]["properties"]
    assert {"seeds", "assignment_items", "llm_wording", "now", "prompt_versions"} <= set(fields)
    assert all(field.get("description") for field in fields.values())
    deck = Deck(file_name="eq.md", sha256="2" * 64, format="md", slides=[
        Slide(number=1, title="Section 1: Two-step equations", text="Undo addition, then multiplication."),
        Slide(number=2, title="Example", text="Solve 3x + 5 = 20. Answer: x = 5")])
    thread = client.threads.create()
    state = client.runs.wait(thread["thread_id"], "content", input={"deck": deck.model_dump(), "subject": "math"},
                             context={"seeds": 2})
    draft = state["draft"]
    assert [t["topic"]["slug"] for t in draft["topics"]] == ["two-step-equations"]
    assert draft["topics"][0]["exercises_recovered"] == [2]
    assert len(draft["assignment"]["template_ids"]) == 5
