"""The web chat in a real headless Chromium: sign in, practise, see the reply stream and mastery move."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.integration.conftest import PASSWORD
from tests.integration.live import run_cli, serve

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("TUTORMESH_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-dev-shm-usage"]


@pytest.fixture
def chromium():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright (Playwright's own browser downloads need the internet)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        service_missing("Chromium", FileNotFoundError(CHROMIUM))
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_student_chats_in_the_browser(tmp_path: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    added = run_cli(data, "user", "add", "lina", "--role", "student", "--cohort", "9a",
                    env={"TUTORMESH_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    with serve(data) as live:
        page = chromium.new_page(viewport={"width": 1200, "height": 860})
        page.goto(live.url + "/")
        page.get_by_label("Username").fill("lina")
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("alert").filter(has_text="incorrect username or password").wait_for()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")  # the keyboard works as well as the mouse
        message = page.get_by_label("Message")
        message.wait_for()
        assert page.evaluate("document.activeElement.id") == "message"

        message.fill("practice linear equations")
        message.press("Enter")
        problem = page.locator(".msg.assistant .text").filter(has_text="problem:")
        problem.last.wait_for(timeout=15_000)
        assert page.locator(".msg.user .text").last.inner_text() == "practice linear equations"

        message.fill("x = 12345")
        page.get_by_role("button", name="Send").click()
        page.locator(".msg.assistant .text").filter(has_text="Mastery of").wait_for(timeout=15_000)
        bar = page.locator("#mastery [role=progressbar]").first
        bar.wait_for()
        assert 0 <= int(bar.get_attribute("aria-valuenow") or "-1") <= 100
        assert page.locator("#pace").inner_text() == "Pace: moderate"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser-chat.png"), full_page=True)

        page.reload()  # the conversation comes back from the API
        page.locator(".msg.user .text").filter(has_text="x = 12345").wait_for()
        assert page.locator(".msg").count() == 4


def test_student_changes_settings_and_reads_the_sessions_reflection(tmp_path: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    added = run_cli(data, "user", "add", "ravi", "--role", "student", "--cohort", "9a",
                    env={"TUTORMESH_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    with serve(data) as live:
        page = chromium.new_page(viewport={"width": 1200, "height": 1100})
        page.goto(live.url + "/")
        page.get_by_label("Username").fill("ravi")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        message = page.get_by_label("Message")
        message.wait_for()
        reflections = page.locator("#reflections li")
        reflections.filter(has_text="Say \u201cbye\u201d when you finish").wait_for()
        page.locator("#history-totals").filter(has_text="No practice in the last 30 days yet.").wait_for()

        page.locator("#settings-box summary").click()
        page.get_by_label("Names, money and places from").select_option("india")
        page.get_by_label("Show me first").select_option("worked_example")
        page.get_by_label("Goals").select_option(["two-step-equations"])
        page.get_by_role("button", name="Save settings").click()
        page.get_by_role("status").filter(has_text="Saved.").wait_for()

        message.fill("practice")
        message.press("Enter")
        # The chosen style: the first item comes with a worked example (the goal starts at its first
        # missing prerequisite, so for a new student it is the first topic either way).
        page.locator(".msg.assistant .text").filter(has_text="Worked example").last.wait_for(timeout=15_000)
        page.locator("#send:enabled").wait_for()
        message.fill("x = 12345")
        message.press("Enter")
        page.locator(".msg.assistant .text").filter(has_text="Mastery of").wait_for(timeout=15_000)
        page.locator("#send:enabled").wait_for()  # the reply's stream has ended (the page's CSP forbids eval)
        message.fill("that's all for today")
        message.press("Enter")
        page.locator(".msg.assistant .text").filter(has_text="Bye! See you next time.").wait_for(timeout=15_000)
        shown = reflections.filter(has_text="Answers this session: 1, right: 0.")
        shown.wait_for(timeout=10_000)
        assert "Next time:" in shown.inner_text()
        # The 30-day history follows: one session, one wrong answer, on the topic practised.
        page.locator("#history-totals").filter(has_text="1 session, 1 answer, 0% right").wait_for(timeout=10_000)
        assert "0/1 right" in page.locator("#history-skills li").first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser-settings-reflection.png"), full_page=True)

        page.reload()  # the settings and the reflection come back from the API
        page.get_by_label("Message").wait_for()
        page.locator("#set-culture option[value=india]").wait_for(state="attached")  # the settings loaded
        assert page.get_by_label("Names, money and places from").input_value() == "india"
        assert page.get_by_label("Show me first").input_value() == "worked_example"
        page.locator("#reflections li").filter(has_text="Answers this session: 1").wait_for()


def test_the_panels_speak_the_students_language(tmp_path: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    added = run_cli(data, "user", "add", "sofia", "--role", "student", "--cohort", "9a",
                    env={"TUTORMESH_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    with serve(data) as live:
        page = chromium.new_page(viewport={"width": 1200, "height": 1100})
        page.goto(live.url + "/")
        page.get_by_label("Username").fill("sofia")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        message = page.get_by_label("Message")
        message.wait_for()
        assert page.locator("#mastery-title").inner_text() == "Mastery"  # a new student's profile says English

        message.fill("practicar ecuaciones lineales")  # she writes in Spanish: the panels follow the replies
        message.press("Enter")
        page.locator("#mastery-title").filter(has_text="Dominio").wait_for(timeout=15_000)
        page.locator("#send:enabled").wait_for()
        assert page.evaluate("document.documentElement.lang") == "es"
        assert page.locator("#chat-title").inner_text() == "Tu agente de aprendizaje"
        for _ in range(3):  # three wrong answers: the agent agrees a new plan with the SME agent
            page.get_by_label("Mensaje").fill("x = 12345")
            page.get_by_role("button", name="Enviar").click()
            page.locator("#send:enabled").wait_for(timeout=15_000)
        page.locator("#negotiations li").filter(has_text="acordamos un plan nuevo – ritmo").wait_for(timeout=10_000)
        plan = page.locator("#negotiations li").first.inner_text()
        assert plan.startswith("Ecuaciones de un paso:") and "pace" not in plan, plan
        assert page.locator("#plan-title").inner_text() == "Cambios de plan"
        totals = page.locator("#history-totals").filter(has_text="1 sesión, 3 respuestas, 0% de aciertos")
        totals.wait_for(timeout=10_000)
        assert page.locator("#history-skills li").first.inner_text().startswith("Ecuaciones de un paso 0/3 correctas")
        assert page.locator("#history-title").inner_text() == "Tus últimos 30 días"

        page.locator("#settings-box summary").click()
        page.get_by_label("Idioma").select_option("hi")
        page.get_by_role("button", name="Guardar ajustes").click()
        page.locator("#history-title").filter(has_text="तुम्हारे पिछले 30 दिन").wait_for(timeout=10_000)
        assert page.locator("#mastery-title").inner_text() == "महारत"
        page.locator("#history-skills li").filter(has_text="एक चरण वाले समीकरण").wait_for(timeout=10_000)
        page.locator("#negotiations li").filter(has_text="नई योजना तय हुई").wait_for(timeout=10_000)
        assert page.get_by_role("status").filter(has_text="सहेज लिया").count() == 1
