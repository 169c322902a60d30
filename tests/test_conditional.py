"""The conditional-GET middleware's cache of answers: kept by ETag, never served stale."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import tracemalloc
from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient

from service.http.app import create_app
from service.http.conditional import ResponseCache
from service.settings import Settings
from tests.factories import StepClock, fact_data, seeded_with_token

BASE = "https://timeline.example.org"


@pytest.fixture
def client(database_url: str) -> Iterator[tuple[TestClient, str]]:
    token = asyncio.run(seeded_with_token(database_url))
    settings = Settings(
        database_url=database_url, db_null_pool=True, public_url=BASE, scheduler=False
    )
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    app = create_app(settings, clock=StepClock(start, dt.timedelta(minutes=1)))
    with TestClient(app) as http:
        yield http, token


def test_a_kept_answer_is_the_same_and_a_write_replaces_it(client):
    http, token = client
    first = http.get("/api/v1/timeline", params={"limit": 3})
    again = http.get("/api/v1/timeline", params={"limit": 3})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-content-type-options"] == "nosniff"  # outer middleware still ran
    assert http.get("/api/v1/timeline", params={"limit": 3, "lang": "ru"}).content != first.content

    body = fact_data("aaa-early", date={"edtf": "1990"})
    created = http.post("/api/v1/facts", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    after = http.get("/api/v1/timeline", params={"limit": 3})
    assert after.headers["etag"] != first.headers["etag"]
    assert after.json()["items"][0]["id"] == "aaa-early"
    assert http.get("/api/v1/timeline", params={"limit": 3}).content == after.content


def _entry(name: str, body: bytes = b"{}") -> tuple[tuple, list[tuple[bytes, bytes]], bytes]:
    """A key, header list and body as the middleware keeps them."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"public, max-age=0, must-revalidate"),
        (b"vary", b"Accept-Language"),
        (b"etag", b'"15-308133026908269e"'),
        (b"last-modified", b"Tue, 01 Dec 2026 21:54:06 GMT"),
    ]
    return (
        (15, "2026-12-01T21:54:06.000000Z", ("/api/v1/timeline", (("q", name),), "en")),
        headers,
        body,
    )


def test_the_cache_is_bounded_in_bytes_and_drops_the_least_recently_used():
    probe = ResponseCache()
    probe.put(*_entry("a"))
    one = probe.size  # what one entry costs, all of it counted
    assert one > len(b"{}") + 200  # its key and headers too, not only its body

    cache = ResponseCache(max_bytes=int(one * 2.5), max_body=6)
    a, b, c = (_entry(name) for name in "abc")
    cache.put(*a)
    cache.put(*b)
    assert cache.get(a[0]) is not None  # now the most recent
    cache.put(*c)  # three do not fit: b goes
    assert cache.get(b[0]) is None and cache.get(a[0]) and cache.get(c[0])
    big = _entry("big", b"x" * 7)  # over max_body: not kept
    cache.put(*big)
    assert cache.get(big[0]) is None and cache.size == 2 * one and len(cache) == 2


def test_the_memory_the_cache_holds_stays_within_its_bound():
    """20,000 tiny answers (an empty search each) must not hold more than the bound."""
    bound = 1_000_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = ResponseCache(max_bytes=bound)
        for i in range(20_000):
            cache.put(*_entry(f"no-such-text-{i}"))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < bound * 1.25, f"{held} bytes held for a bound of {bound}"
    assert 0 < len(cache) < 20_000


def test_an_answer_is_kept_by_the_language_chosen_not_the_header_sent(client):
    http, _ = client
    etags = set()
    for i in range(40):
        header = f"en;q=0.{i % 9 + 1}, " + ", ".join(f"x{i}-{n}" for n in range(1_400))
        response = http.get(
            "/api/v1/timeline", params={"limit": 2}, headers={"Accept-Language": header}
        )
        assert response.status_code == 200
        etags.add(response.headers["etag"])
    plain = http.get("/api/v1/timeline", params={"limit": 2})
    assert etags == {plain.headers["etag"]}  # one answer, one ETag
    for _ in range(2):  # kept from its second asking
        russian = http.get(
            "/api/v1/timeline", params={"limit": 2}, headers={"Accept-Language": "ru"}
        )
    assert russian.headers["etag"] != plain.headers["etag"]
    cache = http.app.state.conditional.cache
    assert len(cache) == 2  # the English page and the Russian one
    assert cache.size < 100_000  # none of the 12 KB headers is kept


