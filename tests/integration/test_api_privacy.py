"""Secrets and PII at rest and in logs: hidden SQL parameters, private data files, idempotent turns."""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.integration.conftest import Api
from tests.integration.test_api_threads import sse_events
from tutormesh.core.db import engine_for
from tutormesh.core.settings import Settings

pytestmark = pytest.mark.integration


async def test_sql_errors_never_carry_their_parameters(profile: Settings, caplog: pytest.LogCaptureFixture) -> None:
    from tutormesh.server.errors import on_unexpected_error
    from tutormesh.tools.store import prepare_database

    prepare_database(profile)
    secret = "my-secret-answer-555-0199"
    with pytest.raises(DBAPIError) as caught, engine_for(profile.sql_url).begin() as conn:
        conn.execute(text("INSERT INTO users (id, username, password_hash, role, created_at) "
                          "VALUES (:id, :name, :hash, 'student', CURRENT_TIMESTAMP)"), {"id": None, "name": secret,
                                                                                       "hash": secret})
    assert "[SQL parameters hidden" in str(caught.value)  # Postgres's DETAIL line may still repeat the row
    caplog.set_level(logging.ERROR, logger="tutormesh")
    response = await on_unexpected_error(None, caught.value)  # type: ignore[arg-type]
    assert response.status_code == 500 and "unhandled" in caplog.text
    assert secret not in caplog.text


def test_data_files_are_private_to_the_server_user(api: Api, isolated_settings: Settings) -> None:
    _, headers, thread = api.student()
    api.say(headers, thread, "practice linear equations")
    data = isolated_settings.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.iterdir() if p.is_file()]
    assert {"tutormesh.db", "checkpoints.db", "jwt_secret"} <= {p.name for p in files}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_a_retried_turn_with_the_same_key_runs_once(api: Api) -> None:
    _, headers, thread = api.student()
    url = f"/v1/threads/{thread}/messages"
    keyed = {**headers, "Idempotency-Key": "turn-1"}
    first = api.client.post(url, headers=keyed, json={"content": "practice linear equations"})
    again = api.client.post(url, headers=keyed, json={"content": "practice linear equations"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    streamed = api.client.post(url, headers={**keyed, "Accept": "text/event-stream"},
                               json={"content": "practice linear equations"})
    assert [name for name, _ in sse_events(streamed.text)] == ["state"]
    assert sse_events(streamed.text)[0][1] == first.json()
    history = api.client.get(f"/v1/threads/{thread}", headers=headers).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]  # one turn, not three
    other = api.client.post(url, headers=keyed, json={"content": "hint"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]["message"]
    bad = api.client.post(url, headers={**headers, "Idempotency-Key": "no spaces allowed"}, json={"content": "hint"})
    assert bad.status_code == 422


def test_a_streamed_turn_with_a_key_is_stored_for_the_retry(api: Api) -> None:
    _, headers, thread = api.student()
    url = f"/v1/threads/{thread}/messages"
    keyed = {**headers, "Idempotency-Key": "sse-1"}
    streamed = api.client.post(url, headers={**keyed, "Accept": "text/event-stream"},
                               json={"content": "practice linear equations"})
    state = [data for name, data in sse_events(streamed.text) if name == "state"][0]
    again = api.client.post(url, headers=keyed, json={"content": "practice linear equations"})
    assert again.json() == state


def test_keys_are_scoped_to_the_user_and_thread(api: Api, start_api: Callable[..., Api]) -> None:
    _, ana, ana_thread = api.student()
    _, ben, ben_thread = api.student()
    keyed = {"Idempotency-Key": "same-key"}
    one = api.client.post(f"/v1/threads/{ana_thread}/messages", headers={**ana, **keyed}, json={"content": "hint"})
    two = api.client.post(f"/v1/threads/{ben_thread}/messages", headers={**ben, **keyed},
                          json={"content": "practice linear equations"})
    assert one.status_code == two.status_code == 200 and one.json()["thread_id"] != two.json()["thread_id"]


def test_logs_of_a_failed_insert_hold_no_answer_text(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tutormesh")
    _, headers, thread = api.student()
    api.say(headers, thread, "practice linear equations, I am Cara at 4 Elm Street")
    assert "Elm Street" not in caplog.text
