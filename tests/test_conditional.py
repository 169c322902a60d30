"""The conditional-GET middleware's cache of answers: kept by ETag, never served stale."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from service.app import create_app
from service.conditional import ResponseCache
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


def test_the_cache_is_bounded_in_bytes_and_drops_the_least_recently_used():
    cache = ResponseCache(max_bytes=10, max_body=6)
    a, b, c, big = ((1, None, f"/{name}", b"", "") for name in ("a", "b", "c", "big"))
    cache.put(a, [], b"aaaa")
    cache.put(b, [], b"bbbb")
    assert cache.get(a) is not None  # now the most recent
    cache.put(c, [], b"cccc")  # 12 bytes: b goes
    assert cache.get(b) is None and cache.get(a) and cache.get(c)
    cache.put(big, [], b"x" * 7)  # over max_body: not kept
    assert cache.get(big) is None and cache.size == 8
