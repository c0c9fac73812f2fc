"""The content review API: roles and ownership, edits re-verified by the grader, publish and unpublish.

Drafts here are built directly (tests/factories.py `make_draft`), so these tests are about the
review and publishing flow; uploads through the parser and the Celery builder are tested in
test_api_content_upload.py.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tests.factories import make_draft
from tests.integration.conftest import Api
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.stores.content import ContentStore
from tutormesh.tools import retrieval
from tutormesh.tools.curriculum import load_curriculum, overlay
from tutormesh.tools.ingest.draft import Draft

pytestmark = pytest.mark.integration


def ready_job(api: Api, user: dict[str, Any], draft: Draft | None = None, cohort: str | None = "c1") -> str:
    """A job whose draft is built, as the builder leaves it."""
    draft = draft or make_draft()
    store = ContentStore(sessionmaker_for(api.services.settings))
    job, created = store.open_job(sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), file_name="deck.md",
                                  size=100, subject=draft.subject, cohort=cohort, created_by=user["id"],
                                  deck=draft.deck.model_dump(mode="json"))
    assert created and store.claim(job["id"]) is not None
    store.finish(job["id"], draft.model_dump(mode="json"))
    return str(job["id"])


def _content_hits(api: Api, job_id: str) -> list[str]:
    store = retrieval.vector_store(api.services.settings)
    return sorted(h.id for h in store.search(retrieval.COLLECTION, np.ones(384, dtype=np.float32) / np.sqrt(384),
                                             k=500, where={"job": job_id}))


def test_only_staff_and_only_the_uploader_or_an_admin_see_a_job(api: Api) -> None:
    owner = api.user("teacher", "c1")
    job = ready_job(api, owner)
    mine, admin = api.login(owner), api.login(api.user("admin", None))
    other, student = api.login(api.user("teacher", "c1")), api.login(api.user("student", "c1"))
    assert api.client.get(f"/v1/content/jobs/{job}").status_code == 401
    for path in (f"/v1/content/jobs/{job}", f"/v1/content/jobs/{job}/draft"):
        assert api.client.get(path, headers=mine).status_code == 200
        assert api.client.get(path, headers=admin).status_code == 200
        assert api.client.get(path, headers=other).status_code == 404  # not revealed
        assert api.client.get(path, headers=student).status_code == 403
    assert [j["id"] for j in api.client.get("/v1/content/jobs", headers=other).json()] == []
    assert job in [j["id"] for j in api.client.get("/v1/content/jobs", headers=admin).json()]
    for verb, path, body in (("patch", "items/math.deck-unit-rates.d1", {"prompt": "Work out {a} + {b} × {c}"}),
                             ("patch", "topics/deck-unit-rates", {"dropped": True}), ("post", "publish", {}),
                             ("post", "unpublish", {})):
        assert getattr(api.client, verb)(f"/v1/content/jobs/{job}/{path}", headers=other, json=body).status_code == 404
        assert getattr(api.client, verb)(f"/v1/content/jobs/{job}/{path}", headers=student,
                                         json=body).status_code == 403
    assert api.client.get("/v1/content/jobs/not-a-job-id", headers=mine).status_code == 422
    assert api.client.get(f"/v1/content/jobs/{uuid.uuid4().hex}", headers=mine).status_code == 404


def test_the_draft_sits_beside_its_slides_and_edits_are_re_verified(api: Api) -> None:
    owner = api.user("teacher", "c1")
    job, headers = ready_job(api, owner), api.login(owner)
    view = api.client.get(f"/v1/content/jobs/{job}/draft", headers=headers).json()
    assert [s["number"] for s in view["draft"]["deck"]["slides"]] == [1, 2, 3]
    assert view["draft"]["topics"][0]["source_slides"] == [1, 2, 3]
    assert view["samples"]["math.deck-unit-rates.d1"]["answer"].lstrip("-").isdigit()
    item = f"/v1/content/jobs/{job}/items/math.deck-unit-rates.d1"

    reworded = api.client.patch(item, headers=headers, json={"prompt": "Work out {a} + {b} × {c}"})
    assert reworded.status_code == 200, reworded.text
    assert reworded.json()["sample"]["prompt"].startswith("Work out ")
    for bad, why in (({"answer": "banana"}, "does not verify"),         # the grader cannot accept it
                     ({"answer": "{(a + b)*c}"}, "equals one of its wrong answers"),  # its own misconception
                     ({"prompt": "Work out {zzz}"}, "zzz"),              # names no parameter
                     ({"drop": True}, "drop its topic 'deck-unit-rates'"), ({}, "nothing to change")):
        refused = api.client.patch(item, headers=headers, json=bad)
        assert refused.status_code == 422 and why in refused.json()["error"]["message"], (bad, refused.text)
    assert api.client.patch(f"/v1/content/jobs/{job}/items/math.nope.d1", headers=headers,
                            json={"prompt": "x"}).status_code == 404
    assert api.client.patch(item, headers=headers, json={"prompt": "x" * 2001}).status_code == 422
    after = api.client.get(f"/v1/content/jobs/{job}/draft", headers=headers).json()
    template = after["draft"]["topics"][0]["topic"]["templates"][0]
    assert template["variants"]["A"] == "Work out {a} + {b} × {c}" and template["answer"] == "{ans}"
    assert [e["changed"] for e in after["edits"]] == [["prompt"]] and after["edits"][0]["by"] == owner["id"]


def test_a_key_the_solver_disagrees_with_is_refused(api: Api) -> None:
    owner = api.user("teacher", "c1")
    job = ready_job(api, owner, make_draft(slug="deck-equations", base="one-step-equations"))
    headers, item = api.login(owner), f"/v1/content/jobs/{job}/items/math.deck-equations.d1"
    wrong = api.client.patch(item, headers=headers, json={"answer": "x = {x + 1}"})  # gradeable, but not the root
    assert wrong.status_code == 422 and "disagrees with the solver" in wrong.json()["error"]["message"], wrong.text
    same = api.client.patch(item, headers=headers, json={"answer": "x = {c - b}"})  # the same root, written otherwise
    assert same.status_code == 200, same.text


def test_publish_reaches_curriculum_index_plans_and_the_class_then_unpublish_takes_it_back(
        api: Api, start_api: Callable[..., Api]) -> None:
    owner = api.user("teacher", "c1")
    job, headers = ready_job(api, owner), api.login(owner)
    assert api.client.post(f"/v1/content/jobs/{job}/publish", headers=headers,
                           json={"cohort": "c2"}).status_code == 404  # not this teacher's class
    published = api.client.post(f"/v1/content/jobs/{job}/publish", headers=headers)
    assert published.status_code == 201, published.text
    version = published.json()
    assert (version["topics"], version["cohort"], version["published_by"]) == (["deck-unit-rates"], "c1", owner["id"])
    assert version["indexed"] == 9 and version["quiz_id"]  # lesson, example, 5 items, the figure, the assignment

    math = load_curriculum().subjects["math"]
    assert "deck-unit-rates" in [t.slug for t in math.topics]
    assert sorted(_content_hits(api, job)) == sorted(
        ["assignment:" + job, "deck-unit-rates:example", "deck-unit-rates:figure:2.0", "deck-unit-rates:lesson",
         *[f"math.deck-unit-rates.d{n}" for n in range(1, 6)]])

    student, student_headers, thread = api.student("c1")
    assigned = api.client.get("/v1/me/assignments", headers=student_headers).json()
    assert [(a["quiz_id"], a["status"], a["questions"]) for a in assigned] == [(version["quiz_id"], "todo", 2)]
    served = api.say(student_headers, thread, "I want to practice unit rates, price per kilogram")
    assert served["topic"] == "deck-unit-rates" and served["current_item"]["skill"] == "deck-unit-rates"
    answer = load_curriculum().item(api.services.tutor.state(thread)["current_item"]["id"]).answer
    assert api.say(student_headers, thread, answer)["last_grade"]["correct"] is True  # graded, mastery stored

    restarted = start_api()  # a restart keeps it, and a lost overlay folder comes back from the database
    shutil.rmtree(overlay.folder_of(api.services.settings.data_dir))
    again = start_api()
    assert "deck-unit-rates" in [t.slug for t in load_curriculum().topics()]
    assert again.client.get(f"/v1/content/jobs/{job}", headers=restarted.login(owner)).json()["versions"][0][
        "status"] == "published"

    gone = api.client.post(f"/v1/content/jobs/{job}/unpublish", headers=headers)
    assert gone.status_code == 200 and gone.json()["unindexed"] == 9
    assert "deck-unit-rates" not in [t.slug for t in load_curriculum().topics()]
    assert _content_hits(api, job) == []
    assert [a["open"] for a in api.client.get("/v1/me/assignments", headers=student_headers).json()] == [False]
    assert api.services.tutor.state(thread)["current_item"]["id"].startswith("math.deck-unit-rates.")
    after = api.say(student_headers, thread, "42")  # the open item's topic is gone: withdrawn, not an error
    assert after["topic"] != "deck-unit-rates"
    assert not (api.services.tutor.state(thread)["current_item"] or {"id": ""})["id"].startswith("math.deck-unit")
    assert api.client.post(f"/v1/content/jobs/{job}/unpublish", headers=headers).status_code == 409
    versions = api.client.get(f"/v1/content/jobs/{job}", headers=headers).json()["versions"]
    assert [(v["status"], v["unpublished_by"]) for v in versions] == [("unpublished", owner["id"])]


def test_dropped_topics_stay_out_and_a_clash_publishes_nothing(api: Api) -> None:
    admin_user = api.user("admin", None)
    admin = api.login(admin_user)
    clash = ready_job(api, admin_user, make_draft(slug="order-of-operations"), cohort=None)
    refused = api.client.post(f"/v1/content/jobs/{clash}/publish", headers=admin)
    assert refused.status_code == 422 and "does not fit the curriculum" in refused.json()["error"]["message"]
    assert overlay.names(api.services.settings.data_dir) == [] and _content_hits(api, clash) == []

    job = ready_job(api, admin_user, cohort=None)
    drop = api.client.patch(f"/v1/content/jobs/{job}/topics/deck-unit-rates", headers=admin, json={"dropped": True})
    assert drop.json() == {"dropped_topics": ["deck-unit-rates"]}
    nothing = api.client.post(f"/v1/content/jobs/{job}/publish", headers=admin)
    assert nothing.status_code == 422 and "every topic" in nothing.json()["error"]["message"]
    api.client.patch(f"/v1/content/jobs/{job}/topics/deck-unit-rates", headers=admin, json={"dropped": False})
    first = api.client.post(f"/v1/content/jobs/{job}/publish", headers=admin).json()
    assert first["quiz_id"] is None and first["assignment_id"] is None  # no class named: no assignment
    second = api.client.post(f"/v1/content/jobs/{job}/publish", headers=admin).json()  # republish replaces
    versions = api.client.get(f"/v1/content/jobs/{job}", headers=admin).json()["versions"]
    assert [(v["id"], v["status"]) for v in versions] == [(second["id"], "published"), (first["id"], "unpublished")]
    assert len(_content_hits(api, job)) == 9