def test_a_percent_encoded_query_is_the_same_request(client):
    http, _ = client
    plain = http.get("/api/v1/timeline?country=KZ")
    encoded = http.get("/api/v1/timeline?country=%4B%5A")
    assert plain.content == encoded.content and plain.headers["etag"] == encoded.headers["etag"]


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/v1/timeline?lang=xx", {"If-None-Match": "*"}, 400),
        ("/api/v1/timeline?lang=xx", {"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"}, 400),
        ("/api/v1/facts/no-such-fact/history", {"If-None-Match": "*"}, 404),
        ("/calendar.ics?lang=xx", {"If-None-Match": "*"}, 400),
        ("/api/v1/facts/no-such-fact", {"If-None-Match": "*"}, 404),
    ],
)
def test_no_304_answers_an_invalid_request(client, path, headers, status):
    http, _ = client
    response = http.get(path, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_forged_etag_of_an_invalid_request_gets_its_error(client):
    """An ETag computed for a request that was never answered with a 200 is no 304."""
    http, _ = client
    valid = http.get("/api/v1/timeline", params={"lang": "en"})
    position = valid.headers["etag"].strip('"').split("-")[0]
    request = ("/api/v1/timeline", (("lang", "xx"),), "")
    digest = hashlib.sha256(msgspec.json.encode(request)).hexdigest()[:16]
    forged = http.get(
        "/api/v1/timeline",
        params={"lang": "xx"},
        headers={"If-None-Match": f'"{position}-{digest}"'},
    )
    assert forged.status_code == 400, forged.text


def test_a_304_still_answers_a_valid_request_in_any_of_its_forms(client):
    http, _ = client
    first = http.get("/api/v1/timeline", params={"country": "KZ"})
    assert (
        http.get(
            "/api/v1/timeline", params={"country": "KZ"}, headers={"If-None-Match": "*"}
        ).status_code
        == 304
    )
    modified = {"If-Modified-Since": first.headers["last-modified"]}
    assert http.get("/calendar.ics", headers=modified).status_code == 304  # after rendering
    assert http.get("/calendar.ics", headers=modified).status_code == 304  # before (issued)


def test_a_fact_has_one_etag_per_language(client):
    http, _ = client
    url = "/api/v1/facts/kyrgyzstan-tajikistan-state-border-treaty-2025"
    english = http.get(url, params={"lang": "en"})
    russian = http.get(url, headers={"Accept-Language": "ru"})
    assert english.json()["title"] != russian.json()["title"]
    assert english.headers["etag"] != russian.headers["etag"]
    # a cache holding the English body revalidates it for a Russian reader: not current
    again = http.get(
        url, headers={"Accept-Language": "ru", "If-None-Match": english.headers["etag"]}
    )
    assert again.status_code == 200 and again.json()["title"] == russian.json()["title"]
    same = http.get(
        url, headers={"Accept-Language": "ru", "If-None-Match": russian.headers["etag"]}
    )
    assert same.status_code == 304


def test_an_answer_is_kept_from_its_second_asking(client):
    """Requests asked once (a query string new each time) are answered and not kept; one
    asked again is kept and answered from the cache, the same bytes."""
    http, _ = client
    for i in range(30):
        assert http.get("/api/v1/timeline", params={"limit": 3, "miss": i}).status_code == 200
    cache = http.app.state.conditional.cache
    before = len(cache)
    assert before == 0
    first = http.get("/api/v1/timeline", params={"limit": 3})
    assert len(cache) == before
    second = http.get("/api/v1/timeline", params={"limit": 3})
    assert len(cache) == before + 1
    third = http.get("/api/v1/timeline", params={"limit": 3})
    assert first.content == second.content == third.content
    assert first.headers["etag"] == second.headers["etag"] == third.headers["etag"]


def test_a_feed_is_kept_from_its_second_asking(client):
    http, _ = client
    for i in range(10):
        assert http.get("/calendar.ics", params={"lang": "ru", "miss": i}).status_code == 200
    large = http.app.state.conditional.large
    assert len(large) == 0
    first, second = (http.get("/calendar.ics", params={"lang": "ru"}) for _ in range(2))
    assert len(large) == 1
    assert first.content == second.content == http.get("/calendar.ics?lang=ru").content
