"""Export and erasure of one student across every store, on the embedded profile and on Postgres + Redis.

The student is created and chats through the API like a real one; the admin exports and erases them
through the API; then the scan of every store, and a raw read of the embedded files, find nothing.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.conftest import Api
from tutormesh.core import privacy
from tutormesh.core.settings import Settings
from tutormesh.core.stores.cache import open_cache, scope_of
from tutormesh.core.stores.ledger import get_ledger

pytestmark = pytest.mark.integration


@pytest.fixture(params=["embedded", pytest.param("postgres+redis", marks=pytest.mark.postgres)])
def erasure_api(request: pytest.FixtureRequest, start_api: Callable[..., Api]) -> Api:
    """The API on SQLite files, or on Postgres (SQL and checkpoints) with the Redis cache and rate limits."""
    if request.param == "embedded":
        return start_api(llm_enabled="false")
    postgres = request.getfixturevalue("fresh_postgres_url")
    redis_url = request.getfixturevalue("redis_url")
    return start_api(llm_enabled="false", database_url=postgres, cache_url=redis_url, jwt_secret="s" * 40,
                     cache_key_prefix=f"tm:test-privacy:{uuid.uuid4().hex[:8]}", rate_limit_storage_url=redis_url)


def _chat_as_a_student(api: Api, phrase: str) -> tuple[dict[str, Any], str]:
    user, headers, thread_id = api.student()
    api.say(headers, thread_id, "I want to practice linear equations")
    api.say(headers, thread_id, "x = 987654")
    api.say(headers, thread_id, f"why does the {phrase} rule flip the sign?")
    return user, thread_id


def test_export_then_erase_reaches_every_store(erasure_api: Api) -> None:
    api, settings = erasure_api, erasure_api.services.settings
    phrase = f"zorblax{uuid.uuid4().hex[:6]}"
    user, thread_id = _chat_as_a_student(api, phrase)
    bystander, _ = _chat_as_a_student(api, f"quuxle{uuid.uuid4().hex[:6]}")
    student_id = user["student_id"]
    question = f"why does the {phrase} rule flip the sign?"
    open_cache(settings).put(scope_of("linear-equations", "en", "us"), question, np.ones(384, np.float32) / 384 ** 0.5,
                             f"An answer that mentions {phrase}.")  # as an earlier LLM answer would have
    get_ledger(settings).record(student_id, "gemma3-270m", 1_000, 200, purpose="explain")
    admin = api.login(api.user("admin", None))

    exported = api.client.get(f"/v1/admin/students/{user['username']}/export", headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    data = json.loads(zipfile.ZipFile(io.BytesIO(exported.content)).read("student.json"))["data"]
    assert data["account"]["username"] == user["username"] and "password_hash" not in data["account"]
    assert any(phrase in m["content"] for m in data["thread_messages"])
    assert [a["answer"] for a in data["attempts"]] == ["x = 987654"]
    assert data["llm_ledger"][0]["tokens_in"] == 1_000
    assert thread_id in data["checkpoints"] and data["checkpoints"][thread_id]["values"]["messages"]
    assert data["semantic_cache"] and data["mastery"] and data["threads"]

    who = privacy.find_subject(api.services.learner.sessions, user["username"])
    before, _ = privacy.scan(who, settings)
    assert {f.store for f in before} >= {"sql", "checkpoints", "semantic_cache"}, before

    erased = api.client.delete(f"/v1/admin/students/{user['username']}", headers=admin)
    assert erased.status_code == 200, erased.text
    report = erased.json()
    assert report["findings"] == []
    assert report["removed"]["thread_messages"] >= 6 and report["removed"]["users"] == 1
    assert report["removed"]["semantic_cache"] == 1 and report["removed"]["checkpoint_threads"] == 1
    assert report["deidentified"]["llm_ledger"] == 1
    after, _ = privacy.scan(who, settings)
    assert after == []
    # Kept: the spend, under a pseudonym; the audit row has counts only.
    assert get_ledger(settings).spend(f"erased:{report['reference']}").calls == 1
    # Gone for the API too: their login no longer works, and a second erasure finds nobody.
    login = api.client.post("/v1/auth/token", data={"username": user["username"], "password": "x" * 12})
    assert login.status_code == 401
    assert api.client.delete(f"/v1/admin/students/{user['username']}", headers=admin).status_code == 404
    # The other student is untouched.
    assert privacy.find_subject(api.services.learner.sessions, bystander["username"]).thread_ids
    if not settings.database_url:
        for path in Path(settings.data_dir).glob("*.db*"):
            raw = path.read_bytes()
            assert phrase.encode() not in raw and student_id.encode() not in raw, path.name


def test_only_admins_and_known_students(api: Api) -> None:
    teacher = api.login(api.user("teacher"))
    user, _headers, _thread = api.student()
    assert api.client.get(f"/v1/admin/students/{user['username']}/export", headers=teacher).status_code == 403
    assert api.client.delete(f"/v1/admin/students/{user['username']}", headers=teacher).status_code == 403
    admin = api.login(api.user("admin", None))
    missing = api.client.get("/v1/admin/students/nobody-here/export", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.client.delete("/v1/admin/students/bad%20name!", headers=admin).status_code == 422
    not_student = api.client.delete(f"/v1/admin/students/{api.user('teacher')['username']}", headers=admin)
    assert not_student.status_code == 404


def test_the_cli_exports_and_erases(api: Api, isolated_settings: Settings, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from tutormesh import cli

    user, _thread = _chat_as_a_student(api, f"frobnic{uuid.uuid4().hex[:6]}")
    out = tmp_path / "ana.zip"
    assert cli.main(["student", "export", user["username"], "--out", str(out)]) == 0
    assert "student.json" in zipfile.ZipFile(out).namelist()
    assert cli.main(["student", "export", user["username"], "--out", str(out)]) == 1  # no silent overwrite
    assert cli.main(["student", "erase", user["username"]]) == 2  # needs --yes
    capsys.readouterr()
    assert cli.main(["student", "erase", user["username"], "--yes"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["findings"] == [] and "no trace" in printed.err
    assert cli.main(["student", "erase", user["username"], "--yes"]) == 1
