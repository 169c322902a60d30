"""The editors' workspace (/edit) through Litestar's test client, on both backends.

The browser end to end is tests/test_workspace_browser.py; this file checks the rules a
browser cannot show cheaply: sessions, CSRF on every form, the shared rate limit, that a
refused form stores nothing, conflicts on stale versions, the history's differences.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import re
from collections.abc import Iterator

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from service.http import workspace
from service.http.app import create_app
from service.http.workspace import forms, history, sessions
from service.settings import Settings
from service.tokens import tokens
from service.wiring import open_store
from tests.factories import StepClock, seeded_with_token
from tests.test_documents_api import DOCUMENT

BASE = "https://timeline.example.org"
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
FACT = "first-consultative-meeting-central-asia-2018"


class Desk:
    def __init__(self, client: TestClient, token: str, database_url: str) -> None:
        self.client, self.token, self.database_url = client, token, database_url

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    def sign_in(self, token: str | None = None) -> None:
        response = self.client.post(
            "/edit/sign-in",
            data={"csrf": self.csrf("/edit/sign-in"), "token": token or self.token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/edit?notice=signed-in"

    def post(self, path: str, form_page: str, **data: str):
        return self.client.post(
            path, data={"csrf": self.csrf(form_page), **data}, follow_redirects=False
        )

    def events(self) -> int:
        return len(self.client.get("/api/v1/events", params={"limit": 1000}).json()["events"])


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text[:2000]
    return found.group(1)


def error_of(text: str, field_id: str) -> str:
    found = re.search(rf'<span class="error" id="{re.escape(field_id)}-error">([^<]*)</span>', text)
    assert found, f"no error slot for {field_id}"
    return html.unescape(found.group(1))


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    token = asyncio.run(seeded_with_token(database_url))
    settings = Settings(
        database_url=database_url, db_null_pool=True, public_url=BASE, session_secret="s" * 32
    )
    app = create_app(settings, clock=StepClock(START, dt.timedelta(minutes=1)))
    with TestClient(app, base_url=BASE) as client:
        yield Desk(client, token, database_url)


def test_pages_need_a_session_and_sign_in_sets_a_strict_http_only_cookie(desk: Desk) -> None:
    response = desk.client.get("/edit/facts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/edit/sign-in?next=%2Fedit%2Ffacts"
    form = desk.client.get("/edit/sign-in")
    assert "form-action 'self'" in form.headers["content-security-policy"]
    response = desk.client.post(
        "/edit/sign-in",
        data={"csrf": csrf_of(form.text), "token": desk.token, "next": "/edit/facts"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/edit/facts?notice=signed-in"
    cookie = response.headers["set-cookie"].lower()
    for attribute in ("httponly", "secure", "samesite=strict", "path=/edit"):
        assert attribute in cookie
    page = desk.client.get("/edit/facts")
    assert page.status_code == 200 and "Signed in as <strong><bdi>editor</bdi>" in page.text
    # sign out: the cookie is cleared and the pages ask for a sign-in again
    out = desk.post("/edit/sign-out", "/edit/facts")
    assert out.status_code == 303 and out.headers["location"] == "/edit/sign-in?notice=signed-out"
    assert desk.client.get("/edit/facts", follow_redirects=False).status_code == 303


def test_next_never_leaves_the_workspace(desk: Desk) -> None:
    response = desk.client.post(
        "/edit/sign-in",
        data={"csrf": desk.csrf("/edit/sign-in"), "token": desk.token, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/edit?notice=signed-in"


def test_every_form_posted_without_its_token_is_refused_and_stores_nothing(desk: Desk) -> None:
    desk.sign_in()
    before = desk.events()
    paths = {
        workspace.sign_in: "/edit/sign-in",
        workspace.sign_out: "/edit/sign-out",
        workspace.receive_document: "/edit/documents",
        workspace.accept_proposal: "/edit/documents/x/proposals/p1/accept",
        workspace.reject_proposal: "/edit/documents/x/proposals/p1/reject",
        workspace.create_fact: "/edit/facts",
        workspace.change_fact: f"/edit/facts/{FACT}",
        workspace.retract_fact: f"/edit/facts/{FACT}/retract",
    }
    assert set(paths) == set(workspace.POSTS)
    for path in paths.values():
        for csrf in (None, "forged"):
            data = {"reason": "r", "version": "1", "token": desk.token}
            if csrf:
                data["csrf"] = csrf
            response = desk.client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, response.text)
            assert "security token" in response.text
    assert desk.events() == before
    assert desk.client.get("/edit/facts").status_code == 200  # still signed in


def test_a_form_token_of_another_session_is_refused(desk: Desk) -> None:
    old = desk.csrf("/edit/sign-in")  # the anonymous session's token
    desk.sign_in()  # a new session, a new token
    response = desk.client.post(
        "/edit/facts", data={"csrf": old, "id": "x"}, follow_redirects=False
    )
    assert response.status_code == 403


def test_failed_sign_ins_count_against_the_api_limit(desk: Desk) -> None:
    for _ in range(10):
        response = desk.client.post(
            "/edit/sign-in", data={"csrf": desk.csrf("/edit/sign-in"), "token": "wrong"}
        )
        assert response.status_code == 401
        assert "not a valid token" in error_of(response.text, "token")
    # the API now refuses this client too, and so does the form, even with the right token
    api = desk.client.post("/api/v1/facts", json={}, headers={"Authorization": "Bearer x"})
    assert api.status_code == 429
    response = desk.client.post(
        "/edit/sign-in", data={"csrf": desk.csrf("/edit/sign-in"), "token": desk.token}
    )
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many failed sign-ins" in error_of(response.text, "token")


def test_a_revoked_token_ends_its_session(desk: Desk) -> None:
    desk.sign_in()
    assert desk.client.get("/edit").status_code == 200

    async def revoke() -> None:
        store = open_store(desk.database_url, null_pool=True)
        async with store.engine.begin() as conn:
            await conn.execute(sa.delete(tokens).where(tokens.c.name == "editor"))
        await store.engine.dispose()

    asyncio.run(revoke())
    assert desk.client.get("/edit", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_no_session(desk: Desk) -> None:
    desk.sign_in()
    value = desk.client.cookies.get(sessions.COOKIE)
    _, mac = value.split(".")
    forged = sessions.Session("n", 2**40, "someone-else", "x")
    body = base64.urlsafe_b64encode(msgspec.json.encode(forged)).decode().rstrip("=")
    desk.client.cookies.set(sessions.COOKIE, f"{body}.{mac}", domain="timeline.example.org")
    assert desk.client.get("/edit", follow_redirects=False).status_code == 303


def _receive(desk: Desk) -> str:
    response = desk.post(
        "/edit/documents",
        "/edit/documents/new",
        title=DOCUMENT["title"],
        date=DOCUMENT["date"],
        lang="ru",
        text=DOCUMENT["text"],
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("?notice=received")
    return response.headers["location"].split("/")[-1].split("?")[0]


def test_a_document_is_read_its_evidence_marked_and_proposals_accepted_and_rejected(
    desk: Desk,
) -> None:
    desk.sign_in()
    doc_id = _receive(desk)
    page = desk.client.get(f"/edit/documents/{doc_id}")
    assert page.status_code == 200
    document = desk.client.get(f"/api/v1/documents/{doc_id}").json()
    summit = next(p for p in document["proposals"] if p["date"]["edtf"] == "2026-06-03")
    meeting = next(p for p in document["proposals"] if p["date"]["edtf"] == "2018-03-15")
    assert f'<mark id="evidence-{summit["id"]}"' in page.text
    quote = html.escape(summit["evidence"]["quote"], quote=False)
    assert f">{quote}</a></mark>" in page.text
    # the refinement shows the stored fact beside it, its date marked as differing
    compare = page.text.split(f'id="proposal-{meeting["id"]}"')[1].split("</table>")[0]
    assert re.search(r'<tr class="differs"><th scope="row">Date <span class="tag">differs', compare)
    assert "15 March 2018 (2018-03-15)" in compare and "March 2018 (2018-03)" in compare
    # the queue, oldest first, with how long each waited
    home = desk.client.get("/edit").text
    assert home.index(f"#proposal-{meeting['id']}") < home.index(f"#proposal-{summit['id']}")
    assert "Waiting" in home
    # accept the new summit with a corrected English title and its id
    before = desk.events()
    form = f"/edit/documents/{doc_id}"
    fields = forms.form_values(_proposed(summit))
    refused = desk.post(
        f"/edit/documents/{doc_id}/proposals/{summit['id']}/accept",
        form,
        **{**fields, "id": "Not A Slug", "title.en": "Fifth Central Asia–China summit"},
    )
    assert refused.status_code == 422
    assert "slug" in error_of(refused.text, f"{summit['id']}-id")
    assert 'value="Fifth Central Asia–China summit"' in refused.text  # what was typed stays
    assert desk.events() == before
    accepted = desk.post(
        f"/edit/documents/{doc_id}/proposals/{summit['id']}/accept",
        form,
        **{**fields, "id": "fifth-central-asia-china-summit", "title.en": "Fifth C5+China"},
    )
    # the reading gave no English summary: the editor must write one, told so by the field
    assert accepted.status_code == 422
    assert error_of(accepted.text, f"{summit['id']}-summary-en") == "is required"
    assert desk.events() == before
    accepted = desk.post(
        f"/edit/documents/{doc_id}/proposals/{summit['id']}/accept",
        form,
        **{
            **fields,
            "id": "fifth-central-asia-china-summit",
            "title.en": "Fifth C5+China",
            "summary.en": "The fifth summit will be held in Astana.",
        },
    )
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == f"{form}?notice=accepted#proposal-{summit['id']}"
    assert "The proposal was accepted." in desk.client.get(accepted.headers["location"]).text
    fact = desk.client.get("/api/v1/facts/fifth-central-asia-china-summit").json()
    assert fact["title"] == "Fifth C5+China" and fact["date"]["edtf"] == "2026-06-03"
    history = desk.client.get("/api/v1/facts/fifth-central-asia-china-summit/history").json()
    assert {e["actor"] for e in history} == {"editor"}
    # reject the refinement: a reason is required, then it is kept
    url = f"/edit/documents/{doc_id}/proposals/{meeting['id']}/reject"
    refused = desk.post(url, form, reason="  ")
    assert refused.status_code == 422
    assert "say why" in error_of(refused.text, f"{meeting['id']}-reason")
    assert desk.post(url, form, reason="the day is wrong").status_code == 303
    page = desk.client.get(form).text
    assert "Rejected" in page and "the day is wrong" in page
    assert desk.client.get("/api/v1/proposals").json() == []
    assert "Nothing is waiting for review." in desk.client.get("/edit").text


def _proposed(proposal: dict) -> dict:
    return {**proposal["fact"], "date": {"edtf": proposal["date"]["edtf"]}}


def test_a_refinement_accepted_against_a_changed_fact_is_refused_until_read_again(
    desk: Desk,
) -> None:
    desk.sign_in()
    doc_id = _receive(desk)
    document = desk.client.get(f"/api/v1/documents/{doc_id}").json()
    meeting = next(p for p in document["proposals"] if p["date"]["edtf"] == "2018-03-15")
    form = f"/edit/documents/{doc_id}"
    csrf = desk.csrf(form)
    page = desk.client.get(form).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    change = desk.post(
        f"/edit/facts/{FACT}",
        f"/edit/facts/{FACT}",
        **{**forms.form_values(desk_fact(desk)), "tags": "c5"},
        version=version,
        reason="tagged",
    )
    assert change.status_code == 303, change.text
    fields = forms.form_values(_proposed(meeting))
    response = desk.client.post(
        f"/edit/documents/{doc_id}/proposals/{meeting['id']}/accept",
        data={"csrf": csrf, **fields, "version": version},
        follow_redirects=False,
    )
    assert response.status_code == 409
    assert "changed since you read it" in response.text
    version = re.search(r'name="version" value="(\d+)"', response.text).group(1)
    response = desk.client.post(
        f"/edit/documents/{doc_id}/proposals/{meeting['id']}/accept",
        data={"csrf": csrf, **fields, "version": version},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    fact = desk.client.get(f"/api/v1/facts/{FACT}").json()
    assert fact["date"]["edtf"] == "2018-03-15" and fact["tags"] == ["c5"]


def desk_fact(desk: Desk) -> dict:
    history = desk.client.get(f"/api/v1/facts/{FACT}").json()
    fact = history
    return {
        "title": {"en": fact["title"], "ru": _ru(desk)["title"]},
        "summary": {"en": fact["summary"], "ru": _ru(desk)["summary"]},
        "kind": fact["kind"],
        "status": fact["status"],
        "date": {"edtf": fact["date"]["edtf"]},
        "place": None,
        "participants": fact["participants"],
        "tags": fact["tags"],
    } | _place(desk)


def _ru(desk: Desk) -> dict:
    return desk.client.get(f"/api/v1/facts/{FACT}", params={"lang": "ru"}).json()


def _place(desk: Desk) -> dict:
    en = desk.client.get(f"/api/v1/facts/{FACT}").json()["place"]
    ru = _ru(desk)["place"]
    if en is None:
        return {"place": None}
    return {"place": {"name": {"en": en["name"], "ru": ru["name"]}, "country": en["country"]}}


def test_a_stale_edit_shows_the_other_change_and_is_redone_on_top(desk: Desk) -> None:
    desk.sign_in()
    path = f"/edit/facts/{FACT}"
    page = desk.client.get(path).text
    csrf, version = csrf_of(page), re.search(r'name="version" value="(\d+)"', page).group(1)
    read = forms.form_values(desk_fact(desk))
    # someone else changes the status through the API meanwhile
    other = desk.client.patch(
        f"/api/v1/facts/{FACT}",
        json={"tags": ["c5-summit"], "reason": "their tag"},
        headers={"Authorization": f"Bearer {desk.token}", "If-Match": f'"{version}"'},
    )
    assert other.status_code == 200
    before = desk.events()
    mine = {**read, "title.en": "The first Consultative Meeting", "reason": "clearer title"}
    response = desk.client.post(
        path, data={"csrf": csrf, "version": version, **mine}, follow_redirects=False
    )
    assert response.status_code == 409
    assert desk.events() == before  # nothing stored
    assert "Someone changed this fact since you read it" in response.text
    assert "their tag" in response.text and "c5-summit" in response.text
    # the form holds their change with mine laid over it, at the current version
    assert 'value="The first Consultative Meeting"' in response.text
    assert re.search(r'name="tags" type="text" value="c5-summit"', response.text)
    new_version = re.search(r'name="version" value="(\d+)"', response.text).group(1)
    assert int(new_version) == int(version) + 1
    again = {
        k: html.unescape(v)
        for k, v in re.findall(r'name="([a-z.]+)" type="text" value="([^"]*)"', response.text)
    }
    redo = desk.client.post(
        path,
        data={"csrf": csrf, **read, **again, "version": new_version, "reason": "clearer title"},
        follow_redirects=False,
    )
    assert redo.status_code == 303, redo.text
    fact = desk.client.get(f"/api/v1/facts/{FACT}").json()
    assert fact["title"] == "The first Consultative Meeting" and fact["tags"] == ["c5-summit"]


def test_a_refused_fact_form_shows_the_error_by_its_field_and_stores_nothing(desk: Desk) -> None:
    desk.sign_in()
    before = desk.events()
    fields = {
        "id": "new-meeting",
        "title.en": "A meeting",
        "title.ru": "Встреча",
        "summary.en": "They met.",
        "summary.ru": "Встретились.",
        "kind": "meeting",
        "status": "held",
        "date.edtf": "2025-13-01",
        "participants": "KZ, XX",
    }
    response = desk.post("/edit/facts", "/edit/facts/new", **fields)
    assert response.status_code == 422
    assert error_of(response.text, "date-edtf")
    response = desk.post("/edit/facts", "/edit/facts/new", **{**fields, "date.edtf": "2025-11"})
    assert response.status_code == 422
    assert "XX" in error_of(response.text, "participants")
    assert desk.events() == before
    response = desk.post(
        "/edit/facts", "/edit/facts/new", **{**fields, "date.edtf": "2025-11", "participants": "KZ"}
    )
    assert response.status_code == 303
    assert desk.client.get("/api/v1/facts/new-meeting").json()["date"]["label"] == "November 2025"
    # a change needs a reason; an emptied title is refused by its field
    path = "/edit/facts/new-meeting"
    no_reason = desk.post(path, path, **{**fields, "date.edtf": "2025-11", "version": "1"})
    assert no_reason.status_code == 422 and "say why" in error_of(no_reason.text, "reason")
    emptied = desk.post(
        path, path, **{**fields, "title.ru": "", "date.edtf": "2025", "version": "1", "reason": "r"}
    )
    assert emptied.status_code == 422 and "empty" in error_of(emptied.text, "title-ru")
    assert desk.client.get("/api/v1/facts/new-meeting").json()["version"] == 1
    # retracting needs a reason too
    retract = f"{path}/retract"
    assert desk.post(retract, path, version="1").status_code == 422
    assert desk.post(retract, path, **{"retract-reason": "no version"}).status_code == 400
    assert (
        desk.post(retract, path, version="1", **{"retract-reason": "a duplicate"}).status_code
        == 303
    )
    assert desk.client.get("/api/v1/facts/new-meeting").status_code == 410


def test_history_shows_each_version_with_readable_date_differences(desk: Desk) -> None:
    desk.sign_in()
    path = f"/edit/facts/{FACT}"
    fields = forms.form_values(desk_fact(desk))
    response = desk.post(
        path, path, **{**fields, "date.edtf": "2018-03-15", "version": "1", "reason": "the day"}
    )
    assert response.status_code == 303, response.text
    history = desk.client.get(f"{path}/history").text
    assert "version 2, date changed" in history and "FactRescheduled" in history
    assert "<del><bdi>March 2018 (2018-03)</bdi></del>" in history
    assert "<ins><bdi>15 March 2018 (2018-03-15)</bdi></ins>" in history
    assert "the day" in history and "by <bdi>editor</bdi>" in history
    changes = desk.client.get("/edit/changes").text
    assert changes.index(f"{FACT}/history") < changes.index("/history", changes.index(FACT) + 200)


def test_the_fact_list_takes_the_timeline_filters(desk: Desk) -> None:
    desk.sign_in()
    page = desk.client.get("/edit/facts", params={"q": "consultative", "status": "held"}).text
    listed = re.findall(r'href="/edit/facts/([a-z0-9-]+)"', page.split('class="facts-list"')[1])
    api = desk.client.get("/api/v1/timeline", params={"q": "consultative", "status": "held"})
    assert listed == [i["id"] for i in api.json()["items"]] and listed
    bad = desk.client.get("/edit/facts", params={"country": "ZZZ"})
    assert bad.status_code == 400 and "country" in bad.text


def test_the_live_date_label(desk: Desk) -> None:
    assert desk.client.get("/edit/date-label", params={"edtf": "2026-06"}).json() == {
        "label": "June 2026",
        "precision": "month",
    }
    assert "error" in desk.client.get("/edit/date-label", params={"edtf": "June"}).json()


def test_a_document_uploaded_as_a_text_file_and_then_again(desk: Desk) -> None:
    desk.sign_in()
    form = {"csrf": desk.csrf("/edit/documents/new"), "date": "2025-11-20", "lang": "ru"}
    upload = {"file": ("press-release.txt", DOCUMENT["text"].encode(), "text/plain")}
    before = desk.events()
    refused = desk.client.post("/edit/documents", data=form, files=upload)
    assert refused.status_code == 422
    assert error_of(refused.text, "title") == "must not be empty" and desk.events() == before
    not_text = {"file": ("press-release.pdf", b"%PDF-1.4", "application/pdf")}
    refused = desk.client.post(
        "/edit/documents", data={**form, "title": "Press release"}, files=not_text
    )
    assert refused.status_code == 422 and ".txt" in error_of(refused.text, "file")
    response = desk.client.post(
        "/edit/documents",
        data={**form, "title": "Press release"},
        files=upload,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    doc_id = response.headers["location"].split("/")[-1].split("?")[0]
    document = desk.client.get(f"/api/v1/documents/{doc_id}").json()
    assert document["title"] == "Press release" and len(document["proposals"]) == 2
    assert document["received_by"] == "editor"
    again = desk.client.post(
        "/edit/documents", data={**form, "title": "Press release"}, files=upload
    )
    assert again.status_code == 409
    assert "received already" in again.text and f'href="/edit/documents/{doc_id}"' in again.text


ODD_VALUES = [
    "",
    " ",
    "x" * 5000,
    "\x00\x07",
    "<script>alert(1)</script>",
    "-1",
    "99999999999",
    "２０２５",
    "2025-02-30",
    "../..",
    "null",
]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_odd_input_to_every_form_is_a_page_never_a_500(desk: Desk) -> None:
    desk.sign_in()
    doc_id = _receive(desk)
    csrf = desk.csrf("/edit")
    names = [*history.LABELS, "version", "new", "next"]
    paths = [
        "/edit/documents",
        f"/edit/documents/{doc_id}/proposals/p1/accept",
        f"/edit/documents/{doc_id}/proposals/p2/reject",
        f"/edit/documents/{doc_id}/proposals/p99/accept",
        "/edit/documents/nope/proposals/p1/accept",
        "/edit/facts",
        f"/edit/facts/{FACT}",
        "/edit/facts/NOT-A-SLUG",
        f"/edit/facts/{FACT}/retract",
    ]
    for i, value in enumerate(ODD_VALUES):
        for path in paths:
            data = {name: value for name in names}
            data["csrf"] = csrf
            if i % 2:  # half the time with the fact fields sensible but one odd
                data = {**forms.form_values(desk_fact(desk)), "date.edtf": value, "csrf": csrf}
            response = desk.client.post(path, data=data, follow_redirects=False)
            assert response.status_code < 500, (path, value, response.text[-500:])
            assert "<script>alert" not in response.text
    for path in ("/edit/facts?from=2025-13-01", "/edit/facts?cursor=zz", "/edit/documents/%00"):
        assert desk.client.get(path).status_code < 500, path


def test_a_stale_edit_of_the_same_field_says_both_changed_it(desk: Desk) -> None:
    desk.sign_in()
    path = f"/edit/facts/{FACT}"
    page = desk.client.get(path).text
    csrf, version = csrf_of(page), re.search(r'name="version" value="(\d+)"', page).group(1)
    read = forms.form_values(desk_fact(desk))
    other = desk.client.patch(
        f"/api/v1/facts/{FACT}",
        json={"title": {"en": "Their title"}, "reason": "theirs"},
        headers={"Authorization": f"Bearer {desk.token}", "If-Match": f'"{version}"'},
    )
    assert other.status_code == 200
    response = desk.client.post(
        path,
        data={"csrf": csrf, "version": version, **read, "title.en": "My title", "reason": "mine"},
        follow_redirects=False,
    )
    assert response.status_code == 409
    assert "You both changed: Title (English)." in response.text
    assert "<ins><bdi>Their title</bdi></ins>" in response.text  # theirs, shown above
    assert 'id="title-en" name="title.en" type="text" value="My title"' in response.text
    assert desk.client.get(f"/api/v1/facts/{FACT}").json()["title"] == "Their title"


def test_a_new_fact_with_a_taken_id_is_refused_by_its_id(desk: Desk) -> None:
    desk.sign_in()
    before = desk.events()
    fields = {**forms.form_values(desk_fact(desk)), "id": FACT}
    response = desk.post("/edit/facts", "/edit/facts/new", **fields)
    assert response.status_code == 409 and "already exists" in error_of(response.text, "id")
    assert desk.events() == before
