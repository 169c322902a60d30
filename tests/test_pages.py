"""The public pages: a fact's page (its JSON-LD, link previews, 404 and 410) and the home page."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from tests.api_client import BASE, Api, assert_problem
from tests.factories import fact_data


class Page(HTMLParser):
    """What a crawler or a link preview reads of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.json_ld: list[object] = []
        self.title = ""
        self._in: str | None = None
        self.h1 = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and "content" in values:
            self.meta[values.get("property") or values.get("name", "")] = values["content"]
        elif tag == "link":
            self.links.append(values)
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in = "ld"
        elif tag in ("title", "h1"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "ld":
            self.json_ld.append(json.loads(data))
        elif self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


def page(api: Api, path: str, status: int = 200) -> Page:
    response = api.client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


@pytest.mark.parametrize(
    ("edtf", "start", "end"),
    [
        ("2025-04-03", "2025-04-03", None),
        ("2025-04-03/2025-04-04", "2025-04-03", "2025-04-04"),
        ("2018-03", "2018-03", None),  # a month: no invented day
        ("2026-21", "2026-03", "2026-05"),  # spring: its months
        ("2027", "2027", None),
        ("../2035", None, "2035"),
        ("[..2026]", None, "2026"),
        ("2025/..", "2025", None),
    ],
)
def test_a_fact_page_states_the_honest_date_in_json_ld(
    api: Api, edtf: str, start: str | None, end: str | None
) -> None:
    body = fact_data("dated-fact", date={"edtf": edtf})
    assert api.client.post("/api/v1/facts", json=body, headers=api.auth()).status_code == 201
    (event,) = page(api, "/facts/dated-fact?lang=en").json_ld
    assert isinstance(event, dict)
    assert event["@type"] == "Event" and event["name"] == "Test summit"
    assert event.get("startDate") == start
    assert event.get("endDate") == end
    assert event["location"] == {
        "@type": "Place",
        "name": "Samarkand",
        "address": {"@type": "PostalAddress", "addressCountry": "UZ"},
    }


def test_a_fact_page_reads_in_either_language_and_previews_when_shared(api: Api) -> None:
    fact_id = "first-central-asia-eu-summit-2025"
    en = page(api, f"/facts/{fact_id}?lang=en")
    assert en.h1 == "First Central Asia–EU summit in Samarkand"
    assert en.meta["og:title"] == en.h1
    assert en.meta["og:url"] == f"{BASE}/facts/{fact_id}?lang=en"
    assert en.meta["og:description"].startswith("3–4 April 2025: ")
    assert en.meta["twitter:card"] == "summary"
    alternates = {link.get("type") or link.get("hreflang"): link["href"] for link in en.links}
    assert alternates["application/json"] == f"{BASE}/api/v1/facts/{fact_id}"
    assert alternates["text/calendar"].startswith(f"{BASE}/calendar.ics?id={fact_id}")
    assert alternates["ru"] == f"{BASE}/facts/{fact_id}?lang=ru"
    ru = api.client.get(f"/facts/{fact_id}", headers={"Accept-Language": "ru"})
    assert '<html lang="ru">' in ru.text and "3–4 апреля 2025" in ru.text
    assert "Европейский союз" in ru.text  # participants by name


def test_a_fact_page_answers_304_to_its_etag(api: Api) -> None:
    first = api.client.get("/facts/first-central-asia-eu-summit-2025")
    again = api.client.get(
        "/facts/first-central-asia-eu-summit-2025", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


def test_an_unknown_fact_is_a_404_page_and_a_retracted_one_410(api: Api) -> None:
    assert "No such fact" in page(api, "/facts/no-such-fact", 404).h1
    assert page(api, "/facts/x%0A", 404)
    body = fact_data("to-retract")
    assert api.client.post("/api/v1/facts", json=body, headers=api.auth()).status_code == 201
    deleted = api.client.delete(
        "/api/v1/facts/to-retract?reason=duplicate", headers=api.auth(**{"If-Match": '"1"'})
    )
    assert deleted.status_code == 204, deleted.text
    gone = page(api, "/facts/to-retract", 410)
    assert gone.h1 == "This fact was retracted"
    assert_problem(api.client.get("/api/v1/facts/to-retract"), 410)


def test_text_from_a_fact_cannot_escape_its_place_in_the_page(api: Api) -> None:
    title = {"en": "</script><script>alert(1)</script> <b>bold</b>", "ru": "Заголовок"}
    body = fact_data("hostile-title", title=title)
    assert api.client.post("/api/v1/facts", json=body, headers=api.auth()).status_code == 201
    response = api.client.get("/facts/hostile-title?lang=en")
    assert "<script>alert(1)" not in response.text and "<b>bold" not in response.text
    parsed = Page(response.text)
    (event,) = parsed.json_ld
    assert isinstance(event, dict) and event["name"] == title["en"]
    assert parsed.h1 == title["en"]
    assert "script-src" not in response.headers["content-security-policy"]


def test_the_home_page_says_what_the_service_is_and_shows_the_timeline(api: Api) -> None:
    response = api.client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    home = Page(response.text)
    assert home.h1 == "Central Asia diplomacy"
    assert "<event-timeline" in response.text and f"{BASE}/widget.js" in response.text
    assert "webcal://timeline.example.org/calendar.ics" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
