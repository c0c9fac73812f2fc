"""The console and the chat page in a real headless Chromium, one flow per role, each page checked by axe-core.

One `tutormesh serve` (API, Celery worker, LLM server) serves the whole module; users come from a
CSV roster through `tutormesh user import`. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import service_missing
from tests.integration.live import Live, run_cli, serve
from tests.integration.test_browser import ARGS, ARTIFACTS, CHROMIUM
from tutormesh.core.settings import Settings
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import get_store

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery"
ROSTER = ["ana,student,9a", "ben,student,9a", "cara,student,9a", "dev,student,9b", "mr-rao,teacher,9a",
          "ms-rivera,tutor,", "root,admin,"]
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A served data dir with a class, its teacher, a tutor of the pool and an admin."""
    data = tmp_path_factory.mktemp("console") / "data"
    csv = tmp_path_factory.getbasetemp() / "roster.csv"
    rows = [line.split(",") for line in ROSTER]
    students = [r for r in rows if r[1] != "admin"]
    csv.write_text("username,role,cohort,password\n" + "".join(f"{u},{r},{c},{PASSWORD}\n" for u, r, c in students),
                   encoding="utf-8")
    imported = run_cli(data, "user", "import", str(csv), "--apply")
    assert imported.returncode == 0, imported.stderr
    added = run_cli(data, "user", "add", "root", "--role", "admin", env={"TUTORMESH_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    # The 60% rule in a class of three; sign-ins of a whole class from one address (one test browser).
    with serve(data, reteach_min_answers="3", rate_limit_login="1000/minute") as running:
        running.data_dir = data  # type: ignore[attr-defined]
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        service_missing("Chromium", FileNotFoundError(CHROMIUM))
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def token(live: Live, username: str) -> dict[str, str]:
    """Sign in over HTTP and return the Authorization header."""
    response = httpx.post(f"{live.url}/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def users(live: Live) -> dict[str, dict[str, Any]]:
    """Every user by username (through the admin API)."""
    return {u["username"]: u for u in httpx.get(f"{live.url}/v1/users", headers=token(live, "root")).json()}


def sign_in(browser: Any, live: Live, username: str, *, width: int = 1200, height: int = 860) -> Any:
    """A new browser context signed in through the page's own form."""
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    page.goto(live.url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    return page


def shot(page: Any, name: str) -> None:
    """Save a screenshot under test-artifacts/ (PNG, and a small JPEG fit for docs/screenshots/)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.jpg"), full_page=True, type="jpeg", quality=55)


AXE_RESULTS: dict[str, list[str]] = {}


def accessible(page: Any, name: str) -> None:
    """Run axe-core on the page: no serious or critical violation; the summary is written for the docs."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    AXE_RESULTS[name] = [f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in violations]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-results.json").write_text(json.dumps(AXE_RESULTS, indent=1), encoding="utf-8")
    bad = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in violations
           if v["impact"] in SERIOUS]
    assert not bad, f"{name}: {bad}"


def no_sideways_scroll(page: Any) -> None:
    """At 390 px nothing overflows the viewport sideways (tables scroll inside their own box)."""
    time.sleep(0.5)  # charts resize on the next frame after the viewport changes
    wide = page.evaluate("""(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > 392 && !e.closest('.table-wrap'))
        .slice(0, 5).map((e) => e.tagName + '.' + e.className + '#' + e.id))()""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392, wide


def practise_until_escalated(page: Any) -> None:
    """Three wrong answers in week 14: the student agent escalates to a human tutor."""
    message = page.get_by_label("Message")
    message.fill("practice linear equations")
    message.press("Enter")
    page.locator(".msg.assistant").filter(has_text="problem").last.wait_for(timeout=20_000)
    for n in range(3):
        page.locator("#send:not([disabled])").wait_for()  # the previous reply has finished streaming
        message.fill("x = 12345")
        message.press("Enter")
        page.locator(".msg.assistant").filter(has_text="Not quite").nth(n).wait_for(timeout=20_000)
    page.locator(".msg.assistant").filter(has_text="human tutor").last.wait_for(timeout=20_000)


def week_14(live: Live, username: str) -> None:
    """Put a student in week 14 with 10 topics left: a slower pace no longer fits the semester."""
    settings = Settings(data_dir=live.data_dir)  # type: ignore[attr-defined]
    store = get_store(settings)
    sid = store.student_id_by_name(username)
    assert sid is not None
    today = datetime.now(UTC).date()
    store.plan(sid, "math", today=today)
    store.set_plan(sid, "math", start_date=today - timedelta(weeks=13))
    for topic in load_curriculum().subjects["math"].topics[:10]:
        store.set_mastery(sid, topic.skill, 0.97)


def test_student_page_limits_markdown_and_small_screen(live: Live, browser: Any) -> None:
    page = sign_in(browser, live, "cara", width=390, height=800)
    message = page.get_by_label("Message")
    message.wait_for()
    accessible(page, "chat (390 px)")
    page.get_by_role("button", name="Send").click()
    assert page.locator("#message-error").inner_text() == "Type a message first."
    message.fill("x" * 2001)
    assert page.locator("#message-count").inner_text() == "2001 / 2000 characters"
    assert "Too long by 1 characters" in page.locator("#message-error").inner_text()
    message.press("Enter")
    assert page.locator(".msg.user").count() == 0  # nothing sent, nothing cut off
    message.fill("teach me linear equations")
    message.press("Enter")
    lesson = page.locator(".msg.assistant .text").last
    lesson.locator("h1").wait_for(timeout=20_000)  # the agent's Markdown heading is rendered as a heading
    assert lesson.locator("script, img, iframe").count() == 0
    no_sideways_scroll(page)
    shot(page, "chat-390")
    page.reload()
    page.locator(".msg.assistant").last.wait_for()
    at_bottom = page.evaluate("(() => { const l = document.getElementById('log');"
                              " return l.scrollHeight - l.scrollTop - l.clientHeight; })()")
    assert at_bottom < 5  # opens at the newest message
    colours = page.evaluate("(() => { const s = getComputedStyle(document.documentElement);"
                            " return [s.getPropertyValue('--focus'), s.getPropertyValue('--bad')]; })()")
    assert colours[0].strip() != colours[1].strip()  # the focus ring is not the error red
    page.context.close()


def test_markdown_from_the_model_never_runs_as_html(live: Live, browser: Any) -> None:
    page = sign_in(browser, live, "cara")
    page.get_by_label("Message").wait_for()
    html = page.evaluate("""(() => { const el = document.createElement('div');
        renderMarkdown(el, '**bold** <img src=x onerror="window.pwned=1"> <script>window.pwned=2</script>'
                           + ' [link](javascript:alert(1))');
        return el.innerHTML; })()""")
    assert "<strong>bold</strong>" in html and "<img" not in html and "<script" not in html
    assert "javascript:" not in html and "&lt;img" in html
    assert page.evaluate("window.pwned === undefined")
    page.context.close()


def test_teacher_lands_on_the_dashboard_with_charts(live: Live, browser: Any) -> None:
    page = sign_in(browser, live, "mr-rao")
    page.wait_for_url("**/console#/dashboard**", timeout=10_000)
    page.get_by_role("heading", name="Dashboard: 9a").wait_for()
    page.locator("table.heatmap tbody tr").first.wait_for()
    assert page.locator("table.heatmap tbody th").all_inner_texts() == ["ana", "ben", "cara"]
    assert page.locator("canvas[role=img]").count() == 2
    page.get_by_text("Show as a table").first.click()
    page.get_by_role("region", name="Negotiation outcomes per week (week starting)").wait_for()
    time.sleep(0.3)  # charts draw on the next animation frame
    shot(page, "teacher-dashboard")
    accessible(page, "teacher dashboard")
    page.set_viewport_size({"width": 390, "height": 800})
    no_sideways_scroll(page)
    shot(page, "teacher-dashboard-390")
    page.set_viewport_size({"width": 1200, "height": 860})
    page.get_by_role("link", name="cara").first.click()  # the student's read-only record
    page.get_by_role("heading", name="Student: cara").wait_for()
    page.get_by_role("region", name="Mastery per skill").wait_for()
    page.get_by_role("region", name="Session reflections, newest first").wait_for()  # none yet: "Nothing yet."
    page.get_by_role("heading", name="Last 30 days").wait_for()  # the 30-day summary and why the agent adapted
    page.get_by_role("region", name="Skills practised in the last 30 days").wait_for()
    page.get_by_role("region", name="Why the agent adapted (latest first)").wait_for()
    assert page.locator(".transcript .msg.user").first.inner_text().endswith("teach me linear equations")
    shot(page, "student-record")
    accessible(page, "student record")
    page.context.close()


def test_tutor_answers_an_escalation_and_the_open_chat_shows_it(live: Live, browser: Any) -> None:
    week_14(live, "ana")
    people = users(live)
    admin = token(live, "root")
    profile = httpx.put(f"{live.url}/v1/admin/users/{people['ms-rivera']['id']}/staff-profile", headers=admin,
                        json={"display_name": "Ms. Rivera", "cohorts": ["9a"]})
    assert profile.status_code == 200, profile.text
    student = sign_in(browser, live, "ana")
    student.get_by_label("Message").wait_for()
    practise_until_escalated(student)

    tutor = sign_in(browser, live, "ms-rivera")
    tutor.wait_for_url("**/console#/inbox**", timeout=10_000)
    tutor.get_by_role("link", name="ana").first.click()
    tutor.get_by_role("heading", name="The negotiation that led here").wait_for()
    assert tutor.locator(".steps li").filter(has_text="ESCALATE").count() >= 1
    accessible(tutor, "escalation (tutor)")
    tutor.get_by_role("button", name="Claim").click()
    reply = tutor.get_by_label("Reply to ana")
    reply.fill("Hi ana, I'm **Ms. Rivera**. Let's go through slope together at 4 pm.")
    tutor.get_by_role("button", name="Send reply").click()
    tutor.locator(".transcript .msg.tutor").wait_for(timeout=10_000)
    shot(tutor, "tutor-escalation")

    live_reply = student.locator(".msg.tutor")  # no reload: the thread's event stream brought it
    live_reply.wait_for(timeout=15_000)
    assert "Ms. Rivera" in live_reply.locator(".who-said").inner_text()
    assert "human tutor" in live_reply.locator(".badge").inner_text()
    assert live_reply.locator(".text strong").inner_text() == "Ms. Rivera"
    shot(student, "student-sees-tutor-reply")
    accessible(student, "chat with a tutor reply")
    student.reload()
    student.locator(".msg.tutor").wait_for()  # and on the next load, from the thread's history

    tutor.get_by_label("Resolve with a reason").fill("Explained rise over run; we meet at 4 pm.")
    tutor.get_by_role("button", name="Resolve").click()
    tutor.wait_for_url("**#/inbox")
    tutor.get_by_role("heading", name="Inbox").wait_for()
    accessible(tutor, "inbox")
    student.context.close()
    tutor.context.close()


QUIZ_SPEC = {"title": "Week 5 check", "subject": "math", "questions": [
    {"kind": "choice", "prompt": "2 + 3 * 4 = ?", "topic": "order-of-operations",
     "spec": {"choices": {"a": "20", "b": "14", "c": "24"}, "answer": "b"}},
    {"kind": "symbolic", "prompt": "Solve x + 3 = 5", "topic": "one-step-equations", "spec": {"answer": "x = 2"}}]}


def test_quiz_assigned_taken_graded_and_analysed(live: Live, browser: Any) -> None:
    teacher = sign_in(browser, live, "mr-rao")
    teacher.wait_for_url("**/console#/dashboard**")
    teacher.get_by_role("link", name="Quizzes").click()
    editor = teacher.get_by_label("New quiz (JSON)")
    editor.fill("{not json")
    teacher.get_by_role("button", name="Create quiz").click()
    teacher.get_by_role("alert").filter(has_text="Not valid JSON").wait_for()
    bad = dict(QUIZ_SPEC, questions=[{"kind": "choice", "prompt": "p", "spec": {"choices": {"a": "1"}, "answer": "a"}}])
    editor.fill(json.dumps(bad))
    teacher.get_by_role("button", name="Create quiz").click()
    teacher.get_by_role("alert").filter(has_text="should have at least 2 items").wait_for()
    editor.fill(json.dumps(QUIZ_SPEC))
    teacher.get_by_role("button", name="Create quiz").click()
    teacher.get_by_role("heading", name="Week 5 check").wait_for()
    teacher.get_by_label("Assign to").fill("9a")
    teacher.get_by_label("Due").fill((datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    teacher.get_by_role("button", name="Assign", exact=True).click()
    teacher.get_by_role("cell", name="open", exact=True).wait_for()
    shot(teacher, "teacher-quizzes")
    accessible(teacher, "quizzes")

    for name, answers in (("ben", ("a", "x = 2")), ("cara", ("b", "x = 2")), ("ana", ("a", "x = 8"))):
        student = sign_in(browser, live, name)
        student.get_by_role("button", name="Start: Week 5 check").click()
        student.get_by_label(f"{answers[0]}) ").first.check()
        student.get_by_label("Your answer").fill(answers[1])
        if name == "ben":
            accessible(student, "quiz (student)")
        student.get_by_role("button", name="Hand in").click()
        student.get_by_role("heading", name="Week 5 check:").wait_for(timeout=30_000)
        if name == "ben":
            shot(student, "student-quiz-result")
        student.context.close()

    teacher.get_by_role("link", name="Item analysis and results").click()
    teacher.get_by_role("heading", name="Item analysis: Week 5 check (9a)").wait_for()
    rows = teacher.get_by_role("region", name="Results by student").locator("tbody tr")
    rows.nth(2).wait_for()
    assert rows.locator("th").all_inner_texts() == ["ana", "ben", "cara"]  # usernames, not learner ids
    q1 = teacher.locator("tbody tr").filter(has_text="Q1: 2 + 3 * 4")
    assert "33.3%" in q1.inner_text() and "a) 20: 2" in q1.inner_text()
    assert "yes (67% wrong)" in q1.inner_text()  # the 60% rule fired for Q1
    teacher.get_by_text("Re-teach for Q1").wait_for()
    time.sleep(0.3)
    shot(teacher, "item-analysis")
    accessible(teacher, "item analysis")
    teacher.context.close()


def test_teacher_overrides_a_flagged_grade(live: Live, browser: Any) -> None:
    teacher_h, student_h = token(live, "mr-rao"), token(live, "dev")
    people = users(live)
    httpx.patch(f"{live.url}/v1/users/{people['dev']['id']}", headers=token(live, "root"), json={"cohort": "9a"})
    quiz = httpx.post(f"{live.url}/v1/quizzes", headers=teacher_h, json={"title": "Explain it", "questions": [
        {"kind": "open", "prompt": "How do you solve x + 3 = 5?", "points": 2, "topic": "one-step-equations",
         "spec": {"rubric": {"criteria": [
             {"id": "inverse", "description": "Undo the +3", "points": 1, "keywords": ["subtract|minus"]},
             {"id": "check", "description": "Check", "points": 1, "keywords": ["check|substitute"]}]}}}]}).json()
    assert httpx.post(f"{live.url}/v1/assignments", headers=teacher_h,
                      json={"quiz_id": quiz["id"], "cohort": "9a"}).status_code == 201
    student_h = token(live, "dev")  # re-signed in: now in 9a
    sent = httpx.post(f"{live.url}/v1/quizzes/{quiz['id']}/submissions", headers=student_h,
                      json={"answers": {quiz["questions"][0]["id"]: "I would not subtract 3, then check."}})
    assert sent.status_code == 202, sent.text
    deadline = time.monotonic() + 30
    while httpx.get(f"{live.url}/v1/submissions/{sent.json()['submission_id']}",
                    headers=student_h).json()["status"] != "graded":
        assert time.monotonic() < deadline
        time.sleep(0.2)

    page = sign_in(browser, live, "mr-rao")
    page.wait_for_url("**/console#/dashboard**")
    page.get_by_role("link", name="Inbox").click()
    form = page.get_by_role("form", name="Review answer of dev")
    form.wait_for()
    accessible(page, "inbox with a flag")
    form.get_by_label("Score").fill("2")
    form.get_by_label("Reason").fill("The negation was a typo: full marks.")
    shot(page, "flag-override")
    form.get_by_role("button", name="Set grade").click()
    page.get_by_role("status").filter(has_text="Grade changed to 2 / 2").wait_for()
    view = httpx.get(f"{live.url}/v1/submissions/{sent.json()['submission_id']}", headers=student_h).json()
    assert view["score"] == 2 and "Reviewed by your teacher" in view["questions"][0]["feedback"]
    page.context.close()


def test_admin_imports_a_roster_with_a_bad_row_and_reads_the_audit_log(live: Live, browser: Any) -> None:
    page = sign_in(browser, live, "root")
    page.wait_for_url("**/console#/dashboard**")
    page.get_by_role("link", name="Admin").click()
    roster = page.get_by_label("Roster CSV")
    roster.fill("username,role,cohort\nemma,student,9c\nbad name,student,9c\nfinn,student,\n")
    page.get_by_role("button", name="Import").click()
    page.get_by_text("2 of 3 rows have errors: nothing was imported.").wait_for()
    errors = page.get_by_role("region", name="Rows with errors").locator("tbody tr")
    assert errors.count() == 2 and errors.locator("th").all_inner_texts() == ["3", "4"]
    shot(page, "admin-import-errors")
    accessible(page, "admin")
    assert "emma" not in users(live)
    roster.fill("username,role,cohort\nemma,student,9c\nfinn,student,9c\n")
    page.get_by_role("button", name="Check (dry run)").click()
    page.get_by_text("All 2 rows are valid.").wait_for()
    page.get_by_role("button", name="Import").click()
    page.get_by_role("region", name="Created users (generated passwords are shown only now)").wait_for()
    assert {"emma", "finn"} <= set(users(live))

    form = page.get_by_role("form", name="Add a user")
    form.get_by_label("Username").fill("gia")
    form.get_by_label("Role").select_option("teacher")
    form.get_by_label("Cohort").fill("9c")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Add user").click()
    form.get_by_role("alert").filter(has_text="password").wait_for()  # the API's reason, shown in the form
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Add user").click()
    page.get_by_role("status").filter(has_text="Created teacher gia.").wait_for()
    assert users(live)["gia"]["cohort"] == "9c"

    page.get_by_role("link", name="Audit log").click()
    log = page.get_by_role("region", name="Staff access to student data")
    log.locator("tbody tr").first.wait_for()
    text = log.inner_text()
    assert "ms-rivera" in text and "reply escalation" in text and "ana" in text
    assert "mr-rao" in text and "read cohort dashboard" in text
    shot(page, "audit-log")
    accessible(page, "audit log")
    page.context.close()


def test_sign_in_page_and_docs_work_offline(live: Live, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(live.url + "/")
    page.get_by_role("heading", name="Sign in").wait_for()
    accessible(page, "sign-in")
    outside: list[str] = []
    # Requests that left the machine and came back (a blocked or failed one is not a dependency).
    page.on("requestfinished", lambda r: outside.append(r.url) if not r.url.startswith(live.url) else None)
    page.goto(live.url + "/docs")
    page.get_by_text("/v1/escalations").first.wait_for(timeout=15_000)
    page.goto(live.url + "/redoc")
    page.get_by_role("heading", name="TutorMesh API").first.wait_for(timeout=15_000)
    page.get_by_text("/v1/escalations").first.wait_for()
    assert [u for u in outside if not u.startswith(("data:", "blob:"))] == []
    context.close()


def practise_slope(live: Live, usernames: list[str], attempts: int = 4) -> None:
    """Store graded practice on slope for the students, each in their own A/B arm, as practice turns do."""
    from tutormesh.agents.planner import next_item

    store = get_store(Settings(data_dir=live.data_dir))  # type: ignore[attr-defined]
    topic = load_curriculum().topic("slope")
    for name in usernames:
        sid = store.student_id_by_name(name)
        assert sid is not None
        for n in range(attempts):
            item = next_item(sid, topic, {topic.skill: {"p_known": 0.3 + 0.05 * n, "attempts": n}}, {})
            store.record_practice(student_id=sid, thread_id=f"sim-{sid}", item=item.model_dump(), answer=item.answer,
                                  grade={"correct": True, "reason": "equivalent", "feedback": ""},
                                  p_before=0.3 + 0.05 * n, p_after=0.35 + 0.05 * n + 0.01 * len(name), reply="")


def test_experiments_chart_and_an_admin_retiring_a_wording(live: Live, browser: Any) -> None:
    practise_slope(live, ["ana", "ben", "cara"])
    teacher = sign_in(browser, live, "mr-rao")
    teacher.wait_for_url("**/console#/dashboard**")
    teacher.get_by_role("link", name="Experiments").click()
    teacher.get_by_role("heading", name="A/B experiments").wait_for()
    rows = teacher.get_by_role("region", name="Gain per attempt by arm (students / attempts; mean [95% interval])")
    slope = rows.locator("tbody tr").filter(has_text="Slope from two points")
    slope.wait_for()
    assert "collecting evidence" in slope.inner_text() and "both in use" in slope.inner_text()
    assert teacher.locator("canvas[role=img]").count() == 1
    assert teacher.get_by_role("form", name="Retire a wording").count() == 0  # teachers only read
    assert "ana" not in teacher.locator("main").inner_text()  # counts and means, never a student
    time.sleep(0.3)  # the chart draws on the next animation frame
    shot(teacher, "experiments")
    accessible(teacher, "experiments")
    teacher.context.close()

    admin = sign_in(browser, live, "root")
    admin.wait_for_url("**/console#/dashboard**")
    admin.get_by_role("link", name="Experiments").click()
    admin.get_by_role("heading", name="A/B experiments").wait_for()
    form = admin.get_by_role("form", name="Retire a wording")
    form.get_by_label("Topic").select_option("slope")
    form.get_by_label("Wording").select_option("B")
    form.get_by_role("button", name="Retire").click()
    form.get_by_role("alert").filter(has_text="not enough evidence yet").wait_for()  # the rule says no: 409
    form.get_by_label("Override the rule").check()
    form.get_by_label("Reason").fill("Wording B confuses the units; see the tutors' notes.")
    form.get_by_role("button", name="Retire").click()
    admin.get_by_role("status").filter(has_text="Retired wording B of Slope from two points.").wait_for()
    admin.locator("tbody tr").filter(has_text="Slope from two points").filter(has_text="B retired").wait_for()
    accessible(admin, "experiments (admin)")
    admin.context.close()
    listed = httpx.get(f"{live.url}/v1/experiments", headers=token(live, "mr-rao")).json()
    assert next(e for e in listed if e["id"] == "slope")["retired"] == "B"
