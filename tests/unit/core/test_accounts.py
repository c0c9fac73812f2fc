"""Accounts store: learner records are linked by id, and deleting a user erases their learner data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.models import LearningSession, Profile, Student, ThreadMessage
from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.tools.store import prepare_database


@pytest.fixture
def accounts(profile: Settings) -> AccountStore:
    prepare_database(profile)
    return AccountStore(sessionmaker_for(profile))


def test_a_new_account_never_inherits_a_deleted_students_records(accounts: AccountStore) -> None:
    old = accounts.create_user("cara", "hash", "student", "9a")
    thread = accounts.create_thread(old["student_id"])
    with accounts.sessions.begin() as s:
        s.add(ThreadMessage(thread_id=thread["thread_id"], role="user", content="I live at 4 Elm St, asthma"))
    accounts.delete_user(old["id"])
    new = accounts.create_user("cara", "hash", "student", "9b")
    assert new["student_id"] != old["student_id"]
    assert accounts.threads(student_id=new["student_id"]) == []
    with accounts.sessions() as s:
        assert s.get(Student, old["student_id"]) is None  # the learner record went with the login
        assert s.scalar(select(func.count()).select_from(ThreadMessage)
                        .where(ThreadMessage.thread_id == thread["thread_id"])) == 0
        assert s.scalar(select(func.count()).select_from(LearningSession)
                        .where(LearningSession.student_id == old["student_id"])) == 0


def test_a_student_account_is_not_linked_to_a_learner_record_by_name(accounts: AccountStore) -> None:
    with accounts.sessions.begin() as s:  # e.g. made by `tutormesh chat --student dev`
        s.add(Student(id="cli-dev", name="dev"))
        s.flush()
        s.add(Profile(student_id="cli-dev"))
    user = accounts.create_user("dev", "hash", "student", None)
    assert user["student_id"] != "cli-dev"


def test_password_change_and_deletion_bump_the_token_version(accounts: AccountStore) -> None:
    user = accounts.create_user("dan", "hash", "teacher", "9a")
    assert user["token_version"] == 0
    assert accounts.update_user(user["id"], cohort="9b")["token_version"] == 0
    assert accounts.update_user(user["id"], password_hash="new")["token_version"] == 1
    assert accounts.update_user(user["id"], role="admin")["token_version"] == 2
