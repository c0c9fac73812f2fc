"""Admission by tier through the real app: a full LLM tier answers 503 at once; practice turns still run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.conftest import Api
from tutormesh.server import admission

pytestmark = pytest.mark.integration
QUESTION = "why do we flip the sign when we move a term to the other side?"


def test_a_full_llm_tier_answers_503_and_practice_still_runs(start_api: Callable[..., Api]) -> None:
    api = start_api(admission_tier2_turns="1")
    _, headers, thread = api.student()
    portal = api.client.portal
    assert portal is not None
    held = portal.call(admission.admit, api.services, QUESTION)  # an LLM turn in flight elsewhere
    busy = api.client.post(f"/v1/threads/{thread}/messages", headers=headers, json={"content": QUESTION})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    assert busy.json()["error"]["code"] == "busy" and "retry" in busy.json()["error"]["message"]
    streamed = api.client.post(f"/v1/threads/{thread}/messages", json={"content": QUESTION},
                               headers={**headers, "Accept": "text/event-stream"})
    assert streamed.status_code == 503  # refused before the stream starts, not as an in-band error
    assert api.say(headers, thread, "practice linear equations")["intent"] == "practice"  # tier 1 unaffected
    portal.call(held.release)
    assert api.say(headers, thread, QUESTION)["intent"] == "ask"
    streamed = api.client.post(f"/v1/threads/{thread}/messages", json={"content": QUESTION},
                               headers={**headers, "Accept": "text/event-stream"})
    assert streamed.status_code == 200 and "event: state" in streamed.text
    assert admission.admission_of(api.services).in_use() == {"tier1": 0, "tier2": 0}  # every slot came back
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert [m["content"] for m in view["messages"] if m["role"] == "user"] == \
        ["practice linear equations", QUESTION, QUESTION]  # refused turns stored nothing
