"""Hostile requests: each gets a clear 4xx problem, nothing is stored, reads are unaffected."""

from __future__ import annotations

import base64
import json
import logging
import re

import httpx
import pytest
from litestar import Request

from events.facts import FactError, validate_fact
from service import migrate
from service.http.params import parse_if_match
from service.http.problems import Problem
from tests.api_client import Api, assert_problem
from tests.factories import fact_data, make_fact
from tests.served import Served


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
    ("/calendar.ics", {"tag": "summit\u0000"}),
    ("/calendar.ics", {"id": "x\n"}),
    ("/api/v1/timeline.timelinejs.json", {"q": "a\u0000"}),
    ("/api/v1/timeline.timelinejs.json", {"tag": "a\u0000"}),
    ("/oembed", {"url": "https://timeline.example.org/embed?tag=a%00"}),
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


# --- issue 13: findings of an outside attack --------------------------------------------


def _source(**fields: str) -> dict:
    return {"title": "Joint declaration", "date": "2025-05-30", **fields}


BAD_FACTS = {
    "an id ending in a newline": fact_data("x\n"),
    "a tag ending in a newline": fact_data(tags=["summit\n"]),
    "a source URL ending in a newline": fact_data(sources=[_source(url="https://a.example/\n")]),
    "NUL in a source title": fact_data(sources=[_source(title="a\u0000b")]),
    "ESC in a source locator": fact_data(sources=[_source(locator="p. 7\u001b[31m")]),
    "DEL in a source note": fact_data(sources=[_source(note="seen\u007f")]),
    "a C1 control in a summary": fact_data(summary={"en": "a\u0085b", "ru": "б"}),
    "a line break in a title": fact_data(title={"en": "Test\nsummit", "ru": "б"}),
    "a carriage return in a place name": fact_data(
        place={"name": {"en": "Sam\rarkand", "ru": "С"}, "country": "UZ"}
    ),
    "a title of invisible characters": fact_data(title={"en": "\u200b\u2060\u3164", "ru": "б"}),
    "a source title of only a combining mark": fact_data(sources=[_source(title=" \u0301 ")]),
    "a bidi override in a place name": fact_data(
        place={"name": {"en": "\u202eSamarkand", "ru": "С"}, "country": "UZ"}
    ),
    "a bidi isolate in a summary": fact_data(summary={"en": "a\u2067b", "ru": "б"}),
}


@pytest.mark.parametrize("case", list(BAD_FACTS))
def test_bad_text_in_a_fact_is_refused_and_stores_nothing(api: Api, case: str):
    before = snapshot(api)
    response = api.client.post("/api/v1/facts", json=BAD_FACTS[case], headers=api.auth())
    assert_problem(response, 422)
    assert snapshot(api) == before


def test_text_with_marks_and_line_breaks_where_allowed_is_stored(api: Api):
    body = fact_data(
        "allowed-text",
        title={"en": "Summit in \u200fSamarkand", "ru": "Саммит"},  # a right-to-left mark
        summary={"en": "Line one.\nLine two.\tTabbed.", "ru": "Строка."},
        sources=[_source(note="first line\nsecond line", url="https://a.example/x?y=1")],
    )
    assert api.client.post("/api/v1/facts", json=body, headers=api.auth()).status_code == 201
    assert "allowed-text" in api.ids(q="line two")


def test_a_fact_id_with_a_newline_is_no_other_fact(api: Api):
    assert (
        api.client.post("/api/v1/facts", json=fact_data("x"), headers=api.auth()).status_code == 201
    )
    assert_problem(api.client.get("/api/v1/facts/x%0A"), 404)
    assert_problem(api.client.get("/api/v1/facts/x%0A/history"), 404)
    assert_problem(api.client.get("/calendar.ics", params={"id": "x\n"}), 400)


