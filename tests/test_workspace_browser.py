"""The editors' workspace end to end in headless Chromium, against the real service.

Sign in, paste a seed document, accept two proposals (one after correcting it, partly by
keyboard), reject one by keyboard only, see the accepted facts in the public page, the
timeline API and the feed; edit a fact with a stale version and see the conflict; sign out.
Chromium and the skip rules are the browser tests' (tests/browsing.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browsing import WATCH, Service
from tests.ical_checks import read_everywhere

ROOT = Path(__file__).resolve().parents[1]
# The joint declaration of the first Central Asia + Italy summit (Astana, 30 May 2025).
DECLARATION = (
    ROOT / "tests" / "data" / "documents" / "seed-sources" / "central-asia-italy-summit-2025.txt"
)
NEW_ID = "first-central-asia-italy-summit-2025"
EU_SUMMIT = "first-central-asia-eu-summit-2025"


@pytest.fixture(scope="module")
def service(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    # The Tashkent seeds only: the declaration's facts are new to this service.
    seeds = [ROOT / "seeds" / "seventh-consultative-meeting-2025.yaml"]
    served = Service(tmp_path_factory.mktemp("workspace-service"), seeds)
    yield served
    served.stop()


@pytest.fixture
def page(browser: Any, service: Service) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    # A refused form's page comes with its status (401, 409, 422), which Chromium logs; so
    # is the public pages' missing /favicon.ico.
    refused = re.compile(r"Failed to load resource: .* status of (401|409|422) ")

    def console(message: Any) -> None:
        expected = refused.match(message.text) or message.location.get("url", "").endswith(
            "/favicon.ico"
        )
        if message.type == "error" and not expected:
            problems.append(f"{message.text} at {message.location.get('url')}")

    tab.on("console", console)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.add_init_script(WATCH)
    yield tab
    violations = tab.evaluate("window.__cspViolations")
    context.close()
    assert problems == [] and violations == []


def sign_in(page: Any, service: Service) -> None:
    page.goto(f"{service.url}/edit")
    assert page.url.startswith(f"{service.url}/edit/sign-in")
    page.get_by_label("Write token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    assert "not a valid token" in page.locator("#token-error").inner_text()
    assert page.get_by_label("Write token").get_attribute("aria-invalid") == "true"
    page.get_by_label("Write token").fill(service.token)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{service.url}/edit?notice=signed-in"
    assert "Signed in as editor" in page.locator("header").inner_text()


def tab_to(page: Any, element_id: str, limit: int = 400) -> None:
    """Press Tab until the element with this id has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_review_a_document_edit_a_fact_with_a_stale_version_and_sign_out(
    page: Any, service: Service
) -> None:
    from playwright.sync_api import expect  # here: the module imports without Playwright

    text = DECLARATION.read_text()
    sign_in(page, service)

    # record a fact with the form (refused first, by its field, storing nothing)
    page.get_by_role("link", name="New fact").click()
    fields = {
        "Id (a slug: lowercase letters, digits, hyphens)": EU_SUMMIT,
        "Title (English)": "First Central Asia–EU summit in Samarkand",
        "Title (Russian)": "Первый саммит «Центральная Азия – ЕС» в Самарканде",
        "Summary (English)": "The first summit of the Central Asian states and the EU.",
        "Summary (Russian)": "Первый саммит государств Центральной Азии и ЕС.",
        "Date (EDTF)": "2025-04-03/2025-04-40",
        "Place (English)": "Samarkand",
        "Place (Russian)": "Самарканд",
        "Place's country (ISO code)": "UZ",
        "Participants": "KZ, KG, TJ, TM, UZ, EU",
        "Tags": "central-asia-eu, summit",
    }
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Kind").select_option("summit")
    page.get_by_label("Status").select_option("held")
    page.get_by_role("button", name="Record the fact").click()
    assert page.locator("#date-edtf-error").inner_text() != ""
    summary = page.get_by_role("alert")
    assert "Nothing was stored" in summary.inner_text()
    summary.get_by_role("link", name="Date (EDTF)").click()  # the summary leads to the field
    assert page.evaluate("document.activeElement.id") == "date-edtf"
    assert page.get_by_label("Date (EDTF)").get_attribute("aria-invalid") == "true"
    assert httpx.get(f"{service.url}/api/v1/facts/{EU_SUMMIT}", timeout=30).status_code == 404
    page.get_by_label("Date (EDTF)").fill("2025-04-03/2025-04-04")
    expect(page.locator("#date-edtf-label")).to_have_text("3–4 April 2025")
    page.get_by_role("button", name="Record the fact").click()
    page.wait_for_url("**notice=created**")

    # paste the document
    page.get_by_role("link", name="Add a document").click()
    page.get_by_label("Title").fill(text.split("\n", 1)[0])
    page.get_by_label("Date of the document").fill("2025-05-30")
    page.get_by_label("Language").select_option("ru")
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Read the document").click()
    assert "notice=received" in page.url
    doc_id = page.url.split("/edit/documents/")[1].split("?")[0]
    document = httpx.get(f"{service.url}/api/v1/documents/{doc_id}", timeout=30).json()
    by_date = {p["date"]["edtf"]: p for p in document["proposals"]}
    italy, eu, conference = by_date["2025-05-30"], by_date["2025-04-03/2025-04-04"], by_date["2024"]
    assert italy["match"] is None
    assert eu["match"] == {"fact_id": EU_SUMMIT, "relation": "same"}

    # the queue: open proposals oldest first, with how long each has waited
    page.get_by_role("link", name="Review queue").click()
    rows = page.locator("table.queue tbody tr")
    # (expect waits for the queue's page: a bare count could read the page being left)
    expect(rows).to_have_count(len(document["proposals"]))
    assert re.fullmatch(r"less than a minute|1 minute", rows.first.locator("td").last.inner_text())
    page.go_back()

    # every proposal's evidence is marked in its paragraph
    for p in document["proposals"]:
        paragraph = page.locator(f"#paragraph-{p['evidence']['paragraph']}")
        anchor = paragraph.locator(f"#evidence-{p['id']}")
        assert anchor.count() == 1, p["id"]  # two proposals of one quote share its mark
        shared = anchor.get_attribute("data-mark")
        if shared is None:
            assert anchor.text_content() == p["evidence"]["quote"]
        else:
            assert paragraph.locator(f"mark#{shared}").count() == 1
    assert page.locator(f"#paragraph-2 mark#evidence-{italy['id']}").count() == 1

    # correct the Italy summit: the date's label follows what is typed
    pid = italy["id"]
    card = page.locator(f"#proposal-{pid}")
    date = card.get_by_label("Date (EDTF)")
    date.fill("2025-05")
    expect(page.locator(f"#{pid}-date-edtf-label")).to_have_text("May 2025")
    date.fill("2025-05-30")
    expect(page.locator(f"#{pid}-date-edtf-label")).to_have_text("30 May 2025")
    card.get_by_label("Fact id (a slug)").fill(NEW_ID)
    card.get_by_label("Kind").select_option("summit")
    # then by keyboard: the English title and summary, and the Accept button
    card.get_by_label("Fact id (a slug)").focus()
    tab_to(page, f"{pid}-title-en")
    page.keyboard.press("Control+A")
    page.keyboard.type("First Central Asia–Italy summit")
    tab_to(page, f"{pid}-summary-en")
    page.keyboard.type("The leaders of Central Asia and Italy met in Astana.")
    accept = card.get_by_role("button", name="Accept")
    for _ in range(40):
        page.keyboard.press("Tab")
        if accept.evaluate("b => b === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Accept button")
    page.keyboard.press("Enter")
    page.wait_for_url("**notice=accepted**")
    assert page.url.endswith(f"?notice=accepted#proposal-{pid}")
    assert page.locator("p.notice").inner_text() == "The proposal was accepted."
    assert "Accepted" in page.locator(f"#proposal-{pid}").inner_text()

    # accept the EU summit as it is (the same stored fact: it cites the document)
    eu_card = page.locator(f"#proposal-{eu['id']}")
    assert "is the same" in eu_card.inner_text()
    eu_card.get_by_role("button", name="Accept (cite it)").click()
    page.wait_for_url("**notice=accepted**")

    # reject the 2024 conference by keyboard only
    page.locator("#main").focus()
    tab_to(page, f"{conference['id']}-reason")
    page.keyboard.type("a reference to an earlier conference, not news")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Reject"
    page.keyboard.press("Enter")
    page.wait_for_url("**notice=rejected**")
    rejected = page.locator(f"#proposal-{conference['id']}").inner_text()
    assert "Rejected" in rejected and "not news" in rejected

    # the accepted facts, in the public page, the timeline API and the feed
    page.goto(f"{service.url}/facts/{NEW_ID}?lang=en")
    assert page.locator("h1").inner_text() == "First Central Asia–Italy summit"
    assert "30 May 2025" in page.locator("dl.facts").inner_text()
    page.goto(f"{service.url}/facts/{EU_SUMMIT}?lang=en")
    assert document["title"] in page.locator("#sources + ol").inner_text()
    items = {i["id"]: i for i in service.items()}
    assert items[NEW_ID]["title"] == "First Central Asia–Italy summit"
    assert items[NEW_ID]["kind"] == "summit"
    assert any(s["title"] == document["title"] for s in items[EU_SUMMIT]["sources"])
    feed = httpx.get(f"{service.url}/calendar.ics", params={"lang": "en"}, timeout=30).content
    summaries = " ".join(" ".join(event) for event in read_everywhere(feed))
    assert "First Central Asia–Italy summit" in summaries
    history = httpx.get(f"{service.url}/api/v1/facts/{NEW_ID}/history", timeout=30).json()
    assert [e["actor"] for e in history] == ["editor"]

    # a stale edit: someone changes the fact after this page read it
    page.goto(f"{service.url}/edit/facts/{NEW_ID}")
    version = page.locator("input[name=version]").first.input_value()
    other = httpx.patch(
        f"{service.url}/api/v1/facts/{NEW_ID}",
        json={"tags": ["central-asia-italy"], "reason": "tagged by a colleague"},
        headers={"Authorization": f"Bearer {service.token}", "If-Match": f'"{version}"'},
        timeout=30,
    )
    assert other.status_code == 200, other.text
    page.get_by_label("Place (English)").fill("Astana, Palace of Independence")
    page.get_by_label("Reason for the change").fill("the venue")
    page.get_by_role("button", name="Save the change").click()
    conflict = page.locator("section.conflict")
    assert "Someone changed this fact since you read it" in conflict.inner_text()
    assert "tagged by a colleague" in conflict.inner_text()
    assert page.get_by_label("Tags").input_value() == "central-asia-italy"
    assert page.get_by_label("Place (English)").input_value() == "Astana, Palace of Independence"
    page.get_by_role("button", name="Save the change").click()
    page.wait_for_url("**notice=changed**")
    fact = httpx.get(f"{service.url}/api/v1/facts/{NEW_ID}", timeout=30).json()
    assert fact["tags"] == ["central-asia-italy"]
    assert fact["place"]["name"] == "Astana, Palace of Independence"

    # the history reads as dates and words, and sign out ends the session
    page.get_by_role("link", name="history").click()
    assert "tagged by a colleague" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()
    assert page.url == f"{service.url}/edit/sign-in?notice=signed-out"
    page.goto(f"{service.url}/edit/facts")
    assert page.url.startswith(f"{service.url}/edit/sign-in")
