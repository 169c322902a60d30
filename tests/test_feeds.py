"""The iCalendar feeds, read as calendar apps read them, on both backends."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import re
import threading
import uuid
from urllib.parse import urlencode

import icalendar
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import TestClient

from events.dates import parse_edtf
from events.db import create_engine
from projections import calendar, timeline
from seeds import loader
from service.cli import main
from service.http import feeds as feeds_route
from service.http.app import create_app
from service.http.conditional import accepts_gzip
from service.settings import Settings
from service.wiring import open_store
from tests.api_client import BASE, START, Api, assert_problem
from tests.factories import StepClock, fact_data
from tests.ical_checks import check_feed, read_everywhere, unescape_text

HOST = "timeline.example.org"
RANGE_FACT = "first-central-asia-eu-summit-2025"


def feed(api: Api, **params) -> bytes:
    response = api.client.get("/calendar.ics", params=params)
    assert response.status_code == 200, response.text
    return response.content


def events(data: bytes) -> dict[str, dict[str, list[str]]]:
    """Each event by fact id: property name -> raw values."""
    _, found = check_feed(data)
    out = {}
    for event in found:
        props: dict[str, list[str]] = {}
        for line in event.lines:
            props.setdefault(line.name, []).append(line.value)
        out[props["UID"][0].removesuffix(f"@{HOST}")] = props
    return out


def timeline_items(api: Api, **params) -> list[dict]:
    return api.client.get("/api/v1/timeline", params={"limit": 1000, **params}).json()["items"]


def seed_id_with_edtf(api: Api, edtf: str) -> str:
    return next(i["id"] for i in timeline_items(api) if i["date"]["edtf"] == edtf)


# --- the seed feeds in every parser ----------------------------------------------------


def seed_feed_queries(api: Api) -> list[dict]:
    items = timeline_items(api)
    countries = sorted({c for i in items for c in i["participants"]})
    queries: list[dict] = []
    for lang in ("en", "ru"):
        for precision in ("day", "any"):
            queries.append({"lang": lang, "precision": precision})
            queries += [{"lang": lang, "precision": precision, "country": c} for c in countries]
        queries += [
            {"id": i["id"], "lang": lang, "precision": "any"}
            for i in items
            if i["date"]["start"] and i["date"]["end"]
        ]
    return queries


def test_every_seed_feed_parses_in_three_independent_parsers_and_our_checks(api: Api):
    queries = seed_feed_queries(api)
    assert len(queries) > 40
    for params in queries:
        read = read_everywhere(feed(api, **params))
        if "id" in params:
            assert [uid for uid, *_ in read] == [f"{params['id']}@{HOST}"], params


def test_the_default_feed_holds_exactly_the_facts_known_to_the_day(api: Api):
    items = timeline_items(api)
    to_the_day = [i["id"] for i in items if i["date"]["precision"] == "day"]
    closed = [i["id"] for i in items if i["date"]["start"] and i["date"]["end"]]
    assert 0 < len(to_the_day) < len(closed) < len(items)  # the seeds have all three kinds

    assert list(events(feed(api))) == to_the_day  # in timeline order
    assert list(events(feed(api, precision="any"))) == closed


def test_imprecise_facts_are_tentative_spans_over_their_whole_bounds(api: Api):
    spring = seed_id_with_edtf(api, "2026-21")
    event = events(feed(api, precision="any"))[spring]
    assert event["DTSTART"] == ["20260301"] and event["DTEND"] == ["20260601"]
    assert event["STATUS"] == ["TENTATIVE"]
    assert unescape_text(event["SUMMARY"][0]).endswith("(date to be confirmed: spring 2026)")

    ru = events(feed(api, precision="any", lang="ru"))[spring]
    assert unescape_text(ru["SUMMARY"][0]).endswith("(дата уточняется: весна 2026)")

    held_in_a_month = seed_id_with_edtf(api, "2018-03")
    event = events(feed(api, precision="any"))[held_in_a_month]
    assert event["DTSTART"] == ["20180301"] and event["DTEND"] == ["20180401"]
    assert event["STATUS"] == ["TENTATIVE"]  # it happened, but not on a known day


def test_open_ended_periods_never_reach_a_feed(api: Api):
    until = seed_id_with_edtf(api, "../2035")
    by = seed_id_with_edtf(api, "[..2026]")
    assert until not in events(feed(api, precision="any"))
    assert by not in events(feed(api, precision="any"))
    response = api.client.get("/calendar.ics", params={"id": until, "precision": "any"})
    assert_problem(response, 404, "open-ended")


def test_a_day_range_is_an_all_day_event_with_an_exclusive_end(api: Api):
    event = events(feed(api))[RANGE_FACT]
    assert event["DTSTART"] == ["20250403"]
    assert event["DTEND"] == ["20250405"]
    assert event["STATUS"] == ["CONFIRMED"]
    assert event["TRANSP"] == ["TRANSPARENT"]


def test_each_event_says_what_a_calendar_user_needs(api: Api):
    item = next(i for i in timeline_items(api) if i["id"] == RANGE_FACT)
    event = events(feed(api))[RANGE_FACT]
    assert unescape_text(event["SUMMARY"][0]) == item["title"]
    description = unescape_text(event["DESCRIPTION"][0])
    assert description.startswith(item["summary"])
    assert "Date: 3–4 April 2025" in description
    assert "Participants: " in description and "European Union" in description
    assert item["sources"][0]["title"] in description
    # Links lead people to the fact's public page, not to its JSON.
    assert f"More: {item['links']['page']}" in description
    assert item["links"]["page"] == f"{BASE}/facts/{RANGE_FACT}?lang=en"
    assert unescape_text(event["LOCATION"][0]) == f"{item['place']['name']}, Uzbekistan"
    assert event["URL"] == [f"{BASE}/facts/{RANGE_FACT}?lang=en"]
    assert event["CATEGORIES"][0].split(",")[0] == item["kind"]
    # DTSTAMP and LAST-MODIFIED are the fact's last event, never the time of the request.
    updated = dt.datetime.fromisoformat(item["updated_at"]).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTSTAMP"] == [updated] and event["LAST-MODIFIED"] == [updated]


def test_lang_ru_gives_the_feed_in_russian(api: Api):
    item = next(i for i in timeline_items(api, lang="ru") if i["id"] == RANGE_FACT)
    data = feed(api, lang="ru")
    event = events(data)[RANGE_FACT]
    assert unescape_text(event["SUMMARY"][0]) == item["title"]
    assert "Дата: 3–4 апреля 2025" in unescape_text(event["DESCRIPTION"][0])
    calendar_lines, _ = check_feed(data)
    assert unescape_text(calendar_lines.one("X-WR-CALNAME").value) == "Дипломатия Центральной Азии"
    # Accept-Language is honoured when lang is not given
    chosen = api.client.get("/calendar.ics", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert chosen.content == data


def test_the_calendar_carries_the_properties_calendar_apps_read(api: Api):
    response = api.client.get("/calendar.ics", params={"country": "IT"})
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    own, found = check_feed(response.content)
    names = {line.name for line in own.lines}
    for required in (
        "PRODID", "VERSION", "CALSCALE", "NAME", "X-WR-CALNAME", "DESCRIPTION", "X-WR-CALDESC",
        "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "SOURCE", "URL",
    ):  # fmt: skip
        assert required in names, required
    assert "METHOD" not in names
    assert own.one("REFRESH-INTERVAL").params == {"VALUE": "DURATION"}
    assert re.fullmatch(r"P(T\d+[HMS])+|P\d+D", own.one("REFRESH-INTERVAL").value)
    assert own.one("SOURCE").params == {"VALUE": "URI"}
    assert own.one("SOURCE").value == f"{BASE}/calendar.ics?country=IT&lang=en"
    assert "Italy" in unescape_text(own.one("NAME").value)
    assert found


def test_a_filter_that_matches_nothing_is_a_valid_calendar_not_an_empty_body(api: Api):
    data = feed(api, country="BR")
    own, found = check_feed(data)
    assert found == [] and own.one("PRODID")
    assert read_everywhere(data) == []


# --- identity, changes, caching ---------------------------------------------------------


def test_same_query_same_bytes_until_the_log_changes(api: Api):
    first = api.client.get("/calendar.ics", params={"precision": "any"})
    again = api.client.get("/calendar.ics", params={"precision": "any"})
    assert first.content == again.content
    assert first.headers["etag"] == again.headers["etag"]
    assert not first.headers["etag"].startswith("W/")
    created = api.client.post("/api/v1/facts", json=fact_data("new-summit"), headers=api.auth())
    assert created.status_code == 201
    after = api.client.get("/calendar.ics", params={"precision": "any"})
    assert after.headers["etag"] != first.headers["etag"]
    assert "new-summit" in events(after.content)


def test_if_none_match_and_if_modified_since_get_304(api: Api):
    first = api.client.get("/calendar.ics")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert "max-age" in first.headers["cache-control"]
    again = api.client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert (
        api.client.get("/calendar.ics", headers={"If-Modified-Since": modified}).status_code == 304
    )
    other_query = api.client.get("/calendar.ics?lang=ru", headers={"If-None-Match": etag})
    assert other_query.status_code == 200
    api.client.post("/api/v1/facts", json=fact_data("new-summit"), headers=api.auth())
    stale = api.client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert stale.status_code == 200 and "new-summit" in events(stale.content)


def test_uids_and_bytes_survive_a_restart_and_a_rebuild(api: Api):
    before = feed(api, precision="any", lang="ru")
    uids = list(events(before))

    result = CliRunner().invoke(main, ["rebuild"], env={"TIMELINE_DATABASE_URL": api.url})
    assert result.exit_code == 0, result.output

    async def kept_events() -> int:
        engine = create_engine(api.url, null_pool=True)
        async with engine.connect() as conn:
            count = await conn.execute(sa.select(sa.func.count()).select_from(calendar.events))
            await engine.dispose()
            return count.scalar_one()

    assert asyncio.run(kept_events()) == 0  # the rebuild threw the rendered events away
    settings = Settings(database_url=api.url, db_null_pool=True, public_url=BASE)
    with TestClient(create_app(settings, clock=StepClock(START))) as client:
        after = client.get("/calendar.ics", params={"precision": "any", "lang": "ru"}).content
    assert list(events(after)) == uids
    assert after == before


def test_uids_are_made_from_the_public_host(api: Api):
    settings = Settings(
        database_url=api.url, db_null_pool=True, public_url="https://cal.example.net"
    )
    with TestClient(create_app(settings)) as client:
        data = client.get("/calendar.ics").content
    _, found = check_feed(data)
    assert found and all(e.one("UID").value.endswith("@cal.example.net") for e in found)


def test_a_reschedule_raises_sequence_and_dtstamp(api: Api):
    url = f"/api/v1/facts/{RANGE_FACT}"
    before = events(feed(api))[RANGE_FACT]
    version = api.client.get(url).json()["version"]
    response = api.client.patch(
        url,
        json={"date": {"edtf": "2025-04-10/2025-04-11"}, "reason": "moved"},
        headers=api.auth(**{"If-Match": f'"{version}"'}),
    )
    assert response.status_code == 200, response.text
    after = events(feed(api))[RANGE_FACT]
    assert int(after["SEQUENCE"][0]) == int(before["SEQUENCE"][0]) + 1
    assert after["DTSTAMP"][0] > before["DTSTAMP"][0]
    assert after["LAST-MODIFIED"][0] > before["LAST-MODIFIED"][0]
    assert after["DTSTART"] == ["20250410"] and after["DTEND"] == ["20250412"]
    assert after["UID"] == before["UID"]

    # A summary edit is not a change a calendar must re-announce: SEQUENCE stays.
    response = api.client.patch(
        url,
        json={"summary": {"en": "Edited.", "ru": "Исправлено."}},
        headers=api.auth(**{"If-Match": f'"{version + 1}"'}),
    )
    assert response.status_code == 200, response.text
    edited = events(feed(api))[RANGE_FACT]
    assert edited["SEQUENCE"] == after["SEQUENCE"]
    assert unescape_text(edited["DESCRIPTION"][0]).startswith("Edited.")


def test_cancelled_facts_stay_as_cancelled_and_retracted_ones_disappear(api: Api):
    url = f"/api/v1/facts/{RANGE_FACT}"
    response = api.client.patch(
        url, json={"status": "cancelled"}, headers=api.auth(**{"If-Match": '"1"'})
    )
    assert response.status_code == 200, response.text
    event = events(feed(api))[RANGE_FACT]
    assert event["STATUS"] == ["CANCELLED"]
    assert event["SEQUENCE"] == ["1"]

    response = api.client.delete(url, headers=api.auth(**{"If-Match": '"2"'}))
    assert response.status_code in (200, 204), response.text
    assert RANGE_FACT not in events(feed(api))
    assert_problem(api.client.get("/calendar.ics", params={"id": RANGE_FACT}), 410, "retracted")


def test_planned_and_elapsed_facts_are_tentative_with_the_status_in_the_title(api: Api):
    planned = fact_data("planned-summit", status="planned", date={"edtf": "2031-05-02"})
    assert api.client.post("/api/v1/facts", json=planned, headers=api.auth()).status_code == 201
    assert events(feed(api))["planned-summit"]["STATUS"] == ["TENTATIVE"]
    elapsed = fact_data("elapsed-summit", status="elapsed", date={"edtf": "2024-05-02"})
    assert api.client.post("/api/v1/facts", json=elapsed, headers=api.auth()).status_code == 201
    event = events(feed(api))["elapsed-summit"]
    assert event["STATUS"] == ["TENTATIVE"]
    assert unescape_text(event["SUMMARY"][0]).endswith("(date passed, outcome unknown)")


# --- hostile text ----------------------------------------------------------------------

# A title is one line (a line break in one is refused); the summary carries the line breaks.
HOSTILE = "Summit; with, commas \\ and BEGIN:VEVENT UID:evil@x END:VEVENT 🇺🇿 Саммит"


def test_hostile_text_stays_inside_its_property(api: Api):
    data = fact_data(
        "hostile-summit",
        title={"en": HOSTILE, "ru": HOSTILE},
        summary={"en": "a\\nb;c,d\nEND:VCALENDAR\nBEGIN:VEVENT\nUID:evil@x", "ru": "x"},
        place={"name": {"en": "Rome; Italy, \\ END:VEVENT", "ru": "Рим"}, "country": "IT"},
    )
    assert api.client.post("/api/v1/facts", json=data, headers=api.auth()).status_code == 201
    body = feed(api, id="hostile-summit")
    read = read_everywhere(body)
    assert read == [("hostile-summit@" + HOST, HOSTILE, "2025-04-03", "2025-04-05")]
    event = events(body)["hostile-summit"]
    assert unescape_text(event["DESCRIPTION"][0]).startswith("a\\nb;c,d\nEND:VCALENDAR")
    assert unescape_text(event["LOCATION"][0]) == "Rome; Italy, \\ END:VEVENT, Italy"


def test_a_carriage_return_in_a_title_is_refused_and_nothing_is_stored(api: Api):
    data = fact_data("crlf-summit", title={"en": "A\r\nBEGIN:VEVENT", "ru": "Б"})
    response = api.client.post("/api/v1/facts", json=data, headers=api.auth())
    assert response.status_code in (400, 422), response.text
    assert api.client.get("/api/v1/facts/crlf-summit").status_code == 404
    assert "crlf-summit" not in events(feed(api))


def test_kind_is_repeatable_in_a_feed_as_in_the_api(api: Api):
    def ids(**params) -> set[str]:
        return set(events(feed(api, precision="any", **params)))

    treaties, summits = ids(kind="treaty"), ids(kind="summit")
    assert treaties and summits
    assert ids(kind=["treaty", "summit"]) == treaties | summits == ids(kind="treaty,summit")
    assert ids(kind=["treaty", "summit"]) == set(api.ids(kind=["treaty", "summit"])) & ids()


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "word"),
    [
        ({"precision": "hour"}, 400, "precision"),
        ({"lang": "de"}, 400, "lang"),
        ({"country": "XX"}, 400, "country"),
        ({"status": "rumoured"}, 400, "status"),
        ({"kind": "party"}, 400, "kind"),
        ({"id": "Not A Slug"}, 400, "id"),
        ({"id": "no-such-fact"}, 404, "no fact"),
        ({"id": ["a"] * 51}, 400, "at most"),
        ({"tag": ["t"] * 51}, 400, "at most"),
    ],
)
def test_bad_feed_queries_get_a_problem(api: Api, params, status, word):
    assert_problem(api.client.get("/calendar.ics", params=params), status, word)


def test_an_imprecise_fact_asked_for_by_id_says_to_add_precision_any(api: Api):
    spring = seed_id_with_edtf(api, "2026-21")
    assert_problem(api.client.get("/calendar.ics", params={"id": spring}), 404, "precision=any")
    assert list(events(feed(api, id=spring, precision="any"))) == [spring]


def test_items_link_to_their_event_and_offer_webcal(api: Api):
    item = next(i for i in timeline_items(api) if i["id"] == RANGE_FACT)
    assert item["links"]["ics"].startswith(f"{BASE}/calendar.ics?")
    assert item["links"]["webcal"] == "webcal://" + item["links"]["ics"].split("://", 1)[1]
    path = item["links"]["ics"].removeprefix(BASE)
    assert list(events(api.client.get(path).content)) == [RANGE_FACT]


def test_head_answers_like_get_without_a_body(api: Api):
    get = api.client.get("/calendar.ics", params={"lang": "ru"})
    head = api.client.head("/calendar.ics", params={"lang": "ru"})
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == get.headers[name], name
    same = api.client.head(
        "/calendar.ics", params={"lang": "ru"}, headers={"If-None-Match": get.headers["etag"]}
    )
    assert same.status_code == 304
    assert api.client.head("/api/v1/facts/no-such-fact").status_code == 404


def raw_get(api: Api, path: str, **headers: str) -> tuple[object, bytes]:
    """A response and its body as sent (the test client would decompress it)."""
    with api.client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize(
    "path",
    [
        "/calendar.ics?lang=ru&precision=any",
        "/calendar.ics?country=IT",
        # the other kept answers: JSON pages, gzipped as the feeds are
        "/api/v1/timeline?limit=5&lang=ru",
        "/api/v1/events?after=0&limit=20",
        "/api/v1/facts/kyrgyzstan-tajikistan-state-border-treaty-2025/history?x=1",
    ],
)
def test_gzip_is_the_same_answer_with_its_own_etag_on_the_miss_path_a_hit_and_head(
    api: Api, path: str
):
    plain, plain_body = raw_get(api, path, **{"Accept-Encoding": "identity"})
    miss, miss_body = raw_get(api, path + "&miss=1", **{"Accept-Encoding": "gzip"})
    kept, kept_body = raw_get(api, path + "&miss=1", **{"Accept-Encoding": "gzip"})  # kept now
    hit, hit_body = raw_get(api, path + "&miss=1", **{"Accept-Encoding": "gzip, br"})
    head = api.client.head(path + "&miss=1", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain_body)
    assert miss_body == kept_body == hit_body and gzip.decompress(miss_body) == plain_body
    for response in (miss, kept, hit, head):
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-length"] == str(len(miss_body))
        assert response.headers["etag"] == miss.headers["etag"]
        assert response.headers["vary"] == "Accept-Language, Accept-Encoding"
    assert plain.headers["vary"] == "Accept-Language, Accept-Encoding"
    assert miss.headers["etag"].endswith('-gzip"') and not plain.headers["etag"].endswith('-gzip"')
    # each representation revalidates with its own ETag
    for asked, encoding, response in ((path + "&miss=1", "gzip", miss), (path, "identity", plain)):
        tag = response.headers["etag"]
        kept = api.client.get(asked, headers={"Accept-Encoding": encoding, "If-None-Match": tag})
        assert kept.status_code == 304 and kept.headers["etag"] == tag
        other = "identity" if encoding == "gzip" else "gzip"
        changed = api.client.get(asked, headers={"Accept-Encoding": other, "If-None-Match": tag})
        assert changed.status_code == 200  # the other representation is not the one held
    # kept first without gzip, then asked with it: the same bytes as the miss path made
    later, later_body = raw_get(api, path, **{"Accept-Encoding": "gzip"})
    assert later_body == miss_body and later.headers["content-length"] == str(len(miss_body))
    assert later.headers["etag"] == plain.headers["etag"].removesuffix('"') + '-gzip"'
    refused, refused_body = raw_get(api, path, **{"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers and refused_body == plain_body


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0, *", False),
        ("br;q=1, *;q=0", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header, accepted):
    assert accepts_gzip(header) is accepted


def icalendar_header(query: calendar.FeedQuery, base_url: str) -> bytes:
    """The calendar header as icalendar's Calendar writes it: what the feed's own writer
    must give byte for byte."""
    words = calendar.TEXT[query.lang]
    params = query.params()
    source = f"{base_url}/calendar.ics?{urlencode(params)}"
    page = f"{base_url}/embed?{urlencode([p for p in params if p[0] != 'precision'])}"
    title = calendar._calendar_name(query)
    description = words["description"].format(url=base_url)
    built = icalendar.Calendar.new(
        prodid=calendar.PRODID,
        calscale="GREGORIAN",
        uid=str(uuid.uuid5(uuid.NAMESPACE_URL, source)),
        name=title,
        description=description,
        url=page,
    )
    for key, text in (("NAME", title), ("X-WR-CALNAME", title), ("X-WR-CALDESC", description)):
        built[key] = icalendar.vText(text)
    built.add("refresh-interval", calendar.REFRESH, parameters={"VALUE": "DURATION"})
    built.add("x-published-ttl", icalendar.vDuration(calendar.REFRESH))
    built.add("source", source, parameters={"VALUE": "URI"})
    return built.to_ical().removesuffix(calendar.END)


@pytest.mark.parametrize("base_url", [BASE, "http://127.0.0.1:8000", "https://календарь.example"])
def test_the_header_is_written_as_icalendar_writes_it(base_url: str):
    queries = [
        calendar.FeedQuery(),
        calendar.FeedQuery(lang="ru", any_precision=True),
        calendar.FeedQuery(
            filters=timeline.Filters(countries=("KZ", "UZ", "EU"), tags=("a,b;c\\d",)), lang="ru"
        ),
        calendar.FeedQuery(
            filters=timeline.Filters(statuses=("held", "postponed"), kinds=("summit",))
        ),
        calendar.FeedQuery(
            filters=timeline.Filters(fact_ids=("x" * 200,), tags=tuple(f"t{n}" for n in range(30)))
        ),
        calendar.FeedQuery(filters=timeline.Filters(tags=("ё" * 100,)), lang="ru"),
    ]
    for query in queries:
        assert calendar.calendar_header(query, base_url) == icalendar_header(query, base_url)


# --- what a title says about an imprecise date --------------------------------------------


def test_a_tag_that_repeats_the_kind_is_one_category(api: Api):
    items = timeline_items(api)
    assert any(i["kind"] in i["tags"] for i in items)  # the seeds have such facts
    for lang in ("en", "ru"):
        for fact_id, event in events(feed(api, precision="any", lang=lang)).items():
            categories = [c for value in event["CATEGORIES"] for c in value.split(",")]
            item = next(i for i in items if i["id"] == fact_id)
            assert categories == list(dict.fromkeys([item["kind"], *item["tags"]])), fact_id


@pytest.mark.parametrize(
    ("status", "edtf", "en", "ru"),
    [
        ("held", "2017-09", "(month known: September 2017)", "(известен месяц: сентябрь 2017)"),
        ("held", "2017-21", "(season known: spring 2017)", "(известно время года: весна 2017)"),
        ("held", "2017", "(year known: 2017)", "(известен год: 2017)"),
        (
            "held",
            "2017-03/2017-05",
            "(month known: March–May 2017)",
            "(известен месяц: март–май 2017)",
        ),
        (
            "held",
            "2017-09-05~",
            "(exact date unknown: about 5 September 2017)",
            "(точная дата неизвестна: около 5 сентября 2017)",
        ),
        ("cancelled", "2017-09", "(month known: September 2017)", "(известен месяц: сентябрь 2017)"),
        (
            "elapsed",
            "2024-09",
            "(month known: September 2024) (date passed, outcome unknown)",
            "(известен месяц: сентябрь 2024) (дата прошла, итог неизвестен)",
        ),
        ("planned", "2031-09", "(date to be confirmed: September 2031)", "(дата уточняется: сентябрь 2031)"),
        ("proposed", "2031", "(date to be confirmed: 2031)", "(дата уточняется: 2031)"),
        ("postponed", "2031-22", "(date to be confirmed: summer 2031) (postponed)", "(дата уточняется: лето 2031) (перенесено)"),
    ],
)  # fmt: skip
def test_an_imprecise_title_says_what_is_known_or_that_it_is_to_be_confirmed(
    api: Api, status, edtf, en, ru
):
    data = fact_data("imprecise-summit", status=status, date={"edtf": edtf})
    assert api.client.post("/api/v1/facts", json=data, headers=api.auth()).status_code == 201
    for lang, expected in (("en", en), ("ru", ru)):
        body = feed(api, id="imprecise-summit", precision="any", lang=lang)
        [(_, summary, _, _)] = read_everywhere(body)
        title = data["title"][lang]
        assert summary == f"{title} {expected}", lang


def test_the_seed_initiative_of_september_2017_is_not_to_be_confirmed(api: Api):
    initiative = seed_id_with_edtf(api, "2017-09")
    event = events(feed(api, precision="any"))[initiative]
    summary = unescape_text(event["SUMMARY"][0])
    assert summary.endswith("(month known: September 2017)")
    assert "to be confirmed" not in summary


# --- the extremes of every date form, through every read ------------------------------------

# (EDTF, DTSTART, DTEND) of the earliest and latest dates of every form events/dates.py reads;
# no DTSTART: no calendar event (open-ended, or ending on 9999-12-31, whose next day — an
# all-day DTEND — no calendar can write).
EXTREMES = [
    ("0001-01-01", "00010101", "00010102"),
    ("9999-12-30", "99991230", "99991231"),  # the last day a calendar can hold
    ("9999-12-31", None, None),
    ("0001-01", "00010101", "00010201"),
    ("9999-12", None, None),
    ("0001-21", "00010301", "00010601"),
    ("0001-24", "00011201", "00020301"),
    ("9999-23", "99990901", "99991201"),
    ("9998-24", "99981201", "99990301"),  # winter 9998–99, the last winter there is
    ("0001", "00010101", "00020101"),
    ("9999", None, None),
    ("0001-01-01/9999-12-30", "00010101", "99991231"),
    ("0001-01-01/9999-12-31", None, None),
    ("0001/9999", None, None),
    ("2025/9999", None, None),
    ("0001/2025", "00010101", "20260101"),
    ("0001-21/9998-24", "00010301", "99990301"),
    ("[..0001]", None, None),
    ("[..9999]", None, None),
    ("[0001..]", None, None),
    ("[9999..]", None, None),
    ("../9999", None, None),
    ("/0001", None, None),
    ("0001/..", None, None),
    ("9999/", None, None),
    ("0001-01-01?", "00010101", "00010102"),
    ("9999-12-31~", None, None),
    ("0001~", "00010101", "00020101"),
    ("9999%", None, None),
    ("9999-12~", None, None),
    ("9998-24?", "99981201", "99990301"),
]
EXACT_DAYS = {"0001-01-01", "9999-12-30", "0001-01-01/9999-12-30"}  # in the default feed


def _iso(ical_date: str) -> str:
    return f"{ical_date[:4]}-{ical_date[4:6]}-{ical_date[6:]}"


def test_the_extremes_of_every_date_form_never_make_a_read_fail(api: Api):
    ids = {f"extreme-{n}": edtf for n, (edtf, _, _) in enumerate(EXTREMES)}
    for fact_id, edtf in ids.items():
        body = fact_data(fact_id, date={"edtf": edtf})
        response = api.client.post("/api/v1/facts", json=body, headers=api.auth())
        assert response.status_code == 201, (edtf, response.text)
    # the events there must be: UID -> (first day, exclusive end)
    spans = {
        f"extreme-{n}@{HOST}": (_iso(start), _iso(end))
        for n, (_, start, end) in enumerate(EXTREMES)
        if start
    }
    with_event = {uid.removesuffix(f"@{HOST}") for uid in spans}

    # the API's reads, TimelineJS and the embed page, in both languages
    for lang in ("en", "ru"):
        for fact_id in ids:
            for path in (f"/api/v1/facts/{fact_id}", f"/api/v1/facts/{fact_id}/history"):
                response = api.client.get(path, params={"lang": lang})
                assert response.status_code == 200, (path, response.text)
        widest = {"lang": lang, "from": "0001-01-01", "to": "9999-12-31"}
        everything = timeline_items(api, **widest)
        assert {i["id"]: i["date"]["edtf"] for i in everything if i["id"] in ids} == ids
        tljs = api.client.get("/api/v1/timeline.timelinejs.json", params={"lang": lang})
        assert tljs.status_code == 200, tljs.text
        tl_events = {e["unique_id"]: e for e in tljs.json()["events"]}
        assert {tl_events[i]["start_date"]["year"] for i in ids} == {1, 2025, 9998, 9999}
        # "Add to calendar" only where there is an event to add
        linked = {i for i in ids if "calendar.ics" in tl_events[i]["text"]["text"]}
        assert linked == with_event
        page = api.client.get("/embed", params=widest)
        assert page.status_code == 200, page.text

    # every feed, read by every strict parser
    for lang in ("en", "ru"):
        for precision in ("day", "any"):
            read = read_everywhere(feed(api, lang=lang, precision=precision))
            got = {uid: (start, end) for uid, _, start, end in read if uid.startswith("extreme-")}
            wanted = {
                uid: span
                for uid, span in spans.items()
                if precision == "any" or ids[uid.removesuffix(f"@{HOST}")] in EXACT_DAYS
            }
            assert got == wanted, (lang, precision)

    # each fact's own "add to calendar" link: its event, or a problem saying why there is none
    for fact_id, edtf in ids.items():
        response = api.client.get("/calendar.ics", params={"id": fact_id, "precision": "any"})
        if fact_id in with_event:
            assert response.status_code == 200, (edtf, response.text)
            assert [uid for uid, *_ in read_everywhere(response.content)] == [f"{fact_id}@{HOST}"]
        else:
            bounds = parse_edtf(edtf)
            open_ended = bounds.start is None or bounds.end is None
            assert_problem(response, 404, "open-ended" if open_ended else "31 December 9999")


# --- what one feed may cost -----------------------------------------------------------------


def test_a_feed_of_more_facts_than_one_response_may_hold_is_refused_before_rendering(
    api: Api, monkeypatch
):
    monkeypatch.setattr(feeds_route, "MAX_FEED_EVENTS", 3)
    rendered = []
    render = calendar.render_event

    def counted(row, lang, base_url):
        rendered.append(row.fact_id)
        return render(row, lang, base_url)

    monkeypatch.setattr(calendar, "render_event", counted)
    response = api.client.get("/calendar.ics", params={"precision": "any"})
    assert_problem(response, 400, "more than the 3 one feed may hold", "narrow it")
    assert rendered == []
    # a narrower feed, and one fact's event, are served
    assert list(events(feed(api, kind="treaty"))) == [
        "kyrgyzstan-tajikistan-state-border-treaty-2025"
    ]
    assert list(events(feed(api, id=RANGE_FACT))) == [RANGE_FACT]


BULK = 2000


@pytest.fixture
def bulk_api(api: Api, tmp_path) -> Api:
    """The seeds and BULK more facts, loaded like a bulk load: no event rendered yet."""
    path = tmp_path / "bulk.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(BULK):
            day = dt.date(2000, 1, 1) + dt.timedelta(days=n)
            data = fact_data(f"bulk-{n:05d}", date={"edtf": day.isoformat()})
            out.write(json.dumps(data, ensure_ascii=False) + "\n")

    async def load() -> None:
        store = open_store(api.url, null_pool=True)
        try:
            await loader.load(store, [path])
        finally:
            await store.engine.dispose()

    asyncio.run(load())
    return api


def test_health_answers_while_a_cold_big_feed_renders(bulk_api: Api, monkeypatch):
    """Rendering thousands of events must leave the event loop free: the first event's
    rendering waits until /health has answered (10 s at most, only so a failure ends)."""
    rendering, health_answered = threading.Event(), threading.Event()
    waited_for_health = []
    render = calendar.render_event

    def gated(row, lang, base_url):
        if not rendering.is_set():
            rendering.set()
            waited_for_health.append(health_answered.wait(timeout=10))
        return render(row, lang, base_url)

    monkeypatch.setattr(calendar, "render_event", gated)
    answers: list[tuple[str, object]] = []

    def get_feed() -> None:
        answers.append(("feed", bulk_api.client.get("/calendar.ics")))

    thread = threading.Thread(target=get_feed)
    thread.start()
    assert rendering.wait(timeout=60)
    health = bulk_api.client.get("/health")
    answers.append(("health", health))
    health_answered.set()
    thread.join(timeout=120)

    assert health.status_code == 200 and health.json()["database"] == "reachable"
    assert waited_for_health == [True]  # /health answered while the feed was rendering
    assert [name for name, _ in answers] == ["health", "feed"]
    response = answers[1][1]
    assert response.status_code == 200
    assert len(check_feed(response.content)[1]) > BULK


def test_concurrent_requests_for_one_cold_feed_render_it_once(bulk_api: Api, monkeypatch):
    """The first request makes the answer; the others that come meanwhile wait for it, so a
    burst of polls after a bulk load holds one feed in memory, not one each."""
    rendered: list[str] = []
    render = calendar.render_event

    def counted(row, lang, base_url):
        rendered.append(row.fact_id)
        return render(row, lang, base_url)

    monkeypatch.setattr(calendar, "render_event", counted)
    bodies: list[bytes] = []

    def get_feed() -> None:
        bodies.append(feed(bulk_api, lang="ru"))

    threads = [threading.Thread(target=get_feed) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(bodies) == 4 and len(set(bodies)) == 1
    assert len(rendered) == len(set(rendered)) > BULK  # each event rendered once
