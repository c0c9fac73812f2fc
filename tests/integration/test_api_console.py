"""The console's API: every role and ownership rule on escalations, flags, quizzes, dashboards, admin, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import PASSWORD, Api
from tests.integration.console_helpers import choice_quiz, deadlocked_student, escalation_of
from tutormesh.assessment import events, grading
from tutormesh.core.db import sessionmaker_for

pytestmark = pytest.mark.integration


def test_escalation_loop_closes_with_a_named_human_reply(api: Api) -> None:
    student, student_headers, thread = deadlocked_student(api, "c1")
    teacher = api.login(api.user("teacher", "c1"))
    other_teacher = api.login(api.user("teacher", "c2"))
    tutor_user = api.user("tutor", None)
    tutor = api.login(tutor_user)
    admin = api.login(api.user("admin", None))

    assert api.client.get("/v1/escalations", headers=student_headers).status_code == 403
    assert api.client.get("/v1/escalations", headers=other_teacher).json() == []
    assert api.client.get("/v1/escalations", headers=tutor).json() == []  # serves no cohort yet
    row = escalation_of(api, teacher, student["username"])
    assert row["status"] == "open" and row["cohort"] == "c1" and row["overdue"] is False
    for outsider in (other_teacher, tutor, student_headers):
        assert api.client.get(f"/v1/escalations/{row['id']}", headers=outsider).status_code in (403, 404)
    assert api.client.post(f"/v1/escalations/{row['id']}/claim", headers=other_teacher).status_code == 404

    profile = api.client.put(f"/v1/admin/users/{tutor_user['id']}/staff-profile", headers=admin,
                             json={"display_name": "Ms. Rivera", "cohorts": ["c1", "c3"]})
    assert profile.status_code == 200, profile.text
    detail = api.client.get(f"/v1/escalations/{row['id']}", headers=tutor).json()
    assert detail["thread_id"] == thread and detail["negotiation"]["status"] == "escalated"
    assert [m["type"] for m in detail["negotiation"]["messages"]][-1] == "ESCALATE"
    assert any(m["role"] == "user" and m["content"] == "x = 12345" for m in detail["transcript"])

    not_claimed = api.client.post(f"/v1/escalations/{row['id']}/reply", headers=tutor, json={"content": "Hi"})
    assert not_claimed.status_code == 409
    assert api.client.post(f"/v1/escalations/{row['id']}/claim", headers=tutor).json()["claimed_by"] \
        == tutor_user["username"]
    assert api.client.post(f"/v1/escalations/{row['id']}/claim", headers=teacher).status_code == 409
    assert api.client.post(f"/v1/escalations/{row['id']}/reply", headers=tutor,
                           json={"content": "   "}).status_code == 422
    reply = api.client.post(f"/v1/escalations/{row['id']}/reply", headers=tutor,
                            json={"content": "Let's look at **moving terms** together."})
    assert reply.status_code == 201, reply.text
    assert reply.json()["author"] == "Ms. Rivera" and reply.json()["resumed_graph"] is True

    view = api.client.get(f"/v1/threads/{thread}", headers=student_headers).json()
    last = view["messages"][-1]
    assert last["role"] == "tutor" and last["author"] == "Ms. Rivera" and "moving terms" in last["content"]
    state = api.services.tutor.state(thread)
    human = state["messages"][-1]
    assert human.type == "ai" and human.name == "Ms. Rivera" and human.additional_kwargs["human_tutor"] is True
    assert not api.services.tutor.graph.get_state({"configurable": {"thread_id": thread}}).interrupts

    after = api.say(student_headers, thread, "practice")  # the conversation goes on after the human's reply
    assert after["current_item"] is not None
    assert api.client.post(f"/v1/escalations/{row['id']}/resolve", headers=teacher,
                           json={"reason": "x"}).status_code == 409  # claimed by the tutor
    done = api.client.post(f"/v1/escalations/{row['id']}/resolve", headers=tutor,
                           json={"reason": "Walked through sign changes; plan kept."})
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert api.client.post(f"/v1/escalations/{row['id']}/resolve", headers=admin,
                           json={"reason": "again"}).status_code == 409
    admin_row = escalation_of(api, admin, student["username"])
    assert admin_row["sla_s"] == 3600 and admin_row["first_reply_at"] and admin_row["age_s"] >= 0

    audit = api.client.get("/v1/audit", headers=admin).json()
    actions = {(e["actor"], e["action"], e["student"]) for e in audit}
    assert (tutor_user["username"], "read_escalation", student["username"]) in actions
    assert (tutor_user["username"], "reply_escalation", student["username"]) in actions
    assert api.client.get("/v1/audit", headers=teacher).status_code == 403


def _flagged_submission(api: Api, teacher: dict[str, str], cohort: str) -> tuple[dict, dict, str]:
    quiz = api.client.post("/v1/quizzes", headers=teacher, json={"title": "Explain", "questions": [
        {"kind": "open", "prompt": "How do you solve x + 3 = 5?", "points": 2, "topic": "one-step-equations",
         "spec": {"rubric": {"criteria": [
             {"id": "inverse", "description": "Undo the +3", "points": 1, "keywords": ["subtract|minus"]},
             {"id": "check", "description": "Check", "points": 1, "keywords": ["check|substitute"]}]}}}]}).json()
    assert api.client.post("/v1/assignments", headers=teacher,
                           json={"quiz_id": quiz["id"], "cohort": cohort}).status_code == 201
    student = api.user("student", cohort)
    headers = api.login(student)
    sent = api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=headers,
                           json={"answers": {quiz["questions"][0]["id"]: "I would not subtract 3, then check."}})
    assert sent.status_code == 202, sent.text
    sessions = sessionmaker_for(api.services.settings)
    outcome = grading.grade_submission(sessions, sent.json()["submission_id"])  # what the worker runs
    events.relay(sessions, outcome["event_ids"])
    return quiz, student, sent.json()["submission_id"]


def test_flag_override_updates_result_learner_model_and_item_analysis_once(api: Api) -> None:
    teacher = api.login(api.user("teacher", "c1"))
    quiz, student, submission = _flagged_submission(api, teacher, "c1")
    flags = api.client.get("/v1/flags", headers=teacher).json()
    flag = next(f for f in flags if f["submission_id"] == submission)
    assert flag["student"] == student["username"] and "negat" in flag["reason"]
    assert api.client.get("/v1/flags", headers=api.login(api.user("teacher", "c2"))).json() == []
    assert api.client.get("/v1/flags", headers=api.login(student)).status_code == 403
    skill = "one-step-equations"
    before = api.services.learner.mastery(student["student_id"])[skill]
    report = api.client.get(f"/v1/quizzes/{quiz['id']}/report", headers=teacher).json()["items"][0]
    assert report["pct_correct"] == (100.0 if flag["correct"] else 0.0)

    bad = api.client.post(f"/v1/flags/{flag['id']}/resolve", headers=teacher, json={"reason": "r", "score": 5})
    assert bad.status_code == 422 and "between 0 and 2" in bad.json()["error"]["message"]
    out = api.client.post(f"/v1/flags/{flag['id']}/resolve", headers=teacher,
                          json={"reason": "Full marks: the negation was a typo.", "score": 2}).json()
    assert out["overridden"] and out["correct"] is True and out["submission_score"] == 2
    again = api.client.post(f"/v1/flags/{flag['id']}/resolve", headers=teacher, json={"reason": "r", "score": 0})
    assert again.status_code == 409
    after = api.services.learner.mastery(student["student_id"])[skill]
    assert after["correct"] == before["correct"] + (0 if flag["correct"] else 1)
    assert after["p_known"] >= before["p_known"]
    report = api.client.get(f"/v1/quizzes/{quiz['id']}/report", headers=teacher).json()["items"][0]
    assert report["pct_correct"] == 100.0
    view = api.client.get(f"/v1/submissions/{submission}", headers=api.login(student)).json()
    assert view["score"] == 2 and "Reviewed by your teacher" in view["questions"][0]["feedback"]
    assert api.client.get("/v1/flags", headers=teacher).json() == []


def test_quiz_assign_take_close_and_results_by_username(api: Api) -> None:
    teacher = api.login(api.user("teacher", "c1"))
    quiz = choice_quiz(api, teacher)
    other = api.login(api.user("teacher", "c2"))
    assert [q["id"] for q in api.client.get("/v1/quizzes", headers=teacher).json()] == [quiz["id"]]
    assert api.client.get("/v1/quizzes", headers=other).json() == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    naive = "2030-01-01T10:00:00"
    for body, message in (({"quiz_id": quiz["id"], "cohort": "c1", "due_at": past}, "in the future"),
                          ({"quiz_id": quiz["id"], "cohort": "c1", "due_at": naive}, "time zone"),
                          ({"quiz_id": quiz["id"]}, "exactly one")):
        response = api.client.post("/v1/assignments", headers=teacher, json=body)
        assert response.status_code == 422 and message in response.json()["error"]["message"], response.text
    assert api.client.post("/v1/assignments", headers=other, json={"quiz_id": quiz["id"], "cohort": "c2"}
                           ).status_code == 404
    assert api.client.post("/v1/assignments", headers=teacher, json={"quiz_id": quiz["id"], "cohort": "c2"}
                           ).status_code == 404
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    made = api.client.post("/v1/assignments", headers=teacher, json={"quiz_id": quiz["id"], "cohort": "c1",
                                                                     "due_at": due})
    assert made.status_code == 201 and made.json()["open"] is True

    ana, ben = api.user("student", "c1"), api.user("student", "c1")
    ana_h, ben_h = api.login(ana), api.login(ben)
    mine = api.client.get("/v1/me/assignments", headers=ana_h).json()
    assert [(m["quiz_id"], m["status"]) for m in mine] == [(quiz["id"], "todo")]
    assert api.client.get("/v1/me/assignments", headers=teacher).status_code == 403
    assert api.client.get("/v1/me/assignments", headers=api.login(api.user("student", "c2"))).json() == []
    q1, q2 = (q["id"] for q in quiz["questions"])
    sent = api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=ana_h, json={"answers": {q1: "a", q2: "a"}})
    sessions = sessionmaker_for(api.services.settings)
    events.relay(sessions, grading.grade_submission(sessions, sent.json()["submission_id"])["event_ids"])
    graded = api.client.get("/v1/me/assignments", headers=ana_h).json()[0]
    assert graded["status"] == "graded" and graded["score"] == 2

    closed = api.client.post(f"/v1/assignments/{made.json()['id']}/close", headers=teacher)
    assert closed.status_code == 200 and closed.json()["open"] is False
    assert api.client.post(f"/v1/assignments/{made.json()['id']}/close", headers=other).status_code == 404
    late = api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=ben_h, json={"answers": {q1: "b"}})
    assert late.status_code == 404
    assert api.client.get("/v1/me/assignments", headers=ben_h).json()[0]["status"] == "missed"

    results = api.client.get(f"/v1/quizzes/{quiz['id']}/results", headers=teacher).json()
    assert [(r["student"], r["score"]) for r in results] == [(ana["username"], 2.0)]
    assert api.client.get(f"/v1/quizzes/{quiz['id']}/results", headers=other).status_code == 404
    item = api.client.get(f"/v1/quizzes/{quiz['id']}/report", headers=teacher).json()["items"][0]
    assert item["pct_correct"] == 100.0 and {c["key"]: c["count"] for c in item["choices"]} == {"a": 1, "b": 0, "c": 0}
    bad = api.client.post("/v1/quizzes", headers=teacher, json={"title": "x", "questions": [
        {"kind": "choice", "prompt": "p", "spec": {"choices": {"a": "1", "b": "2"}, "answer": "z"}}]})
    assert bad.status_code == 422 and "must be one of the choice keys" in bad.json()["error"]["message"]


def test_dashboards_and_student_record_are_scoped_to_the_cohort(api: Api) -> None:
    student, headers, _thread = deadlocked_student(api, "c1")
    teacher_user = api.user("teacher", "c1")
    teacher, other = api.login(teacher_user), api.login(api.user("teacher", "c2"))
    board = api.client.get("/v1/dashboards/cohorts/c1", headers=teacher)
    assert board.status_code == 200, board.text
    data = board.json()
    row = next(r for r in data["heatmap"]["students"] if r["student"] == student["username"])
    assert len(row["mastery"]) == len(data["heatmap"]["skills"]) and any(v is not None for v in row["mastery"])
    struggling = next(r for r in data["struggling"] if r["student"] == student["username"])
    assert struggling["open_escalations"] == 1
    assert data["negotiations"]["total"] == 1 and data["negotiations"]["series"]["escalated"][-1] == 1
    assert data["cost"]["students"][0]["monthly_budget_usd"] == 1.0
    assert api.client.get("/v1/dashboards/cohorts/c1", headers=other).status_code == 404
    assert api.client.get("/v1/dashboards/cohorts/c1", headers=headers).status_code == 403
    assert api.client.get("/v1/dashboards/cohorts", headers=teacher).json() == {"cohorts": ["c1"]}

    record = api.client.get(f"/v1/dashboards/students/{student['id']}", headers=teacher)
    assert record.status_code == 200 and record.json()["student"] == student["username"]
    assert record.json()["history"] and record.json()["negotiations"][0]["status"] == "escalated"
    assert api.client.get(f"/v1/dashboards/students/{student['id']}", headers=other).status_code == 404
    admin = api.login(api.user("admin", None))
    entries = api.client.get("/v1/audit", headers=admin, params={"student_id": student["student_id"]}).json()
    assert entries[0]["action"] == "read_student" and entries[0]["actor"] == teacher_user["username"]


def test_roster_import_is_all_or_nothing_with_errors_per_row(api: Api) -> None:
    admin = api.login(api.user("admin", None))
    taken = api.user("student", "c1")["username"]
    csv = ("username,role,cohort,password\nnew-ana,student,9b,\nnew-ben,student,9b,short\n"
           f"{taken},student,9b,\nnew-ana,teacher,9b,\nms-lee,teacher,,\nnew-cy,wizard,9b,\n")
    result = api.client.post("/v1/admin/roster", headers=admin, json={"csv": csv, "apply": True}).json()
    assert result["applied"] is False and result["valid"] == 1
    assert [(e["line"], e["error"].split(":")[0]) for e in result["errors"]] == [
        (3, "password"), (4, "username"), (5, "username"), (6, "cohort"), (7, "role")]
    names = {u["username"] for u in api.client.get("/v1/users", headers=admin).json()}
    assert "new-ana" not in names
    good = "username,role,cohort,display_name\nnew-ana,student,9b,\nms-lee,teacher,9b,Ms. Lee\npool-1,tutor,9b,\n"
    dry = api.client.post("/v1/admin/roster", headers=admin, json={"csv": good}).json()
    assert dry == {"rows": 3, "valid": 3, "errors": [], "applied": False, "created": []}
    applied = api.client.post("/v1/admin/roster", headers=admin, json={"csv": good, "apply": True}).json()
    assert applied["applied"] and all(len(u["password"]) >= 12 for u in applied["created"])
    ana = api.client.post("/v1/auth/token", data={"username": "new-ana", "password": applied["created"][0]["password"]})
    assert ana.status_code == 200
    assert api.client.post("/v1/admin/roster", headers=admin, json={"csv": "name\nx\n"}).status_code == 422
    cohorts = {c["cohort"]: c for c in api.client.get("/v1/admin/cohorts", headers=admin).json()}
    assert cohorts["9b"]["students"] == 1 and cohorts["9b"]["teachers"] == 1 and cohorts["9b"]["tutors"] == 1
    teacher = api.login(api.user("teacher", "c1"))
    assert api.client.post("/v1/admin/roster", headers=teacher, json={"csv": good}).status_code == 403


def test_admin_budget_password_reset_and_health(api: Api) -> None:
    admin = api.login(api.user("admin", None))
    student = api.user("student", "c1")
    budget = api.client.put(f"/v1/admin/users/{student['id']}/budget", headers=admin,
                            json={"daily_usd": 0.5, "monthly_usd": 2})
    assert budget.status_code == 200
    assert api.client.put(f"/v1/admin/users/{student['id']}/budget", headers=admin,
                          json={"daily_usd": 5, "monthly_usd": 2}).status_code == 422
    teacher = api.login(api.user("teacher", "c1"))
    board = api.client.get("/v1/dashboards/cohorts/c1", headers=teacher).json()
    assert board["cost"]["students"][0]["monthly_budget_usd"] == 2
    reset = api.client.patch(f"/v1/users/{student['id']}", headers=admin, json={"password": "a-new-password"})
    assert reset.status_code == 200
    assert api.client.post("/v1/auth/token", data={"username": student["username"], "password": PASSWORD}
                           ).status_code == 401
    health = api.client.get("/v1/admin/health", headers=admin).json()
    assert health["database"] == "ok" and health["users"]["student"] == 1 and health["tutor_ready"] is True
    assert api.client.get("/v1/admin/health", headers=teacher).status_code == 403


def test_docs_pages_load_local_assets(api: Api) -> None:
    docs = api.client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert api.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    redoc = api.client.get("/redoc").text
    assert "/static/vendor/redoc/redoc.standalone.js" in redoc and "fonts.googleapis" not in redoc
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/escalations", "/v1/flags/{flag_id}/resolve", "/v1/me/assignments", "/v1/admin/roster",
                 "/v1/dashboards/cohorts/{cohort}", "/v1/audit", "/v1/threads/{thread_id}/events"):
        assert path in paths