def test_seeds_obey_the_same_text_rules():
    with pytest.raises(FactError) as refused:
        validate_fact(make_fact(sources=[_source(note="a\u0000b")]))
    assert refused.value.field == "sources[0].note"


EDGE_INSTANTS = ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"]
FACT = "/api/v1/facts/kyrgyzstan-tajikistan-state-border-treaty-2025"


@pytest.mark.parametrize("instant", EDGE_INSTANTS)
@pytest.mark.parametrize("path", ["/api/v1/timeline", FACT, "/api/v1/timeline.timelinejs.json"])
def test_an_instant_beyond_the_calendar_is_a_400(api: Api, path: str, instant: str):
    assert_problem(api.client.get(path, params={"as_of": instant}), 400, "as_of")


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": _cursor(["2025-01-01", 2**70, "x"])},
        {"cursor": _cursor(["2025-01-01", 2**40, "x"])},
        {"cursor": _cursor(["2025-01-01", 1, "x\u0000"])},
        {"cursor": _cursor(["2025\u0000", 1, "x"])},
        {"cursor": _cursor(["2025-01-01", 1, "x\n"])},
        {"q": "astana\u0000"},
        {"tag": "summit\u0000"},
        {"tag": "summit\n"},
    ],
)
def test_forged_cursors_and_nul_bytes_in_filters_are_a_400(api: Api, params: dict):
    assert_problem(api.client.get("/api/v1/timeline", params=params), 400)


def test_a_reason_with_control_characters_is_refused(api: Api):
    before = snapshot(api)
    url = FACT
    patched = api.client.patch(
        url,
        json={"status": "cancelled", "reason": "oops\u0000"},
        headers=api.auth(**{"If-Match": '"1"'}),
    )
    assert_problem(patched, 422, "reason")
    deleted = api.client.delete(
        url, params={"reason": "gone\u001b[2J"}, headers=api.auth(**{"If-Match": '"1"'})
    )
    assert_problem(deleted, 422, "reason")
    assert snapshot(api) == before


def test_an_invalid_lang_on_a_write_stores_nothing(api: Api):
    before = snapshot(api)
    created = api.client.post(
        "/api/v1/facts", params={"lang": "xx"}, json=fact_data("never"), headers=api.auth()
    )
    assert_problem(created, 400, "lang")
    patched = api.client.patch(
        FACT,
        params={"lang": "xx"},
        json={"status": "cancelled"},
        headers=api.auth(**{"If-Match": '"1"'}),
    )
    assert_problem(patched, 400, "lang")
    assert snapshot(api) == before


@pytest.mark.parametrize(
    ("if_match", "status"),
    [(b'"1x"', 400), (b'"\xd9\xa3"', 400), (b'W/"1"', 412)],
)
def test_if_match_takes_only_a_strong_version_etag(api: Api, if_match: bytes, status: int):
    before = snapshot(api)
    headers = {**api.auth(), "If-Match": if_match}
    response = api.client.patch(FACT, json={"status": "cancelled"}, headers=headers)
    assert_problem(response, status)
    assert snapshot(api) == before


