"""Every endpoint, walked by every role: who may read or write what (students, cohorts, admins).

The world: cohort 9a has student Ana (a thread, an open escalation, a graded quiz submission with an
open review flag) and her teacher; 9b has student Ben and his teacher; one teacher has no cohort; one
admin. Every `/v1` route is in the walk (`test_the_walk_covers_every_route` fails for one that is not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.factories import make_draft
from tests.integration.conftest import Api
from tutormesh.assessment.grading import grade_submission
from tutormesh.content import jobs
from tutormesh.core.models import Escalation
from tutormesh.core.models.assessment import ReviewFlag
from tutormesh.server.routes import thread_events

pytestmark = pytest.mark.integration
ROLES = ["student", "other_student", "teacher", "other_teacher", "teacher_without_cohort", "admin", "anonymous"]
QUIZ = {"title": "Check", "questions": [{"kind": "choice", "prompt": "2 + 3 * 4 = ?",
                                         "spec": {"choices": {"a": "20", "b": "14"}, "answer": "b"}}]}


@dataclass
class World:
    api: Api
    headers: dict[str, dict[str, str]]
    ana: dict[str, Any]
    thread: str
    quiz: str
    submission: str
    spare_user: str
    teacher_id: str
    escalation: int
    flag: int
    assignment: int
    erasable: str
    job: str
    template: str
    prompt: str


def build(api: Api) -> World:
    ana, ben = api.user("student", "9a"), api.user("student", "9b")
    users = {"student": ana, "other_student": ben, "teacher": api.user("teacher", "9a"),
             "other_teacher": api.user("teacher", "9b"), "teacher_without_cohort": api.user("teacher", None),
             "admin": api.user("admin", None)}
    headers = {role: api.login(user) for role, user in users.items()} | {"anonymous": {}}
    thread = api.client.post("/v1/threads", headers=headers["student"]).json()["thread_id"]
    api.say(headers["student"], thread, "practice linear equations")
    quiz = api.client.post("/v1/quizzes", headers=headers["teacher"], json=QUIZ).json()
    assigned = api.client.post(f"/v1/quizzes/{quiz['id']}/assignments", headers=headers["teacher"],
                               json={"cohort": "9a"})
    assert assigned.status_code == 201
    sent = api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=headers["student"],
                           json={"answers": {quiz["questions"][0]["id"]: "a"}}).json()
    grade_submission(api.services.accounts.sessions, sent["submission_id"])
    with api.services.accounts.sessions.begin() as s:
        flag = ReviewFlag(submission_id=sent["submission_id"], question_id=quiz["questions"][0]["id"],
                          quiz_id=quiz["id"], reason="low confidence")
        escalation = Escalation(student_id=ana["student_id"], reason="stuck after three tries")
        s.add_all([flag, escalation])
        s.flush()
        flag_id, escalation_id = flag.id, escalation.id
    spare, erasable = api.user("student", "9a"), api.user("student", "9a")
    # A content draft the 9a teacher uploaded, built (as the worker would) and not yet published.
    draft, content = make_draft(slug="deck-scope"), jobs.store_of(api.services.settings)
    job, _ = content.open_job(sha256="b" * 64, file_name="unit-rates.md", size=1, subject="math", cohort=None,
                              created_by=users["teacher"]["id"], deck=draft.deck.model_dump(mode="json"))
    assert content.claim(job["id"]) is not None
    content.finish(job["id"], draft.model_dump(mode="json"))
    return World(api, headers, ana, thread, quiz["id"], sent["submission_id"], spare["id"], users["teacher"]["id"],
                 escalation_id, flag_id, assigned.json()["id"], erasable["username"], job["id"],
                 draft.topics[0].topic.templates[0].id, draft.topics[0].topic.templates[0].variants["A"])


def expect(**by_role: int) -> dict[str, int]:
    """Statuses per role: signed-out callers get 401 unless listed."""
    return {"anonymous": 401, **by_role}


EVERYONE_SIGNED_IN = {r: 200 for r in ROLES if r != "anonymous"}
STAFF_ONLY = {"student": 403, "other_student": 403}
ADMIN_ONLY = {"student": 403, "other_student": 403, "teacher": 403, "other_teacher": 403,
              "teacher_without_cohort": 403}
STAFF_SEE_ALL = {r: 200 for r in ("teacher", "other_teacher", "teacher_without_cohort", "admin")}
# A record of cohort 9a: its teacher and admins reach it; the other cohort's teacher and a teacher with no
# cohort get 404 (its existence is not revealed); students are not staff.
COHORT_9A = {**STAFF_ONLY, "teacher": 200, "other_teacher": 404, "teacher_without_cohort": 404, "admin": 200}
STUDENTS_ONLY = {"student": 200, "other_student": 200, "teacher": 403, "other_teacher": 403,
                 "teacher_without_cohort": 403, "admin": 403}
ROSTER = "username,role,cohort,password\nnew-kid,student,9a,long-enough-pw\n"
DECK = ("# Unit rates\n\nA unit rate is a rate for one unit.\n\n## Practice\n\n"
        "Exercise: Solve 3x + 5 = 20. Answer: x = 5\n")


def cases(w: World) -> list[tuple[str, str, dict[str, Any], dict[str, int]]]:
    """(method, path, request kwargs, expected status per role); destructive calls come last."""
    ana_student, ana_id, esc = w.ana["student_id"], w.ana["id"], w.escalation
    return [
        ("GET", "/v1/health", {}, {r: 200 for r in ROLES}),
        ("POST", "/v1/auth/token", {"data": {"username": "nobody", "password": "wrong-password"}},
         {r: 401 for r in ROLES}),
        ("GET", "/v1/auth/me", {}, expect(**EVERYONE_SIGNED_IN)),
        ("POST", "/v1/auth/password", {"json": {"current_password": "wrong-password", "new_password": "x" * 12}},
         expect(**{r: 401 for r in EVERYONE_SIGNED_IN})),
        ("GET", "/v1/threads", {}, expect(**EVERYONE_SIGNED_IN)),
        ("GET", f"/v1/threads/{w.thread}", {}, expect(student=200, other_student=404, teacher=200, other_teacher=404,
                                                     teacher_without_cohort=404, admin=200)),
        ("GET", f"/v1/threads/{w.thread}/events", {}, expect(
            student=200, other_student=404, teacher=200, other_teacher=404, teacher_without_cohort=404, admin=200)),
        ("POST", f"/v1/threads/{w.thread}/messages", {"json": {"content": "hint"}},
         expect(student=200, other_student=404, teacher=403, other_teacher=404, teacher_without_cohort=404,
                admin=403)),
        ("GET", "/v1/cohorts/9a/students", {}, expect(**COHORT_9A)),
        ("GET", f"/v1/quizzes/{w.quiz}", {}, expect(student=200, other_student=404, teacher=200, other_teacher=200,
                                                    teacher_without_cohort=200, admin=200)),
        ("GET", f"/v1/quizzes/{w.quiz}/analysis", {}, expect(**STAFF_ONLY, teacher=200, other_teacher=200,
                                                             teacher_without_cohort=404, admin=200)),
        ("GET", f"/v1/quizzes/{w.quiz}/analysis?cohort=9a", {}, expect(**COHORT_9A)),
        ("GET", f"/v1/quizzes/{w.quiz}/flags", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        ("GET", f"/v1/submissions/{w.submission}", {}, expect(
            student=200, other_student=404, teacher=200, other_teacher=404, teacher_without_cohort=404, admin=200)),
        ("GET", f"/v1/submissions/{w.submission}/events", {}, expect(
            student=200, other_student=404, teacher=200, other_teacher=404, teacher_without_cohort=404, admin=200)),
        ("GET", "/v1/users", {}, expect(**ADMIN_ONLY, admin=200)),
        # the console: lists are scoped (each teacher sees their cohort's rows), records are 404 outside it
        ("GET", "/v1/quizzes", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        ("GET", f"/v1/quizzes/{w.quiz}/results", {}, expect(**COHORT_9A)),
        # a teacher with no cohort has none to report on: asked to name one
        ("GET", f"/v1/quizzes/{w.quiz}/report", {}, expect(**COHORT_9A | {"teacher_without_cohort": 422})),
        ("GET", f"/v1/quizzes/{w.quiz}/report?cohort=9a", {}, expect(**COHORT_9A)),
        ("GET", "/v1/me/assignments", {}, expect(student=200, other_student=200, teacher=403, other_teacher=403,
                                                 teacher_without_cohort=403, admin=403)),
        ("GET", "/v1/me/profile", {}, expect(**STUDENTS_ONLY)),
        ("PATCH", "/v1/me/profile", {"json": {"goals": []}}, expect(**STUDENTS_ONLY)),
        ("GET", "/v1/me/reflections", {}, expect(**STUDENTS_ONLY)),
        ("GET", "/v1/page-text/es", {}, expect(**EVERYONE_SIGNED_IN)),  # the chat page's labels: nobody's data
        ("GET", f"/v1/students/{ana_id}/reflections", {}, expect(**COHORT_9A)),
        ("GET", "/v1/experiments", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        # content jobs are their uploader's (and admins'): other staff get 404
        ("GET", "/v1/content/jobs", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        ("GET", f"/v1/content/jobs/{w.job}", {}, expect(**COHORT_9A)),
        ("GET", f"/v1/content/jobs/{w.job}/events", {}, expect(**COHORT_9A)),
        ("GET", f"/v1/content/jobs/{w.job}/draft", {}, expect(**COHORT_9A)),
        ("GET", "/v1/escalations", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        ("GET", f"/v1/escalations/{esc}", {}, expect(**COHORT_9A)),
        ("GET", "/v1/flags", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        ("GET", "/v1/dashboards/cohorts", {}, expect(**STAFF_ONLY, **STAFF_SEE_ALL)),
        ("GET", "/v1/dashboards/cohorts/9a", {}, expect(**COHORT_9A)),
        ("GET", f"/v1/dashboards/students/{ana_id}", {}, expect(**COHORT_9A)),
        ("GET", "/v1/admin/cohorts", {}, expect(**ADMIN_ONLY, admin=200)),
        ("GET", "/v1/admin/health", {}, expect(**ADMIN_ONLY, admin=200)),
        ("GET", f"/v1/admin/users/{w.teacher_id}/staff-profile", {}, expect(**ADMIN_ONLY, admin=200)),
        ("GET", "/v1/admin/cost-alerts", {}, expect(**ADMIN_ONLY, admin=200)),
        ("GET", "/v1/audit", {}, expect(**ADMIN_ONLY, admin=200)),
        ("GET", f"/v1/admin/students/{w.ana['username']}/export", {}, expect(**ADMIN_ONLY, admin=200)),
        ("POST", "/v1/admin/roster", {"json": {"csv": ROSTER}}, expect(**ADMIN_ONLY, admin=200)),  # a dry run
        ("POST", "/v1/threads", {}, expect(student=201, other_student=201, teacher=403, other_teacher=403,
                                           teacher_without_cohort=403, admin=403)),
        ("POST", "/v1/quizzes", {"json": QUIZ}, expect(**STAFF_ONLY, teacher=201, other_teacher=201,
                                                       teacher_without_cohort=201, admin=201)),
        ("POST", f"/v1/quizzes/{w.quiz}/assignments", {"json": {"cohort": "9a"}}, expect(
            **STAFF_ONLY, teacher=201, other_teacher=403, teacher_without_cohort=403, admin=201)),
        ("POST", f"/v1/quizzes/{w.quiz}/assignments", {"json": {"student_id": ana_student}}, expect(
            **STAFF_ONLY, teacher=201, other_teacher=404, teacher_without_cohort=404, admin=201)),
        ("POST", "/v1/assignments", {"json": {"quiz_id": w.quiz, "cohort": "9a"}},
         expect(**COHORT_9A | {"teacher": 201, "admin": 201})),
        ("POST", f"/v1/quizzes/{w.quiz}/submissions", {"json": {"answers": {}}}, expect(
            student=409, other_student=404, teacher=403, other_teacher=403, teacher_without_cohort=403, admin=403)),
        ("POST", "/v1/content/uploads", {"files": {"file": ("deck.md", DECK.encode(), "text/markdown")},
                                          "data": {"subject": "math"}},
         expect(**STAFF_ONLY, teacher=201, other_teacher=201, teacher_without_cohort=201, admin=201)),
        ("PATCH", f"/v1/content/jobs/{w.job}/items/{w.template}", {"json": {"prompt": w.prompt}},
         expect(**COHORT_9A)),
        ("PATCH", f"/v1/content/jobs/{w.job}/topics/deck-scope", {"json": {"dropped": False}},
         expect(**COHORT_9A)),
        ("POST", "/v1/experiments/one-step-equations/retire", {"json": {"variant": "A"}},
         expect(**ADMIN_ONLY, admin=404)),  # no practice data on that topic yet
        ("POST", f"/v1/content/jobs/{w.job}/publish", {}, expect(**COHORT_9A | {"teacher": 201, "admin": 201})),
        ("POST", f"/v1/content/jobs/{w.job}/unpublish", {}, expect(**COHORT_9A)),
        ("POST", f"/v1/escalations/{esc}/claim", {}, expect(**COHORT_9A)),
        ("POST", f"/v1/escalations/{esc}/reply", {"json": {"content": "Let's look at step two together."}},
         expect(**COHORT_9A | {"teacher": 201, "admin": 201})),
        ("POST", f"/v1/escalations/{esc}/resolve", {"json": {"reason": "answered"}}, expect(**COHORT_9A)),
        ("POST", f"/v1/flags/{w.flag}/resolve", {"json": {"reason": "the grade stands"}}, expect(**COHORT_9A)),
        ("POST", f"/v1/assignments/{w.assignment}/close", {}, expect(**COHORT_9A)),
        ("POST", "/v1/users", {"json": {"username": "made-here", "password": "long-enough-pw", "role": "teacher"}},
         expect(**ADMIN_ONLY, admin=201)),
        ("PATCH", f"/v1/users/{ana_id}", {"json": {"cohort": "9a"}}, expect(**ADMIN_ONLY, admin=200)),
        ("POST", f"/v1/users/{ana_id}/unlock", {}, expect(**ADMIN_ONLY, admin=200)),
        ("PUT", f"/v1/admin/users/{ana_id}/budget", {"json": {"daily_usd": 1, "monthly_usd": 10}},
         expect(**ADMIN_ONLY, admin=200)),
        ("PUT", f"/v1/admin/users/{w.teacher_id}/staff-profile", {"json": {"display_name": "Ms Rivera"}},
         expect(**ADMIN_ONLY, admin=200)),
        ("PUT", f"/v1/admin/students/{w.ana['username']}/consent", {"json": {"dob_band": "adult"}},
         expect(**ADMIN_ONLY, admin=200)),
        ("DELETE", f"/v1/users/{w.spare_user}", {}, expect(**ADMIN_ONLY, admin=204)),
        ("DELETE", f"/v1/admin/students/{w.erasable}", {}, expect(**ADMIN_ONLY, admin=200)),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_each_role_as_its_scope_allows(start_api: Any, role: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thread_events, "STREAM_SECONDS", 0.0)  # the reply stream would stay open for minutes
    w = build(start_api(llm_enabled="false"))
    failures = []
    for method, path, kwargs, statuses in cases(w):
        response = w.api.client.request(method, path, headers=w.headers[role], **kwargs)
        if response.status_code != statuses[role]:
            failures.append(f"{method} {path}: {response.status_code} (expected {statuses[role]}) "
                            f"{response.text[:120]}")
    assert not failures, "\n".join(failures)


def test_the_walk_covers_every_route(start_api: Any) -> None:
    w = build(start_api(llm_enabled="false"))
    # routes inside included routers: `app.routes` lists only the routers themselves
    routes = [r for r in iter_route_contexts(w.api.client.app.routes)  # type: ignore[attr-defined]
              if isinstance(r.original_route, APIRoute)]
    walked = set()
    for method, path, _, _ in cases(w):
        walked |= {(method, r.path) for r in routes if method in r.methods and r.path_regex.match(path.split("?")[0])}
    served = {(m, r.path) for r in routes for m in r.methods if r.path.startswith("/v1/")}
    assert len(served) > 40
    assert served - walked == set()


def test_what_each_teacher_sees_is_their_cohort_only(start_api: Any) -> None:
    w = build(start_api(llm_enabled="false"))
    client, h = w.api.client, w.headers
    threads = {role: [t["thread_id"] for t in client.get("/v1/threads", headers=h[role]).json()]
               for role in ("teacher", "other_teacher", "teacher_without_cohort", "admin")}
    assert threads == {"teacher": [w.thread], "other_teacher": [], "teacher_without_cohort": [], "admin": [w.thread]}
    flags = {role: len(client.get(f"/v1/quizzes/{w.quiz}/flags", headers=h[role]).json())
             for role in ("teacher", "other_teacher", "teacher_without_cohort", "admin")}
    assert flags == {"teacher": 1, "other_teacher": 0, "teacher_without_cohort": 0, "admin": 1}
    analysis = client.get(f"/v1/quizzes/{w.quiz}/analysis", headers=h["other_teacher"]).json()
    assert analysis["cohort"] == "9b" and analysis["items"][0]["attempts"] == 0
    ana_only = client.post(f"/v1/quizzes/{w.quiz}/assignments", headers=h["other_teacher"],
                           json={"student_id": w.ana["student_id"]})
    assert ana_only.status_code == 404  # a student of another cohort is not assignable
