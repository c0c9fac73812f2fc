"""Content review in a real headless Chromium against `tutormesh serve` (its own worker builds the draft).

A teacher uploads a real deck from the console's Content page, watches the progress bar, reviews
the draft beside its slides, has a wrong answer key refused, drops a topic, publishes to their
class and unpublishes. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.live import Live, run_cli, serve
from tests.integration.test_api_content_upload import DECKS
from tests.integration.test_console_browser import PASSWORD, accessible, browser, shot, sign_in

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with the console tests


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A served data dir with a class of one student and its teacher."""
    data = tmp_path_factory.mktemp("content") / "data"
    for name, role in (("mr-rao", "teacher"), ("ana", "student")):
        made = run_cli(data, "user", "add", name, "--role", role, "--cohort", "9a",
                       env={"TUTORMESH_PASSWORD": PASSWORD})
        assert made.returncode == 0, made.stderr
    with serve(data, rate_limit_login="1000/minute") as running:
        yield running


def test_teacher_uploads_reviews_publishes_and_unpublishes_a_deck(live: Live, browser: Any) -> None:
    page = sign_in(browser, live, "mr-rao", width=1300, height=900)
    page.wait_for_url("**/console#/**", timeout=10_000)
    page.get_by_role("link", name="Content", exact=True).click()
    page.wait_for_url("**/console/content", timeout=10_000)
    page.get_by_label("Deck", exact=True).set_input_files(str(DECKS / "ohms_law_circuits.md"))
    page.get_by_label("Subject", exact=True).fill("engineering")
    page.get_by_label("Class", exact=True).fill("9a")
    page.get_by_role("button", name="Upload").click()
    page.locator("#progress-box").wait_for(timeout=10_000)
    page.locator(".review-topic").first.wait_for(timeout=120_000)  # built by the served worker
    assert page.locator("#progress").get_attribute("value") == "100"
    topics = page.locator(".review-topic")
    first = topics.first
    assert first.locator(".slide").count() >= 1 and first.locator(".item").count() == 5
    assert "Slide " in first.locator(".source-side").inner_text()
    shot(page, "content-review")
    accessible(page, "content review")

    item = first.locator(".item").first
    item.locator("summary").click()
    item.get_by_label("Answer key", exact=False).fill("banana")
    item.get_by_role("button", name="Save and verify").click()
    first.locator("p.error").filter(has_text="does not verify").wait_for(timeout=10_000)

    headers = _token(live)
    job = httpx.get(f"{live.url}/v1/content/jobs", headers=headers).json()[0]
    if topics.count() > 1:
        topics.nth(1).get_by_role("button", name="Drop", exact=False).click()
        page.locator(".review-topic.dropped").wait_for(timeout=10_000)
    page.get_by_role("button", name="Publish", exact=True).click()
    page.locator("#toast").filter(has_text="Published").wait_for(timeout=30_000)
    version = httpx.get(f"{live.url}/v1/content/jobs/{job['id']}", headers=headers).json()["versions"][0]
    assert version["status"] == "published" and version["cohort"] == "9a"
    assigned = httpx.get(f"{live.url}/v1/me/assignments", headers=_token(live, "ana")).json()
    assert [a["quiz_id"] for a in assigned] == [version["quiz_id"]]
    shot(page, "content-published")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Unpublish").click()
    page.locator("#toast").filter(has_text="Unpublished").wait_for(timeout=30_000)
    after = httpx.get(f"{live.url}/v1/content/jobs/{job['id']}", headers=headers).json()["versions"][0]
    assert after["status"] == "unpublished"
    page.context.close()


def _token(live: Live, username: str = "mr-rao") -> dict[str, str]:
    response = httpx.post(f"{live.url}/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_the_page_sends_students_back(live: Live, browser: Any) -> None:
    page = sign_in(browser, live, "ana")
    page.get_by_label("Message").wait_for()
    page.goto(live.url + "/console/content")
    page.wait_for_url(f"{live.url}/", timeout=10_000)  # via the console, which sends students to their chat
    page.get_by_label("Message").wait_for()
    page.context.close()