def test_if_match_takes_the_etag_as_read_in_either_language(api: Api):
    read = api.client.get(FACT, headers={"Accept-Language": "ru"})
    response = api.client.patch(
        FACT, json={"status": "cancelled"}, headers=api.auth(**{"If-Match": read.headers["etag"]})
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2-en"'


BODY = json.dumps(fact_data("typed")).encode()


@pytest.mark.parametrize(
    "content",
    [
        {"content": BODY, "headers": {"Content-Type": "text/plain"}},
        {"content": BODY, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"files": {"data": ("fact.json", BODY, "application/json")}},
        {"content": BODY, "headers": {}},
    ],
)
def test_writes_take_only_json(api: Api, content: dict):
    before = snapshot(api)
    headers = api.auth(**content.pop("headers", {}))
    response = api.client.post("/api/v1/facts", headers=headers, **content)
    assert_problem(response, 415, "application/json")
    assert snapshot(api) == before


def test_the_token_is_checked_before_the_body_is_read(api: Api):
    for body in (b"{not json", nested(100_000)):
        response = api.client.post(
            "/api/v1/facts", content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 401)
    wrong_type = api.client.post(
        "/api/v1/facts", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert_problem(wrong_type, 401)


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"q": "x" * 9000}, {}, 414),
        ({}, {"Accept-Language": "en," + "x" * 20_000}, 431),
        ({}, {"If-None-Match": '"1",' * 5000}, 431),
    ],
)
def test_an_oversized_request_head_is_refused(api: Api, params: dict, headers: dict, status: int):
    response = api.client.get("/api/v1/timeline", params=params, headers=headers)
    assert_problem(response, status)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert_problem(
        api.client.post(
            "/api/v1/facts", json=fact_data(), headers=api.auth(**headers), params=params
        ),
        status,
    )


def test_the_access_log_shortens_long_request_targets(tmp_path):
    url = f"sqlite:///{tmp_path / 'timeline.db'}"
    migrate.upgrade(url)
    service = Served(url, tmp_path / "server.log").start()
    try:
        for size in (8000, 30_000):
            response = httpx.get(f"{service.base}/api/v1/timeline", params={"q": "y" * size})
            assert response.status_code in (400, 414)  # q is at most 200 characters
    finally:
        service.stop()
    lines = [line for line in service.log.read_text().splitlines() if "/api/v1/timeline" in line]
    assert len(lines) == 2, lines
    assert all(len(line) < 500 for line in lines), [len(line) for line in lines]
    assert "characters]" in lines[-1] and '" 414' in lines[-1]
    # what an operator reads: the client, the request, the status and how long it took
    assert re.fullmatch(
        r'127\.0\.0\.1:\d+ - "GET /api/v1/timeline\?q=y+…\[\d+ characters\] '
        r'HTTP/1\.1" 414 \d+\.\d ms',
        lines[-1],
    ), lines[-1]


def test_the_access_log_can_be_turned_off(tmp_path):
    url = f"sqlite:///{tmp_path / 'timeline.db'}"
    migrate.upgrade(url)
    for setting in ("on", "off"):
        log = tmp_path / f"server-{setting}.log"
        service = Served(url, log, env={"TIMELINE_ACCESS_LOG": setting}).start()
        try:
            assert httpx.get(f"{service.base}/api/v1/timeline?limit=1").status_code == 200
        finally:
            service.stop()
        logged = [line for line in log.read_text().splitlines() if "/api/v1/timeline" in line]
        assert len(logged) == (1 if setting == "on" else 0), logged


@pytest.mark.parametrize("raw", [b'"\xb2"', b'"\xb9"', b'"\xb3"'])
def test_if_match_with_a_superscript_digit_is_a_400(raw: bytes):
    """uvicorn hands header bytes on as they came; Litestar reads them as Latin-1, where
    0xB2 is "²", which str.isdigit accepts and int() does not. (The test client re-encodes
    headers, so the request is made as the server would make it.)"""
    scope = {"type": "http", "method": "PATCH", "path": "/", "headers": [(b"if-match", raw)]}
    request = Request(scope)
    assert request.headers["if-match"].strip('"') in "²¹³"
    with pytest.raises(Problem) as refused:
        parse_if_match(request)
    assert refused.value.status_code == 400


def test_a_date_is_stored_without_the_spaces_around_it(api: Api):
    body = fact_data("spaced-date", date={"edtf": " 2025-04-03\n"})
    created = api.client.post("/api/v1/facts", json=body, headers=api.auth())
    assert created.status_code == 201, created.text
    assert created.json()["date"]["edtf"] == "2025-04-03"
    history = api.client.get("/api/v1/facts/spaced-date/history").json()
    assert history[0]["data"]["fact"]["date"] == {"edtf": "2025-04-03"}
