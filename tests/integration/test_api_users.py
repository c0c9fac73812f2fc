"""Roles: admins manage users; teachers see their cohort only; the `user add` command."""

from __future__ import annotations

import io

import pytest

from tests.integration.conftest import PASSWORD, Api
from tutormesh import cli

pytestmark = pytest.mark.integration


def test_admin_creates_lists_changes_and_deletes_users(api: Api) -> None:
    admin = api.login(api.user("admin", None))
    created = api.client.post("/v1/users", headers=admin, json={"username": "new.student", "password": PASSWORD,
                                                                 "role": "student", "cohort": "9a"})
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["role"] == "student" and user["student_id"] and "password_hash" not in user
    listed = api.client.get("/v1/users", headers=admin, params={"cohort": "9a"}).json()
    assert [u["username"] for u in listed] == ["new.student"]
    moved = api.client.patch(f"/v1/users/{user['id']}", headers=admin, json={"cohort": "9b"})
    assert moved.status_code == 200 and moved.json()["cohort"] == "9b"
    changed = api.client.patch(f"/v1/users/{user['id']}", headers=admin, json={"password": "another-pass"})
    assert changed.status_code == 200
    login = api.client.post("/v1/auth/token", data={"username": "new.student", "password": "another-pass"})
    assert login.status_code == 200
    assert api.client.delete(f"/v1/users/{user['id']}", headers=admin).status_code == 204
    assert api.client.delete(f"/v1/users/{user['id']}", headers=admin).status_code == 404


def test_user_input_is_validated(api: Api) -> None:
    admin_user = api.user("admin", None)
    admin = api.login(admin_user)
    base = {"username": "dup", "password": PASSWORD, "role": "teacher"}
    assert api.client.post("/v1/users", headers=admin, json=base).status_code == 201
    duplicate = api.client.post("/v1/users", headers=admin, json=base)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    for body, reason in [({**base, "username": "x", "role": "owner"}, "role"),
                         ({**base, "username": "bad name!"}, "username"),
                         ({**base, "username": "short", "password": "123"}, "password"),
                         ({**base, "username": "ok1", "cohort": "<script>"}, "cohort")]:
        response = api.client.post("/v1/users", headers=admin, json=body)
        assert response.status_code == 422 and reason in response.json()["error"]["message"], response.text
    own = api.client.delete(f"/v1/users/{admin_user['id']}", headers=admin)
    assert own.status_code == 422
    assert api.client.patch("/v1/users/not-an-id", headers=admin, json={}).status_code == 422


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_only_admins_manage_users(api: Api, role: str) -> None:
    headers = api.login(api.user(role))
    response = api.client.get("/v1/users", headers=headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert api.client.post("/v1/users", headers=headers, json={"username": "z", "password": PASSWORD,
                                                               "role": "admin"}).status_code == 403


def test_teachers_see_their_cohort_only(api: Api) -> None:
    mine, _, _ = api.student("7a")
    api.student("7b")
    teacher = api.login(api.user("teacher", "7a"))
    roster = api.client.get("/v1/cohorts/7a/students", headers=teacher)
    assert roster.status_code == 200
    assert [s["student_id"] for s in roster.json()] == [mine["student_id"]]
    assert roster.json()[0]["pace"] == "moderate" and len(roster.json()[0]["threads"]) == 1
    assert api.client.get("/v1/cohorts/7b/students", headers=teacher).status_code == 404
    assert api.client.get("/v1/cohorts/7a/students", headers=api.login(mine)).status_code == 403
    admin = api.login(api.user("admin", None))
    assert len(api.client.get("/v1/cohorts/7b/students", headers=admin).json()) == 1


def test_user_add_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TUTORMESH_PASSWORD", PASSWORD)
    assert cli.main(["user", "add", "maya", "--role", "student", "--cohort", "8c"]) == 0
    assert "created student maya" in capsys.readouterr().out
    monkeypatch.delenv("TUTORMESH_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO("stdin-password\n"))
    assert cli.main(["user", "add", "mr.lee", "--role", "teacher", "--cohort", "8c"]) == 0
    monkeypatch.setenv("TUTORMESH_PASSWORD", PASSWORD)
    assert cli.main(["user", "add", "maya", "--role", "student"]) == 1
    assert "already taken" in capsys.readouterr().err
    monkeypatch.delenv("TUTORMESH_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "weak", "--role", "admin"]) == 1
    assert cli.main(["user", "list", "--cohort", "8c"]) == 0
    listing = capsys.readouterr().out
    assert "maya" in listing and "mr.lee" in listing and "weak" not in listing
