"""Hostile requests: each gets a clear 4xx problem, nothing is stored, reads are unaffected."""

# ruff: noqa: F811 (the `api` fixture is imported from test_api and named by each test)

from __future__ import annotations

import json
import logging

import pytest

from tests.factories import fact_data
from tests.test_api import Api, api, assert_problem  # noqa: F401


def head(api: Api) -> int:
    return api.client.get("/health").json()["last_position"]


def snapshot(api: Api) -> tuple[int, bytes, bytes]:
    """What readers see: the log's head, the timeline and a feed."""
    return (
        head(api),
        api.client.get("/api/v1/timeline", params={"limit": 1000}).content,
        api.client.get("/calendar.ics", params={"precision": "any"}).content,
    )


def nested(depth: int) -> bytes:
    return b'{"id":' + b"[" * depth + b"]" * depth + b"}"


BODIES = {
    "over the size limit": (json.dumps(fact_data(summary={"en": "x" * 2_000_000})).encode(), 413),
    "deeply nested JSON": (nested(100_000), 400),
    "invalid UTF-8": (json.dumps(fact_data()).encode().replace(b"Test", b"T\xff\xfest"), 400),
    "not JSON": (b"id=x&title=y", 400),
    "a JSON array": (b"[1, 2, 3]", 400),
    "a JSON string": (b'"BEGIN:VEVENT"', 400),
    "null bytes in a title": (
        json.dumps(fact_data(title={"en": "a\u0000b", "ru": "б"})).encode(),
        400,
    ),
    "HTML in the id": (json.dumps(fact_data("<script>alert(1)</script>")).encode(), 400),
    "SQL in the id": (json.dumps(fact_data("x'; DROP TABLE events; --")).encode(), 400),
    "a huge tag list": (json.dumps(fact_data(tags=[f"t{i}" for i in range(10_000)])).encode(), 400),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_hostile_bodies_get_a_problem_and_store_nothing(api: Api, case: str):
    body, status = BODIES[case]
    before = snapshot(api)
    response = api.client.post(
        "/api/v1/facts",
        content=body,
        headers=api.auth(**{"Content-Type": "application/json"}),
    )
    if status == 400:
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    else:
        assert_problem(response, status)
    assert snapshot(api) == before


QUERIES = [
    ("/api/v1/timeline", {"q": "x" * 60_000}),
    ("/api/v1/timeline", {"country": ["KZ"] * 5000}),
    ("/api/v1/timeline", {"tag": ["summit"] * 5000}),
    ("/api/v1/timeline", {"limit": "1" + "0" * 40}),
    ("/api/v1/timeline", {"from": "99999-99-99"}),
    ("/api/v1/timeline", {"as_of": "'; DROP TABLE events; --"}),
    ("/api/v1/timeline", {"cursor": "../../etc/passwd"}),
    ("/api/v1/timeline", {"lang": "<script>"}),
    ("/calendar.ics", {"tag": ["a"] * 5000}),
    ("/calendar.ics", {"country": ["KZ\r\nBEGIN:VEVENT"]}),
    ("/calendar.ics", {"id": ["x\r\nUID:evil"]}),
    ("/api/v1/events", {"after": "-1 OR 1=1"}),
    ("/api/v1/events", {"limit": "99999999999"}),
]


@pytest.mark.parametrize(("path", "params"), QUERIES)
def test_hostile_queries_get_a_4xx_problem(api: Api, path: str, params: dict):
    before = snapshot(api)
    response = api.client.get(path, params=params)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/problem+json")
    assert snapshot(api) == before


def test_sql_metacharacters_in_a_search_are_just_text(api: Api):
    for text in ("' OR '1'='1", '"; DROP TABLE events; --', "%", "_", "\\", "100%_\\"):
        response = api.client.get("/api/v1/timeline", params={"q": text})
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
    assert api.client.get("/api/v1/timeline", params={"q": "astana"}).json()["items"]


@pytest.mark.parametrize(
    "path",
    [
        "/widget.js/../../pyproject.toml",
        "/..%2f..%2fpyproject.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/embed/..%2f..%2fetc%2fpasswd",
        "/widget/../../../../etc/passwd",
        "/api/v1/facts/..%2f..%2fetc%2fpasswd",
        "/schema/..%2f..%2fpyproject.toml",
    ],
)
def test_path_traversal_reaches_no_file(api: Api, path: str):
    response = api.client.get(path)
    assert response.status_code in (400, 404), (response.status_code, response.text[:200])
    assert b"root:" not in response.content and b"[project]" not in response.content


def test_responses_carry_security_headers(api: Api):
    for path in ("/api/v1/timeline", "/calendar.ics", "/api/v1/facts/no-such-fact", "/schema"):
        response = api.client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"], path
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
    assert api.client.get("/schema").headers["content-type"].startswith("text/html")


def test_cors_is_open_only_for_public_reads(api: Api):
    origin = {"Origin": "https://elsewhere.example"}
    read = api.client.get("/api/v1/timeline", headers=origin)
    assert read.headers["access-control-allow-origin"] == "*"
    preflight = api.client.options(
        "/api/v1/facts",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert "POST" not in preflight.headers.get("access-control-allow-methods", "")
    assert preflight.status_code >= 400 or "access-control-allow-origin" not in preflight.headers


def test_no_token_appears_in_the_logs(api: Api, caplog: pytest.LogCaptureFixture, capfd):
    guess = "guess-" + "A" * 40
    with caplog.at_level(logging.DEBUG):
        bad = api.client.post(
            "/api/v1/facts", json=fact_data("logged"), headers={"Authorization": f"Bearer {guess}"}
        )
        good = api.client.post("/api/v1/facts", json=fact_data("logged"), headers=api.auth())
    assert bad.status_code == 401 and good.status_code == 201
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        assert api.token not in text
        assert guess not in text
