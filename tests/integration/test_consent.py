"""COPPA: an under-13 student without a guardian's consent keeps tier-1 tutoring, no free text is stored
from them and no LLM is called; with consent recorded, everything works as for anyone. Retention prunes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from tests.integration.conftest import Api
from tutormesh.core import consent, llm, privacy
from tutormesh.core.models import PrivacyAudit, ThreadMessage

pytestmark = pytest.mark.integration


class _CountingLlm(BaseHTTPRequestHandler):
    """An 'LLM endpoint' that counts requests and fails them (the explainer then answers tier 1)."""

    calls = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        type(self).calls += 1
        self.send_response(500)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def llm_endpoint() -> Iterator[str]:
    _CountingLlm.calls = 0
    server = HTTPServer(("127.0.0.1", 0), _CountingLlm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _stored(api: Api, thread_id: str) -> list[str]:
    return [m["content"] for m in api.services.learner.history(thread_id) if m["role"] == "user"]


def test_under_13_without_consent_stores_no_free_text_and_calls_no_llm(start_api, llm_endpoint: str) -> None:  # type: ignore[no-untyped-def]
    api: Api = start_api(llm_base_url=llm_endpoint)
    admin = api.login(api.user("admin", None))
    user, headers, thread_id = api.student()
    marked = api.client.put(f"/v1/admin/students/{user['username']}/consent", headers=admin,
                            json={"dob_band": "under13"})
    assert marked.json() == {"dob_band": "under13", "guardian_consent": False, "restricted": True}
    secret = f"my dog Biscuit{uuid.uuid4().hex[:6]} lives at 12 Elm Street"
    api.say(headers, thread_id, "I want to practice linear equations please")
    api.say(headers, thread_id, f"why is {secret}?")
    api.say(headers, thread_id, "2 + 2")  # math, not an answer: the explainer's question path
    assert _CountingLlm.calls == 0
    stored = _stored(api, thread_id)
    assert stored[0].startswith("practice ") and "please" not in stored[0], stored  # the command and its topic
    assert stored[1:] == ["learn", "2 + 2"], stored
    state = api.services.tutor.state(thread_id)
    assert not any(secret in str(m.content) for m in state["messages"])
    who = privacy.find_subject(api.services.learner.sessions, user["username"])
    assert not any("Biscuit" in t for t in who.texts)

    consented = api.client.put(f"/v1/admin/students/{user['username']}/consent", headers=admin,
                               json={"guardian_consent": True})
    assert consented.json()["restricted"] is False
    question = f"why do we flip the sign when we move a term across? ps {secret}"  # a real question this time
    api.say(headers, thread_id, question)
    assert secret in _stored(api, thread_id)[-1]
    assert _CountingLlm.calls >= 1  # the free-form question now goes to the LLM tier


def test_consent_input_is_checked(api: Api) -> None:
    admin = api.login(api.user("admin", None))
    user = api.user("student")
    url = f"/v1/admin/students/{user['username']}/consent"
    assert api.client.put(url, headers=admin, json={}).status_code == 422
    assert api.client.put(url, headers=admin, json={"dob_band": "twelve"}).status_code == 422
    assert api.client.put(url, headers=admin, json={"dob_band": "adult", "extra": 1}).status_code == 422
    assert api.client.put("/v1/admin/students/nobody-x/consent", headers=admin,
                          json={"dob_band": "adult"}).status_code == 404
    student = api.login(user)
    assert api.client.put(url, headers=student, json={"guardian_consent": True}).status_code == 403


def test_no_llm_block_refuses_before_anything_is_sent() -> None:
    with llm.no_external_llm(), pytest.raises(llm.ConsentRequired):
        llm.chat_model(student_id="s1")
    llm.chat_model(student_id="s1")  # outside the block: fine


def test_minimised_message_keeps_math_and_commands_only() -> None:
    assert consent.minimised_message("x = -3", "answer") == "x = -3"
    assert consent.minimised_message("-2, 2", "answer") == "-2, 2"
    assert consent.minimised_message("my name is Priya", "answer") == "learn"
    assert consent.minimised_message("give me a hint", "hint") == "hint"
    assert consent.minimised_message("how am I doing? I'm Priya from Pune", "review") == "review my progress"
    assert consent.minimised_message("teach me fractions", "learn", "Fractions") == "learn Fractions"


def test_retention_prunes_old_transcripts_and_their_checkpoints(start_api) -> None:  # type: ignore[no-untyped-def]
    api: Api = start_api(transcript_retention_days="30")
    _user, headers, thread_id = api.student()
    api.say(headers, thread_id, "I want to practice linear equations")
    settings = api.services.settings
    assert privacy.prune_transcripts(settings) == {"thread_messages": 0, "checkpoint_threads": 0}
    pruned = privacy.prune_transcripts(settings, now=datetime.now(UTC) + timedelta(days=31))
    assert pruned == {"thread_messages": 2, "checkpoint_threads": 1}
    assert api.services.learner.history(thread_id) == [] and api.services.tutor.state(thread_id) == {}
    with api.services.learner.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ThreadMessage)) == 0
        audit = s.scalars(select(PrivacyAudit).where(PrivacyAudit.action == "retention")).one()
    assert audit.details["thread_messages"] == 2


def test_which_bands_need_consent_is_configuration() -> None:
    now = datetime.now(UTC)
    assert consent.needs_guardian_consent("under13", None)
    assert not consent.needs_guardian_consent("under13", now)
    assert not consent.needs_guardian_consent("16-17", None)  # COPPA's default
    assert consent.needs_guardian_consent("16-17", None, ["under13", "13-15", "16-17"])  # DPDP: every minor
    assert not consent.needs_guardian_consent(None, None, ["under13", "13-15", "16-17"])
