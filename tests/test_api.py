"""The JSON API through Litestar's test client, on both backends."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from email.utils import parsedate_to_datetime

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from events.store import EventStore
from projections import timeline
from projections.items import EncodedItems, item
from seeds import loader
from service.http.api import Page
from service.http.app import create_app
from service.settings import Settings
from service.wiring import open_store
from tests.api_client import BASE, START, Api, assert_problem, run
from tests.factories import fact_data, make_fact, read_model, rebuild, seeded_with_token

# --- reads ------------------------------------------------------------------------------


def test_timeline_lists_the_seed_facts_in_order(api: Api):
    items = api.client.get("/api/v1/timeline").json()["items"]
    assert len(items) == 15
    starts = [i["date"]["start"] or i["date"]["end"] for i in items]
    assert starts == sorted(starts)
    assert items[0]["id"] == "mirziyoyev-un-general-assembly-consultative-meetings-initiative-2017"
    # "until 2035" has an open start and sorts by its end: last
    assert items[-1]["id"] == "central-asia-trade-economic-cooperation-programme-2035"


def test_more_precise_dates_sort_first_on_the_same_start(api: Api):
    for fact_id, edtf in (("same-start-year", "2031"), ("same-start-day", "2031-01-01")):
        body = fact_data(fact_id, date={"edtf": edtf})
        assert api.client.post("/api/v1/facts", json=body, headers=api.auth()).status_code == 201
    ids = api.ids(**{"from": "2031-01-01", "to": "2031-12-31", "kind": "summit"})
    assert ids == ["same-start-day", "same-start-year"]


def test_an_item_has_every_field(api: Api):
    [item] = api.client.get("/api/v1/timeline", params={"q": "Samarkand", "lang": "en"}).json()[
        "items"
    ]
    assert item["id"] == "first-central-asia-eu-summit-2025"
    assert item["date"] == {
        "edtf": "2025-04-03/2025-04-04",
        "start": "2025-04-03",
        "end": "2025-04-04",
        "precision": "day",
        "label": "3–4 April 2025",
    }
    assert item["place"] == {"name": "Samarkand", "country": "UZ"}
    assert item["kind"] == "summit" and item["status"] == "held" and item["version"] == 1
    assert item["sources"][0]["locator"]
    links = item["links"]
    assert links["self"] == f"{BASE}/api/v1/facts/first-central-asia-eu-summit-2025"
    assert links["history"] == links["self"] + "/history"
    assert links["ics"].startswith(f"{BASE}/calendar.ics?id=first-central-asia-eu-summit-2025")
    assert links["webcal"] == "webcal://" + links["ics"].removeprefix("https://")
    assert item["updated_at"].endswith("Z")


def test_filters(api: Api):
    in_2025 = api.ids(**{"from": "2025-01-01", "to": "2025-12-31"})
    assert "kyrgyzstan-tajikistan-state-border-treaty-2025" in in_2025
    assert "first-consultative-meeting-central-asia-2018" not in in_2025
    # an open-start period overlaps every earlier range
    assert "central-asia-trade-economic-cooperation-programme-2035" in in_2025
    # country matches participants or the place's country
    assert api.ids(country="AZ") == ["seventh-consultative-meeting-central-asia-2025"]
    assert "fourth-central-asia-italy-foreign-ministers-conference-2026" in api.ids(country="IT")
    both = api.ids(country=["AZ", "US"])
    assert set(both) == {
        "seventh-consultative-meeting-central-asia-2025",
        "mirziyoyev-un-general-assembly-consultative-meetings-initiative-2017",
    }
    planned = api.ids(status="planned")
    assert set(planned) == {
        "next-central-asia-italy-summit-kyrgyzstan-2027",
        "fourth-central-asia-italy-foreign-ministers-conference-2026",
    }
    assert set(api.ids(status=["planned", "proposed"])) > set(planned)
    assert api.ids(kind="treaty") == ["kyrgyzstan-tajikistan-state-border-treaty-2025"]
    tagged = api.ids(tag="central-asia-eu")
    assert "first-central-asia-eu-summit-2025" in tagged
    assert all(
        "central-asia-eu" in i["tags"]
        for i in api.client.get("/api/v1/timeline", params={"tag": "central-asia-eu"}).json()[
            "items"
        ]
    )


def test_text_search_in_both_languages_ignores_case(api: Api):
    assert api.ids(q="САМАРКАНД") == ["first-central-asia-eu-summit-2025"]
    assert api.ids(q="samarkand") == ["first-central-asia-eu-summit-2025"]
    assert api.ids(q="100%_nothing") == []


def test_language_from_lang_or_accept_language(api: Api):
    def title(**kwargs):
        response = api.client.get("/api/v1/facts/first-central-asia-eu-summit-2025", **kwargs)
        return response.json()["date"]["label"]

    assert title() == "3–4 April 2025"
    assert title(params={"lang": "ru"}) == "3–4 апреля 2025"
    assert title(headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}) == "3–4 апреля 2025"
    assert title(headers={"Accept-Language": "de, en;q=0.5"}) == "3–4 April 2025"
    assert_problem(api.client.get("/api/v1/timeline", params={"lang": "de"}), 400, "lang")


def test_pagination_walks_every_fact_once(api: Api):
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/v1/timeline", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == api.ids()
    assert len(set(seen)) == 15


def test_kind_is_repeatable_like_every_filter_and_may_be_comma_separated(api: Api):
    treaties, summits = api.ids(kind="treaty"), api.ids(kind="summit")
    assert treaties and summits
    both = api.ids(kind=["treaty", "summit"])
    assert sorted(both) == sorted(treaties + summits)
    assert api.ids(kind="treaty,summit") == both == api.ids(kind=["summit", "treaty", "treaty"])
    assert api.ids(country="KZ, UZ") == api.ids(country=["KZ", "UZ"])  # as a form sends it
    assert_problem(
        api.client.get("/api/v1/timeline", params={"kind": "treaty,picnic"}), 400, "picnic"
    )


@pytest.mark.parametrize(
    "params, word",
    [
        ({"from": "2025-13-01"}, "from"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"status": "finished"}, "status"),
        ({"kind": "picnic"}, "kind"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2025-01-01T00:00:00"}, "time zone"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "before"),
        ({"country": ["KZ"] * 51}, "at most"),
    ],
)
def test_bad_query_parameters_get_a_400(api: Api, params, word):
    assert_problem(api.client.get("/api/v1/timeline", params=params), 400, word)


def test_fact_history_and_the_log(api: Api):
    fact = api.client.get("/api/v1/facts/kyrgyzstan-tajikistan-state-border-treaty-2025")
    assert fact.status_code == 200 and fact.headers["etag"] == '"1-en"'
    history = api.client.get(
        "/api/v1/facts/kyrgyzstan-tajikistan-state-border-treaty-2025/history"
    ).json()
    assert [(h["version"], h["type"], h["actor"]) for h in history] == [
        (1, "FactRecorded.v2", "seed")
    ]
    assert history[0]["data"]["fact"]["date"] == {"edtf": "2025-03-13"}
    assert_problem(api.client.get("/api/v1/facts/no-such-fact"), 404)
    assert_problem(api.client.get("/api/v1/facts/no-such-fact/history"), 404)
    assert_problem(api.client.get("/api/v1/facts/Not_A_Slug"), 404)

    page = api.client.get("/api/v1/events", params={"after": 10, "limit": 3}).json()
    assert [e["position"] for e in page["events"]] == [11, 12, 13]
    assert page["next_after"] == 13
    rest = api.client.get("/api/v1/events", params={"after": 13}).json()
    assert [e["position"] for e in rest["events"]] == [14, 15] and rest["next_after"] == 15
    # a follower tails the log by passing next_after back; past the end it stays put
    end = api.client.get("/api/v1/events", params={"after": 15}).json()
    assert end == {"events": [], "next_after": 15}
    assert len(rest["events"][0]["hash"]) == 64


def test_reads_carry_etags_and_answer_304(api: Api):
    first = api.client.get("/api/v1/timeline", params={"country": "KZ"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = api.client.get(
        "/api/v1/timeline", params={"country": "KZ"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    since = api.client.get(
        "/api/v1/timeline", params={"country": "KZ"}, headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    other_query = api.client.get(
        "/api/v1/timeline", params={"country": "UZ"}, headers={"If-None-Match": etag}
    )
    assert other_query.status_code == 200

    api.client.post("/api/v1/facts", json=fact_data("new-fact"), headers=api.auth())
    after_write = api.client.get(
        "/api/v1/timeline", params={"country": "KZ"}, headers={"If-None-Match": etag}
    )
    assert after_write.status_code == 200 and after_write.headers["etag"] != etag

    fact = api.client.get("/api/v1/facts/new-fact")
    assert (
        api.client.get(
            "/api/v1/facts/new-fact", headers={"If-None-Match": fact.headers["etag"]}
        ).status_code
        == 304
    )
    # A fact's Last-Modified is its last change, to the second
    modified = fact.headers["last-modified"]
    changed = dt.datetime.fromisoformat(fact.json()["updated_at"].replace("Z", "+00:00"))
    assert parsedate_to_datetime(modified) == changed.replace(microsecond=0)
    for since, status in [
        (modified, 304),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 304),
        ("Thu, 01 Jan 2015 00:00:00 GMT", 200),
        ("yesterday", 200),
    ]:
        answer = api.client.get("/api/v1/facts/new-fact", headers={"If-Modified-Since": since})
        assert answer.status_code == status, since
        assert answer.headers["etag"] == fact.headers["etag"]
    # If-None-Match decides when both are sent (RFC 9110 13.2.2)
    stale = {"If-None-Match": '"9-en"', "If-Modified-Since": modified}
    assert api.client.get("/api/v1/facts/new-fact", headers=stale).status_code == 200


def test_cors_is_open_for_reads(api: Api):
    response = api.client.get("/api/v1/timeline", headers={"Origin": "https://elsewhere.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_health_and_openapi(api: Api):
    health = api.client.get("/health").json()
    assert health == {"status": "ok", "database": "reachable", "writes": "ok", "last_position": 15}
    spec = api.client.get("/schema/openapi.json").json()
    operations = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for expected in [
        ("/api/v1/timeline", "get"),
        ("/api/v1/facts", "post"),
        ("/api/v1/facts/{fact_id}", "patch"),
        ("/api/v1/facts/{fact_id}", "delete"),
        ("/api/v1/facts/{fact_id}/history", "get"),
        ("/api/v1/events", "get"),
    ]:
        assert expected in operations
    assert api.client.get("/schema").status_code == 200


# --- writes -----------------------------------------------------------------------------


def test_writes_need_a_valid_token(api: Api):
    body = fact_data("unauthorised")
    assert_problem(api.client.post("/api/v1/facts", json=body), 401, "Bearer")
    wrong = {"Authorization": "Bearer not-the-token"}
    response = api.client.post("/api/v1/facts", json=body, headers=wrong)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.client.get("/api/v1/facts/unauthorised").status_code == 404


def test_token_guessing_is_rate_limited(api: Api):
    wrong = {"Authorization": "Bearer guess"}
    statuses = [
        api.client.post("/api/v1/facts", json=fact_data("x"), headers=wrong).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    limited = api.client.post("/api/v1/facts", json=fact_data("x"), headers=wrong)
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0


def test_create_a_fact(api: Api):
    response = api.client.post("/api/v1/facts", json=fact_data("new-summit"), headers=api.auth())
    assert response.status_code == 201
    assert response.headers["location"] == f"{BASE}/api/v1/facts/new-summit"
    assert response.headers["etag"] == '"1-en"'
    assert response.json()["title"] == "Test summit"
    # the next read sees it
    assert "new-summit" in api.ids()
    history = api.client.get("/api/v1/facts/new-summit/history").json()
    assert history[0]["actor"] == "editor"
    duplicate = api.client.post("/api/v1/facts", json=fact_data("new-summit"), headers=api.auth())
    assert_problem(duplicate, 409, "already exists")


@pytest.mark.parametrize(
    "overrides, status, word",
    [
        ({"date": {"edtf": "2025-02-30"}}, 422, "date.edtf"),
        ({"participants": ["KZ", "XX"]}, 422, "participants[1]"),
        ({"title": {"en": "x" * 301, "ru": "x"}}, 422, "title.en"),
        ({"title": {"en": "only English"}}, 422, "title.ru"),
        ({"id": "Not A Slug"}, 422, "id"),
        ({"status": "rumoured"}, 422, "status"),
        ({"unexpected": 1}, 400, "unexpected"),
        ({"date": "2025-01-01"}, 400, "date"),
    ],
)
def test_invalid_facts_are_refused_and_nothing_is_stored(api: Api, overrides, status, word):
    body = fact_data("invalid-fact", **overrides)
    response = api.client.post("/api/v1/facts", json=body, headers=api.auth())
    assert_problem(response, status, word)
    assert api.client.get("/health").json()["last_position"] == 15


def test_bodies_over_the_limit_get_413(api: Api):
    body = fact_data("huge", summary={"en": "x" * 2_000_000, "ru": "y"})
    response = api.client.post("/api/v1/facts", json=body, headers=api.auth())
    assert_problem(response, 413)


def test_patch_needs_if_match_and_appends_what_changed(api: Api):
    url = "/api/v1/facts/next-central-asia-italy-summit-kyrgyzstan-2027"
    change = {"date": {"edtf": "2027-21"}, "status": "postponed", "title": {"en": "Summit moved"}}
    assert_problem(api.client.patch(url, json=change, headers=api.auth()), 428, "If-Match")
    response = api.client.patch(
        url, json={**change, "reason": "announced"}, headers=api.auth(**{"If-Match": '"1"'})
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"4-en"'
    body = response.json()
    assert (body["title"], body["status"], body["date"]["label"]) == (
        "Summit moved",
        "postponed",
        "spring 2027",
    )
    ru = api.client.get(url, params={"lang": "ru"}).json()
    assert ru["title"].startswith("Следующий") or ru["title"] != "Summit moved"  # ru kept
    history = api.client.get(url + "/history").json()
    assert [h["type"] for h in history] == [
        "FactRecorded.v2",
        "FactRevised.v1",
        "FactRescheduled.v1",
        "FactStatusChanged.v1",
    ]
    assert {h["reason"] for h in history[1:]} == {"announced"}
    stale = api.client.patch(url, json={"status": "held"}, headers=api.auth(**{"If-Match": '"1"'}))
    assert_problem(stale, 412, "version 4")


def test_retract_keeps_history_and_reads_give_410(api: Api):
    url = "/api/v1/facts/eu-central-asia-joint-roadmap-2023"
    assert_problem(api.client.delete(url, headers=api.auth()), 428)
    response = api.client.delete(url, headers=api.auth(**{"If-Match": '"1"'}))
    assert response.status_code == 204
    assert_problem(api.client.get(url), 410, "retracted")
    assert "eu-central-asia-joint-roadmap-2023" not in api.ids()
    assert [h["type"] for h in api.client.get(url + "/history").json()] == [
        "FactRecorded.v2",
        "FactRetracted.v1",
    ]
    assert_problem(
        api.client.patch(url, json={"status": "held"}, headers=api.auth(**{"If-Match": '"2"'})),
        410,
    )


def test_as_of_shows_the_timeline_as_it_was(api: Api):
    url = "/api/v1/facts/next-central-asia-italy-summit-kyrgyzstan-2027"
    before = api.client.get("/health").json()["last_position"]
    # the seeds were recorded before START on the real clock; the API's clock starts at START
    api.client.patch(url, json={"status": "cancelled"}, headers=api.auth(**{"If-Match": '"1"'}))
    as_of_before = (START - dt.timedelta(seconds=1)).isoformat()
    as_of_after = (START + dt.timedelta(hours=1)).isoformat()
    old = api.client.get(url, params={"as_of": as_of_before}).json()
    new = api.client.get(url, params={"as_of": as_of_after}).json()
    assert (old["status"], old["version"]) == ("planned", 1)
    assert (new["status"], new["version"]) == ("cancelled", 2)
    assert before == 15
    cancelled_then = api.ids(status="cancelled", as_of=as_of_before)
    cancelled_now = api.ids(status="cancelled", as_of=as_of_after)
    assert cancelled_then == [] and cancelled_now == [
        "next-central-asia-italy-summit-kyrgyzstan-2027"
    ]
    assert (
        api.client.get("/api/v1/timeline", params={"as_of": "2000-01-01T00:00:00Z"}).json()["items"]
        == []
    )


def _fresh_pages(
    database_url: str, lang: str, *, limit: int = 4, as_of: dt.datetime | None = None, **filters
) -> list[bytes]:
    """Every timeline page as the route rendered it before items were kept: rows read
    whole, each item built and the page encoded by msgspec."""

    async def read() -> list[bytes]:
        store = open_store(database_url, null_pool=True)
        pages, after = [], None
        try:
            position = None if as_of is None else await store.position_at(as_of)
            wanted = timeline.Filters(**filters, as_of_position=position)
            while True:
                rows, after = await store.database.run(
                    timeline.page, wanted, limit=limit, after=after
                )
                cursor = timeline.encode_cursor(after) if after else None
                items = [item(row, lang, BASE) for row in rows]
                pages.append(msgspec.json.encode(Page(items=items, next_cursor=cursor)))
                if after is None:
                    return pages
        finally:
            await store.engine.dispose()

    return run(read())


def _served_pages(api: Api, lang: str, limit: int = 4, **params) -> list[bytes]:
    pages, cursor = [], None
    while True:
        query = {"limit": limit, "lang": lang, **params, **({"cursor": cursor} if cursor else {})}
        response = api.client.get("/api/v1/timeline", params=query)
        assert (
            response.status_code == 200 and response.headers["content-type"] == "application/json"
        )
        pages.append(response.content)
        if (cursor := response.json()["next_cursor"]) is None:
            return pages


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_timeline_pages_are_the_bytes_of_items_rendered_afresh(api: Api, lang: str):
    """Items are kept rendered by fact version: a page built from them, the first time or
    the second, is the page built from the rows, and an edit shows at once."""
    assert _served_pages(api, lang) == _fresh_pages(api.url, lang)
    assert _served_pages(api, lang, tag="summit") == _fresh_pages(api.url, lang, tags=["summit"])
    url = "/api/v1/facts/next-central-asia-italy-summit-kyrgyzstan-2027"
    edit = {"summary": {"en": "Moved.", "ru": "Перенесено."}, "reason": "test"}
    assert (
        api.client.patch(url, json=edit, headers=api.auth(**{"If-Match": '"1"'})).status_code == 200
    )
    served = _served_pages(api, lang)
    assert served == _fresh_pages(api.url, lang)
    assert (b"Moved." if lang == "en" else "Перенесено.".encode()) in b"".join(served)
    earlier = (START - dt.timedelta(seconds=1)).isoformat()
    assert b"Moved." not in b"".join(_served_pages(api, lang, as_of=earlier))


def _many_facts(api: Api) -> dt.datetime:
    """Sixty facts of every date precision, status, kind and country beside the seed's,
    some edited after the returned instant (so that as_of pages differ from current ones)."""
    kinds, statuses = ["summit", "treaty", "forum", "visit"], ["held", "proposed", "cancelled"]
    dates = ["2021-03-05", "2022-07", "2019", "2023-01-01/2023-02-01", "2024-05-06/..", "2020-21"]
    countries = ["KZ", "UZ", "TJ", "KG", "TM"]
    for i in range(60):
        data = fact_data(
            f"many-{i:02d}",
            title={"en": f"Meeting {i} on {'water' if i % 3 else 'trade'}", "ru": f"Встреча {i}"},
            kind=kinds[i % 4],
            status=statuses[i % 3],
            date={"edtf": dates[i % 6]},
            place=None
            if i % 7 == 0
            else {"name": {"en": "Astana", "ru": "Астана"}, "country": countries[i % 5]},
            participants=[countries[(i + 1) % 5]],
            tags=[f"tag-{i % 4}", "many"],
        )
        response = api.client.post("/api/v1/facts", json=data, headers=api.auth())
        assert response.status_code == 201, response.text
    instant = dt.datetime.fromisoformat(response.json()["updated_at"]) + dt.timedelta(seconds=30)
    for i in range(0, 60, 9):
        edit = {"title": {"en": f"Renamed {i}", "ru": f"Переименовано {i}"}, "reason": "test"}
        response = api.client.patch(
            f"/api/v1/facts/many-{i:02d}", json=edit, headers=api.auth(**{"If-Match": '"1"'})
        )
        assert response.status_code == 200, response.text
    return instant


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_timeline_pages_are_byte_identical_across_filters_cursors_and_as_of(api: Api, lang: str):
    """Pages built from kept items and a query compiled once per shape of filters are the
    bytes of pages built from whole rows: for many facts, two values of each single filter
    (a statement reused with the values of another request shows here), every cursor."""
    as_of = _many_facts(api)
    stamp = as_of.isoformat()
    cases: list[tuple[dict[str, object], dict[str, object]]] = [
        ({}, {}),
        ({"country": "KZ"}, {"countries": ["KZ"]}),
        ({"country": "UZ,EU"}, {"countries": ["UZ", "EU"]}),
        ({"tag": "tag-1"}, {"tags": ["tag-1"]}),
        ({"status": "proposed", "kind": "treaty"}, {"statuses": ["proposed"], "kinds": ["treaty"]}),
        ({"from": "2021-01-01"}, {"start": dt.date(2021, 1, 1)}),
        ({"from": "2023-01-15"}, {"start": dt.date(2023, 1, 15)}),
        ({"to": "2020-06-30"}, {"end": dt.date(2020, 6, 30)}),
        (
            {"from": "2019-06-01", "to": "2022-07-15"},
            {"start": dt.date(2019, 6, 1), "end": dt.date(2022, 7, 15)},
        ),
        ({"q": "water"}, {"text": "water"}),
        ({"q": "TRADE"}, {"text": "TRADE"}),
        ({"q": "renamed"}, {"text": "renamed"}),
        ({"as_of": stamp}, {"as_of": as_of}),
        (
            {"as_of": stamp, "tag": "many", "q": "meeting"},
            {"as_of": as_of, "tags": ["many"], "text": "meeting"},
        ),
        ({"as_of": "2000-01-01T00:00:00Z"}, {"as_of": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}),
    ]
    for limit in (7, 50):
        for params, filters in cases:
            served = _served_pages(api, lang, limit=limit, **params)
            assert served == _fresh_pages(api.url, lang, limit=limit, **filters), params
    # The same pages again, their items now all kept.
    assert _served_pages(api, lang, limit=7, q="water") == _fresh_pages(
        api.url, lang, limit=7, text="water"
    )


def test_kept_items_are_bounded_by_their_bytes():
    rows = [
        timeline._to_row(
            (
                f"fact-{i}",
                1,
                0,
                None,
                False,
                "2025-01-01",
                0,
                "2025-01-01",
                "2025-01-01",
                "day",
                "summit",
                "held",
                "",
                msgspec.json.encode(make_fact(f"fact-{i}")).decode(),
                1,
                "2025-01-01T00:00:00Z",
                "2025-01-01T00:00:00Z",
            )
        )
        for i in range(40)
    ]
    one = len(EncodedItems().render(rows[0], "en", BASE))
    kept = EncodedItems(max_bytes=10 * one)
    for row in rows:
        kept.render(row, "en", BASE)
        assert kept.size <= kept.max_bytes
    keys = [(row.fact_id, 1, row.sort_date, row.span_days) for row in rows]
    found, missing = kept.rendered(keys, "en", BASE)
    assert 5 <= sum(body is not None for body in found) < 10
    assert found[-1] is not None and found[0] is None  # the least recently rendered went first
    assert len(missing) == sum(body is None for body in found)


async def test_racing_patches_with_one_if_match_exactly_one_wins(database_url: str):
    token = await asyncio.to_thread(run, seeded_with_token(database_url))
    app = create_app(Settings(database_url=database_url))
    url = "/api/v1/facts/first-central-asia-eu-summit-2025"
    async with AsyncTestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}", "If-Match": '"1"'}
        responses = await asyncio.gather(
            *(
                client.patch(url, json={"summary": {"en": f"Edit {i}"}}, headers=headers)
                for i in range(10)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 9


# --- the read model ---------------------------------------------------------------------


async def test_incremental_read_model_equals_a_rebuild(database_url: str):
    import random

    store: EventStore = open_store(database_url)
    await loader.load(store, loader.default_paths())
    rng = random.Random(7)
    from events.decider import ChangeFact, FactIsRetracted, RecordFact, RetractFact
    from events.facts import DateInput
    from events.handler import handle
    from tests.factories import make_fact

    ids = [f"random-{i}" for i in range(30)]
    for fact_id in ids:
        await handle(store, fact_id, RecordFact(make_fact(fact_id)), actor="t")
    for _ in range(150):
        fact_id = rng.choice(ids)
        choice = rng.random()
        command = (
            ChangeFact(date=DateInput(rng.choice(["2026", "2026-21", "[..2030]", "2025-05-05"])))
            if choice < 0.4
            else ChangeFact(status=rng.choice(["held", "planned", "cancelled"]))
            if choice < 0.7
            else ChangeFact(title={"ru": f"Заголовок {rng.randint(0, 999)}"}, tags=["x"])
            if choice < 0.95
            else RetractFact()
        )
        with contextlib.suppress(FactIsRetracted):  # a retracted fact refuses changes
            await handle(store, fact_id, command, actor="t")
    incremental = await read_model(store.engine)
    await rebuild(store)
    assert await read_model(store.engine) == incremental
    await store.engine.dispose()


def test_a_refused_rule_is_titled_as_rfc_9110_names_it(api: Api):
    # README's example, the same on every Python (3.11's http module says "Entity").
    body = fact_data("impossible-day", date={"edtf": "2025-02-30"})
    response = api.client.post("/api/v1/facts", json=body, headers=api.auth())
    assert_problem(response, 422, "date.edtf: 2025-02-30 is not a real day")
    assert response.json()["title"] == "Unprocessable Content"
    assert response.json()["field"] == "date.edtf"
