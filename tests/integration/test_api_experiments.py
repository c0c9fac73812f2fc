"""A/B experiments over the API: who may read and retire, bad input, the rule's 409, and retirement taking effect."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api
from tutormesh.agents.planner import next_item, stable_bucket
from tutormesh.tools import experiments
from tutormesh.tools.curriculum import load_curriculum

pytestmark = pytest.mark.integration
TOPIC = "slope"


def practise(api: Api, student_id: str, gains: list[float]) -> None:
    """Store graded practice attempts on the topic, in the student's own arm, with these BKT gains."""
    topic = load_curriculum().topic(TOPIC)
    for n, gain in enumerate(gains):
        item = next_item(student_id, topic, {topic.skill: {"p_known": 0.4, "attempts": n}}, {})
        api.services.learner.record_practice(
            student_id=student_id, thread_id=f"t-{student_id}", item=item.model_dump(), answer=item.answer,
            grade={"correct": gain > 0, "reason": "equivalent", "feedback": ""}, p_before=0.4, p_after=0.4 + gain,
            reply="")


def slope_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in rows if r["id"] == TOPIC)


def test_teachers_read_their_cohort_admins_everyone_and_no_student_is_named(api: Api) -> None:
    mine = [api.user("student", "c1") for _ in range(3)]
    theirs = api.user("student", "c2")
    for user in mine:
        practise(api, user["student_id"], [0.05, 0.04])
    practise(api, theirs["student_id"], [0.1, 0.1, 0.1])
    teacher = api.login(api.user("teacher", "c1"))
    admin = api.login(api.user("admin", None))
    _, student_headers, _ = api.student("c1")

    assert api.client.get("/v1/experiments").status_code == 401
    assert api.client.get("/v1/experiments", headers=student_headers).status_code == 403
    seen = api.client.get("/v1/experiments", headers=teacher)
    assert seen.status_code == 200, seen.text
    row = slope_of(seen.json())
    assert row["arms"]["A"]["students"] + row["arms"]["B"]["students"] == 3  # c1 only
    assert row["arms"]["A"]["attempts"] + row["arms"]["B"]["attempts"] == 6
    assert row["verdict"] == "collecting" and row["retired"] is None and row["title"] == "Slope from two points"
    everyone = slope_of(api.client.get("/v1/experiments", headers=admin).json())
    assert everyone["arms"]["A"]["attempts"] + everyone["arms"]["B"]["attempts"] == 9
    for text in (seen.text, api.client.get("/v1/experiments", headers=admin).text):
        for user in [*mine, theirs]:
            assert user["username"] not in text and user["student_id"] not in text
    no_class = api.login(api.user("teacher", "c9"))
    assert api.client.get("/v1/experiments", headers=no_class).json() == []


def test_retiring_needs_an_admin_good_input_and_the_rules_evidence_unless_forced(api: Api) -> None:
    user = api.user("student", "c1")
    practise(api, user["student_id"], [0.02, 0.03])
    admin = api.login(api.user("admin", None))
    teacher = api.login(api.user("teacher", "c1"))
    url = f"/v1/experiments/{TOPIC}/retire"
    assert api.client.post(url, json={"variant": "A"}).status_code == 401
    assert api.client.post(url, headers=teacher, json={"variant": "A"}).status_code == 403
    for bad in ({"variant": "C"}, {}, {"variant": "A", "override": ""}, {"variant": "A", "override": "  "},
                {"variant": "A", "override": "x" * 81}, {"variant": "A", "override": 3}, {"variant": "A", "extra": 1}):
        response = api.client.post(url, headers=admin, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["message"]
    assert api.client.post("/v1/experiments/Not_A_Slug/retire", headers=admin,
                           json={"variant": "A"}).status_code == 422
    missing = api.client.post("/v1/experiments/density/retire", headers=admin, json={"variant": "A"})
    assert missing.status_code == 404 and "density" in missing.json()["error"]["message"]  # no practice data
    refused = api.client.post(url, headers=admin, json={"variant": "B"})
    assert refused.status_code == 409 and "not enough evidence" in refused.json()["error"]["message"]

    forced = api.client.post(url, headers=admin, json={"variant": "B", "override": "B has a typo"})
    assert forced.status_code == 200, forced.text
    body = forced.json()
    assert body["retired"] == "B" and body["forced"] is True and body["evidence"]["verdict"] == "collecting"
    again = api.client.post(url, headers=admin, json={"variant": "A", "override": "and A too"})
    assert again.status_code == 409 and "already retired" in again.json()["error"]["message"]
    assert slope_of(api.client.get("/v1/experiments", headers=teacher).json())["retired"] == "B"
    audit = api.client.get("/v1/audit", headers=admin).json()
    assert any(e["action"] == "retire_variant" and e["target"] == "slope:B:forced:B has a typo" for e in audit)


def test_the_rule_retires_only_the_losing_wording_and_it_stops_being_assigned(api: Api) -> None:
    ids: dict[str, list[str]] = {"A": [], "B": []}
    n = 0
    while min(map(len, ids.values())) < experiments.MIN_STUDENTS:
        sid = f"sim-{n:03d}"
        n += 1
        arm = "AB"[stable_bucket(sid, 2)]
        if len(ids[arm]) < experiments.MIN_STUDENTS:
            ids[arm].append(sid)
    for arm, students in ids.items():
        for k, sid in enumerate(students):
            api.services.learner.ensure_student(sid, sid)
            base = 0.06 if arm == "B" else 0.02
            practise(api, sid, [base + 0.004 * (k % 5 - 2)] * 5)
    admin = api.login(api.user("admin", None))
    row = slope_of(api.client.get("/v1/experiments", headers=admin).json())
    assert row["verdict"] == "retire" and row["loser"] == "A", row
    assert row["difference"]["low"] > 0 and row["arms"]["B"]["attempts"] == 5 * experiments.MIN_STUDENTS
    winner = api.client.post(f"/v1/experiments/{TOPIC}/retire", headers=admin, json={"variant": "B"})
    assert winner.status_code == 409 and "variant A lost" in winner.json()["error"]["message"]
    done = api.client.post(f"/v1/experiments/{TOPIC}/retire", headers=admin, json={"variant": "A"})
    assert done.status_code == 200, done.text
    assert done.json()["forced"] is False and done.json()["evidence"]["loser"] == "A"

    retired = experiments.retired_variants(api.services.learner.sessions)
    topic = load_curriculum().topic(TOPIC)
    assert {next_item(sid, topic, {}, {}, retired=retired).variant for sid in ids["A"]} == {"B"}
    user, headers, thread = api.student("c1")
    while stable_bucket(user["student_id"], 2) != 0:  # a student assigned to the retired arm A
        user, headers, thread = api.student("c1")
    served = api.say(headers, thread, "practice slope")["current_item"]  # a real practice turn
    assert served is not None and served["skill"] == TOPIC
    seed = stable_bucket(f"{user['student_id']}:{TOPIC}", 100_000)
    template = topic.template(served["difficulty"])
    assert served["prompt"] == template.instantiate(seed, "B").prompt != template.instantiate(seed, "A").prompt
