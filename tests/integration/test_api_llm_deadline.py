"""A hung LLM (a real TCP server that accepts and never answers) cannot stall the API."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import PASSWORD, Api
from tests.integration.test_api_signin import api_process
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.server import security

pytestmark = pytest.mark.integration
QUESTION = "why do we flip the sign when we move a term to the other side?"


@pytest.fixture
def silent_llm() -> Iterator[str]:
    """Accept connections, read nothing, answer nothing."""
    server = socket.create_server(("127.0.0.1", 0), backlog=128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _storm(url: str, data_dir: Path) -> tuple[float, float, list[tuple[float, int, str]]]:
    """45 students ask at once over real HTTP; meanwhile time a health check and a tier-1 turn."""
    settings = Settings(data_dir=data_dir)
    accounts = AccountStore(sessionmaker_for(settings))
    hashed = security.hash_password(PASSWORD)
    sessions = []
    for n in range(46):
        user = accounts.create_user(f"s{n}-{uuid.uuid4().hex[:6]}", hashed, "student", "9a")
        token = httpx.post(f"{url}/v1/auth/token", data={"username": user["username"], "password": PASSWORD},
                           timeout=30).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        thread = httpx.post(f"{url}/v1/threads", headers=headers, timeout=30).json()["thread_id"]
        httpx.post(f"{url}/v1/threads/{thread}/messages", headers=headers,
                   json={"content": "practice linear equations"}, timeout=30)
        sessions.append((headers, thread))
    (practiser, practice_thread), askers = sessions[0], sessions[1:]
    answers: list[tuple[float, int, str]] = []

    def ask(headers: dict[str, str], thread: str) -> None:
        started = time.monotonic()
        reply = httpx.post(f"{url}/v1/threads/{thread}/messages", headers=headers, json={"content": QUESTION},
                           timeout=60)
        body = reply.json()
        text = (str(body["replies"]) if reply.status_code == 200
                else f"{body['error']} {reply.headers.get('retry-after')}")
        answers.append((time.monotonic() - started, reply.status_code, text))

    workers = [threading.Thread(target=ask, args=pair) for pair in askers]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # the questions are in flight
    started = time.monotonic()
    health = httpx.get(f"{url}/v1/health", timeout=60)
    health_s = time.monotonic() - started
    started = time.monotonic()
    practice = httpx.post(f"{url}/v1/threads/{practice_thread}/messages", headers=practiser,
                          json={"content": "hint"}, timeout=60)
    practice_s = time.monotonic() - started
    for worker in workers:
        worker.join(60)
    assert health.status_code == 200 and practice.status_code == 200
    return health_s, practice_s, answers


def test_45_questions_to_a_hung_llm_leave_health_and_practice_fast(tmp_path: Path, silent_llm: str) -> None:
    limits = {"rate_limit_user": "1000/minute", "rate_limit_ip": "10000/minute"}
    # The same storm with no LLM at all measures what 45 turns at once cost this machine by themselves.
    with api_process(tmp_path / "base", llm_enabled="false", **limits) as url:
        base_health, base_practice, _ = _storm(url, tmp_path / "base" / "data")
    # A 10 s deadline: waiting on the hung LLM even once would show far above this machine's noise.
    with api_process(tmp_path / "hung", llm_enabled="true", llm_base_url=silent_llm, llm_timeout_s="10",
                     llm_connect_timeout_s="1",
                     tier2_slots="4", admission_tier2_turns="4", **limits) as url:
        health_s, practice_s, answers = _storm(url, tmp_path / "hung" / "data")
    print(f"health {health_s:.2f} s (no LLM: {base_health:.2f}), practice {practice_s:.2f} s ({base_practice:.2f}), "
          f"slowest question {max(s for s, _, _ in answers):.2f} s")
    assert health_s < base_health + 4.0, (health_s, base_health)
    assert practice_s < base_practice + 4.0, (practice_s, base_practice)
    assert len(answers) == 45 and max(seconds for seconds, _, _ in answers) < 10 + 6.0
    # Admission by tier: four questions are admitted to the LLM tier; the rest are told at once to retry.
    admitted = [text for _, status, text in answers if status == 200]
    refused = [text for _, status, text in answers if status == 503]
    assert len(admitted) + len(refused) == 45 and len(admitted) <= 4, sorted({t[:60] for _, _, t in answers})
    assert all("busy" in text and text.endswith(" 2") for text in refused)  # code busy, Retry-After: 2
    assert all("Here is what the lessons say" in text for text in admitted)  # an honest, labelled answer


def test_one_question_to_a_hung_llm_ends_at_the_deadline(start_api: Callable[..., Api], silent_llm: str) -> None:
    api = start_api(llm_base_url=silent_llm, llm_timeout_s="1.5", llm_connect_timeout_s="1")
    _, headers, thread = api.student()
    api.say(headers, thread, "practice linear equations")
    started = time.monotonic()
    turn = api.say(headers, thread, QUESTION)
    assert time.monotonic() - started < 1.5 + 2.0
    assert "not available right now" in turn["replies"][0]
