"""Issue 5, point 8: the analysts' flow in a real browser (Debian's Chromium, headless, driven by
Playwright's sync API; never a downloaded browser) against the live server.

An analyst logs in, opens the queue, takes a case (assign to me), comments and closes it with a
reason; the same analyst cannot close a case as SAR (the service's refusal is shown); an approver
can. Screenshots of the queue and of the case page are saved under var/e2e/ (CI artifacts).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connections

from cases.models import Case, CaseStatus, Comment, StatusChange
from tests.cases import screens_fixtures
from tests.cases.conftest import make_case
from tests.conftest import REPO
from tests.factories import PASSWORD
from tests.transactions import conftest as transaction_fixtures

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "var" / "e2e"
SAR = "Suspicious activity reported (SAR)"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"
    ),
    # The live server runs in another thread: its writes must be committed to be seen, and the
    # reference data the migrations loaded must be back for the tests that follow.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.timeout(60),
]

# The case a rule hit opens (tests/cases fixtures), on the seed users, with the test exchange rates.
monitored_case = screens_fixtures.monitored_case
seed_users = transaction_fixtures.seed_users
exchange_rates = transaction_fixtures.exchange_rates


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay
    # synchronous (the server answers from its own thread), so Django's guard is lifted here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
        # While Playwright's loop runs, Django keeps this test's database connection per context,
        # not per thread: close it here, or it outlives the test and blocks dropping the database.
        connections.close_all()
    # The live server answers each browser connection in a thread that holds a database
    # connection until the browser hangs up: let them finish before the test database goes.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        "process_request_thread" in thread.name for thread in threading.enumerate()
    ):
        time.sleep(0.05)


def sign_in(browser, live_server, user):
    user.is_staff = True
    user.save()
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#analyst-screens")
    return page


def message(page) -> str:
    return page.locator("ul.messagelist").inner_text()


def close_with(page, reason: str, comment: str) -> None:
    form = page.locator("#status-form")
    form.locator("select[name=status]").select_option("CLOSED")
    form.locator("select[name=reason]").select_option(reason)
    form.locator("textarea[name=comment]").fill(comment)
    form.locator("#change-status").click()
    page.wait_for_load_state()


def test_an_analyst_works_a_case_and_only_an_approver_closes_one_as_sar(
    browser, live_server, analyst, approver, monitored_case
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    case = monitored_case["case"]
    sar_case = make_case(case_id="C-E2E-SAR", priority="P1")

    # The analyst opens the queue from the admin index and finds both cases, unassigned.
    page = sign_in(browser, live_server, analyst)
    page.click("#analyst-screens >> text=Case queue")
    page.wait_for_selector("#result_list")
    page.click(".cbo-tabs >> text=Unassigned")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert re.search(r"C-E2E-SAR.*\n?.*", rows.nth(0).inner_text())  # P1 first, then P2
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    # Takes the rule's case, comments, and closes it with a reason.
    page.click(f"#result_list >> text={case.case_id}")
    page.wait_for_selector("#case-header")
    assert "Suspend PHP 30k" in page.locator("#alerts").inner_text()
    page.click("#assign-to-me")
    page.wait_for_selector("ul.messagelist")
    assert "Case assigned to you." in message(page)
    assert analyst.username in page.locator("#case-assignee").inner_text()
    page.locator("#comment-form textarea[name=body]").fill("Called the customer: salary from a new employer.")
    page.click("#add-comment")
    page.wait_for_selector("ul.messagelist")
    assert "Comment added." in message(page)
    assert "salary from a new employer" in page.locator("#timeline").inner_text()
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)
    close_with(page, "False positive", "Explained by the customer.")
    assert f"Case {case.case_id} is now CLOSED." in message(page)
    assert page.locator("#case-status").get_attribute("data-status") == "CLOSED"
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.assignee == analyst
    assert Comment.objects.filter(case=case, author=analyst).exists()

    # The analyst may not close a case as SAR: the refusal is shown, the case stays open.
    page.goto(f"{live_server.url}/admin/cases/case/{sar_case.pk}/change/")
    close_with(page, SAR, "Structured deposits.")
    assert "needs the approver role" in message(page)
    assert "Only an approver may close a case as SAR." in page.locator("#status-form").inner_text()
    sar_case.refresh_from_db()
    assert sar_case.status == CaseStatus.OPEN

    # An approver can.
    page = sign_in(browser, live_server, approver)
    page.goto(f"{live_server.url}/admin/cases/case/{sar_case.pk}/change/")
    close_with(page, SAR, "SAR filed with the FIU.")
    assert f"Case {sar_case.case_id} is now CLOSED." in message(page)
    sar_case.refresh_from_db()
    assert sar_case.status == CaseStatus.CLOSED
    assert StatusChange.objects.get(case=sar_case, to_status="CLOSED").actor == approver
    assert (SHOTS / "queue.png").stat().st_size > 0
    assert (SHOTS / "case.png").stat().st_size > 0
    assert Case.objects.filter(status=CaseStatus.CLOSED).count() == 2
