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
