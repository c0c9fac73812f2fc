"""Accounts through the API: a new login never inherits an old one; tokens die with a password change."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.integration.conftest import PASSWORD, Api

pytestmark = pytest.mark.integration


def test_a_new_account_with_a_deleted_students_name_sees_nothing_of_hers(api: Api) -> None:
    admin = api.login(api.user("admin", None))
    made = api.client.post("/v1/users", headers=admin, json={"username": "cara", "password": PASSWORD,
                                                              "role": "student", "cohort": "9a"}).json()
    cara = api.login({"username": "cara"})
    thread = api.client.post("/v1/threads", headers=cara).json()["thread_id"]
    api.say(cara, thread, "practice linear equations")
    assert api.client.delete(f"/v1/users/{made['id']}", headers=admin).status_code == 204

    again = api.client.post("/v1/users", headers=admin, json={"username": "cara", "password": PASSWORD,
                                                               "role": "student", "cohort": "9b"})
    assert again.status_code == 201, again.text
    assert again.json()["student_id"] != made["student_id"]
    new_cara = api.login({"username": "cara"})
    assert api.client.get("/v1/threads", headers=new_cara).json() == []
    assert api.client.get(f"/v1/threads/{thread}", headers=new_cara).status_code == 404
    teacher = api.login(api.user("teacher", "9b"))
    assert api.client.get(f"/v1/threads/{thread}", headers=teacher).status_code == 404
    assert api.client.get(f"/v1/threads/{thread}", headers=admin).status_code == 404  # erased, not orphaned
    roster = api.client.get("/v1/cohorts/9b/students", headers=teacher).json()
    assert [r["threads"] for r in roster] == [[]]


def test_an_admin_password_reset_revokes_old_tokens_at_once(api: Api) -> None:
    admin, user = api.login(api.user("admin", None)), api.user()
    old = api.login(user)
    assert api.client.get("/v1/threads", headers=old).status_code == 200  # remembered by the access cache
    reset = api.client.patch(f"/v1/users/{user['id']}", headers=admin, json={"password": "a-new-password"})
    assert reset.status_code == 200
    response = api.client.get("/v1/threads", headers=old)
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_revoked"
    fresh = api.client.post("/v1/auth/token", data={"username": user["username"], "password": "a-new-password"})
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert api.client.get("/v1/threads", headers=headers).status_code == 200


def test_changing_your_own_password_revokes_your_other_tokens(api: Api) -> None:
    user = api.user()
    laptop, phone = api.login(user), api.login(user)
    wrong = api.client.post("/v1/auth/password", headers=laptop,
                            json={"current_password": "not-it-at-all", "new_password": "brand-new-pass"})
    assert wrong.status_code == 401
    changed = api.client.post("/v1/auth/password", headers=laptop,
                              json={"current_password": PASSWORD, "new_password": "brand-new-pass"})
    assert changed.status_code == 200, changed.text
    assert api.client.get("/v1/threads", headers=phone).status_code == 401
    assert api.client.get("/v1/threads", headers=laptop).status_code == 401
    renewed = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert api.client.get("/v1/threads", headers=renewed).status_code == 200


def test_a_password_change_in_another_process_revokes_within_auth_cache_seconds(
        start_api: Callable[..., Api]) -> None:
    api = start_api(auth_cache_seconds="0.3")
    user = api.user()
    headers = api.login(user)
    assert api.client.get("/v1/threads", headers=headers).status_code == 200
    # As another worker would: this process is not told, only the database changes.
    api.services.accounts.update_user(user["id"], password_hash="changed-elsewhere")
    time.sleep(0.35)
    assert api.client.get("/v1/threads", headers=headers).status_code == 401
