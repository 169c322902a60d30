"""The widget's routes through Litestar's test client on both backends, and the TimelineJS
conversion as a pure function."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import msgspec
import pytest
from litestar.testing import TestClient

from events.dates import parse_edtf
from projections import timeline, timelinejs
from projections.items import DateView, Item, Links, PlaceView, SourceView
from service.http import embed
from service.http.app import create_app
from service.settings import Settings
from tests.api_client import assert_problem
from tests.factories import fact_data, seeded_with_token

BASE = "https://timeline.example.org"
WIDGET_JS = embed.join_widget()


class Client:
    def __init__(self, client: TestClient, token: str) -> None:
        self.http = client
        self.token = token

    def get(self, path: str, **kwargs):
        return self.http.get(path, **kwargs)

    def timeline_ids(self, **params) -> list[str]:
        response = self.http.get("/api/v1/timeline", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    def create(self, data: dict) -> None:
        response = self.http.post(
            "/api/v1/facts", json=data, headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 201, response.text


@pytest.fixture
def client(database_url: str) -> Iterator[Client]:
    token = asyncio.run(seeded_with_token(database_url))
    settings = Settings(
        database_url=database_url, db_null_pool=True, public_url=BASE, scheduler=False
    )
    with TestClient(create_app(settings)) as http:
        yield Client(http, token)


# --- /widget.js ---------------------------------------------------------------------------------


def test_widget_script_is_javascript_with_validators_and_cache_headers(client: Client):
    response = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "content-encoding" not in response.headers
    assert response.content == WIDGET_JS
    assert b"customElements.define(NAME" in response.content
    assert b"const NAME = 'event-timeline'" in response.content
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age=" in response.headers["cache-control"]
    assert "public" in response.headers["cache-control"]
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "Accept-Encoding" in response.headers["vary"]
    etag = response.headers["etag"]
    again = client.get("/widget.js", headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    stale = client.get(
        "/widget.js", headers={"Accept-Encoding": "identity", "If-None-Match": '"x"'}
    )
    assert stale.status_code == 200


def test_widget_script_is_its_parts_in_one_closure_without_comment_lines():
    served = WIDGET_JS.decode()
    assert served.startswith("/*! <event-timeline>")
    body = served[served.index("(() => {\n'use strict';\n") :]
    assert body.endswith("})();\n")
    at = 0
    for name in embed.WIDGET_PARTS:
        source = (embed.WIDGET_DIR / name).read_text(encoding="utf-8")
        for line in source.splitlines():
            if line.lstrip().startswith("//"):
                continue
            found = served.find(line + "\n", at)
            assert found >= 0, f"{name}: {line!r} is not served where it belongs"
            at = found + len(line)
        # what was left out was never inside a string: the CSS and the markup stay whole
        for literal in template_literals(source):
            assert not re.search(r"\n\s*//", literal), f"{name}: {literal[:60]!r}"
            assert literal in served
    assert not re.search(r"^\s*//", served, re.M)


def template_literals(source: str) -> list[str]:
    """The `...` strings of a script (its regular expressions have no quotes to confuse)."""
    literals, at = [], 0
    while (start := re.search(r"//|/\*|['\"`]", source[at:])) is not None:
        begin = at + start.start()
        token = start[0]
        if token == "//":
            at = source.index("\n", begin)
            continue
        closing = {"/*": r"\*/", "'": r"(?<!\\)'", '"': r'(?<!\\)"', "`": r"(?<!\\)`"}[token]
        end = re.compile(closing).search(source, begin + len(token))
        assert end is not None, f"unclosed {token} at {begin}"
        if token == "`":
            literals.append(source[begin : end.end()])
        at = end.end()
    return literals


def test_widget_script_has_a_content_hashed_url_cached_for_good(client: Client):
    path = embed.WIDGET_PATH
    assert path == f"/widget.{hashlib.sha256(WIDGET_JS).hexdigest()[:20]}.js"
    response = client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == WIDGET_JS
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    stable = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert response.headers["etag"] == stable.headers["etag"]
    assert "immutable" not in stable.headers["cache-control"]  # the alias may change
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == WIDGET_JS
    wrong = "/widget." + "0" * 20 + ".js"
    assert_problem(client.get(wrong), 404)
    assert_problem(client.get(path.replace(".js", ".jsx")), 404)
    schema = client.get("/schema/openapi.json").json()
    assert "/widget.js" in schema["paths"] and path not in schema["paths"]


def test_widget_script_is_sent_gzipped_within_the_size_goal(client: Client):
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == WIDGET_JS  # the client unzipped it
    sent = int(response.headers["content-length"])
    assert sent == len(gzip.compress(WIDGET_JS, 9, mtime=0))
    assert sent <= 15 * 1024, f"widget.js is {sent} bytes gzipped; the goal is 15 KB"
    plain = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert response.headers["etag"] != plain.headers["etag"]  # two representations
    refused = client.get("/widget.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


# --- /embed --------------------------------------------------------------------------------------


def test_embed_page_is_framable_from_any_origin_and_locked_down(client: Client):
    response = client.get("/embed", params={"country": ["KZ", "UZ"], "lang": "ru"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "x-frame-options" not in response.headers
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert csp["frame-ancestors"] == "*"
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    page = response.text
    # the page's one inline style is allowed by its hash, nothing else inline
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert csp["style-src"] == f"'sha256-{digest}'"
    assert "<script>" not in page
    assert f'<script src="{embed.WIDGET_PATH[1:]}" defer></script>' in page  # relative
    assert '<html lang="ru">' in page
    assert re.search(r'<event-timeline [^>]*lang="ru" country="KZ,UZ"', page)


def test_embed_page_takes_kinds_as_every_route_does(client: Client):
    page = client.get("/embed", params={"kind": ["treaty", "summit,treaty"]}).text
    assert re.search(r'<event-timeline [^>]*kind="treaty,summit"', page)
    canonical = html.unescape(re.search(r'<link rel="canonical" href="([^"]+)"', page)[1])
    assert canonical == f"{BASE}/embed?lang=en&kind=treaty&kind=summit"
    assert "calendar.ics?kind=treaty&amp;kind=summit&amp;lang=en" in page


def test_embed_page_head_advertises_oembed(client: Client):
    page = client.get("/embed", params={"country": "KZ", "tag": "summit"}).text
    match = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert match is not None
    href = html.unescape(match[1])
    assert href.startswith(f"{BASE}/oembed?")
    canonical = html.unescape(re.search(r'<link rel="canonical" href="([^"]+)"', page)[1])
    assert canonical == f"{BASE}/embed?lang=en&country=KZ&tag=summit"
    answer = client.get(href.removeprefix(BASE))
    assert answer.status_code == 200
    assert answer.json()["type"] == "rich"
    assert f'src="{html.escape(canonical)}"' in answer.json()["html"]


def test_embed_page_escapes_everything_it_echoes():
    hostile = '"><script>alert(1)</script>'
    shown = timeline.Filters(tags=[hostile], countries=["KZ"])
    filters = embed.EmbedFilters(lang="en", filters=shown)
    page = embed.embed_page(BASE, filters)
    assert "<script>alert(1)" not in page
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the attribute and title
    assert page.count("<script") == 1  # the widget's own


def test_embed_page_revalidates(client: Client):
    first = client.get("/embed", params={"country": "KZ"})
    again = client.get(
        "/embed", params={"country": "KZ"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    other = client.get("/embed", params={"country": "UZ"})
    assert other.headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "KZ,XX"}, "country"),
        ({"tag": '"><script>'}, "tag"),
        ({"status": "finished"}, "status"),
        ({"kind": "picnic"}, "kind"),
        ({"lang": "de"}, "lang"),
        ({"lang": ["en", "ru"]}, "lang"),
        ({"from": "2025-13-01"}, "from"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "before"),
        ({"theme": "neon"}, "theme"),
        ({"country": ["KZ"] * 51}, "at most"),
    ],
)
def test_embed_page_refuses_bad_filters_with_a_readable_page(client: Client, params, word):
    response = client.get("/embed", params=params)
    assert response.status_code == 400
    # it is shown inside someone's iframe: a sentence in a page, not problem JSON
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    [message] = re.findall(r"<p>(.*?)</p>", response.text, re.S)
    assert message.startswith("This timeline cannot be shown: ") and word in message
    assert "<script" not in response.text and '"detail"' not in response.text


# --- /oembed -------------------------------------------------------------------------------------


def oembed(client: Client, url: str, **params):
    return client.get("/oembed", params={"url": url, **params})


def test_oembed_answers_a_rich_iframe_of_the_embed_page(client: Client):
    response = oembed(client, f"{BASE}/embed?country=KZ&status=planned&lang=ru", format="json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_url"] == f"{BASE}/"
    assert (body["width"], body["height"]) == embed.EMBED_SIZE
    assert body["title"] == "Хронология: KZ"
    frame = re.fullmatch(
        r'<iframe src="([^"]+)" width="(\d+)" height="(\d+)" title="([^"]+)"[^>]*></iframe>',
        body["html"],
    )
    assert frame is not None, body["html"]
    src = frame[1]
    assert "&amp;" in src and "&country" not in src  # the URL is escaped in the attribute
    assert html.unescape(src) == f"{BASE}/embed?lang=ru&country=KZ&status=planned"
    assert (int(frame[2]), int(frame[3])) == embed.EMBED_SIZE
    assert (
        client.get(urlsplit(html.unescape(src))._replace(scheme="", netloc="").geturl()).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("maxwidth", "maxheight", "size"),
    [(300, 200, (300, 200)), (5000, None, embed.EMBED_SIZE), (None, 100, (800, 100))],
)
def test_oembed_size_is_clamped_to_the_consumers_maximum(client: Client, maxwidth, maxheight, size):
    params = {k: v for k, v in {"maxwidth": maxwidth, "maxheight": maxheight}.items() if v}
    body = oembed(client, f"{BASE}/embed", **params).json()
    assert (body["width"], body["height"]) == size
    assert f'width="{size[0]}" height="{size[1]}"' in body["html"]


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example.org/embed?country=KZ",
        f"{BASE}/api/v1/timeline?country=KZ",
        f"{BASE}/embed/../calendar.ics",
        f"{BASE}/embed?country=XX",
        "javascript:alert(1)",
        "not a url",
    ],
)
def test_oembed_404_for_urls_this_service_does_not_serve(client: Client, url):
    assert_problem(oembed(client, url), 404, "embed")


def test_oembed_501_for_other_formats(client: Client):
    assert_problem(oembed(client, f"{BASE}/embed", format="xml"), 501, "json")


@pytest.mark.parametrize(
    "params",
    [{}, {"url": f"{BASE}/embed", "maxwidth": "wide"}, {"url": f"{BASE}/embed", "maxheight": 0}],
)
def test_oembed_400_for_bad_parameters(client: Client, params):
    assert_problem(client.get("/oembed", params=params), 400)


# --- /api/v1/timeline.timelinejs.json -------------------------------------------------------------

TLJS = "/api/v1/timeline.timelinejs.json"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"country": "KZ", "lang": "ru"},
        {"status": ["planned", "proposed"]},
        {"from": "2025-01-01", "to": "2025-12-31"},
    ],
)
def test_timelinejs_has_the_timeline_facts_for_the_same_filters(client: Client, params):
    response = client.get(TLJS, params=params)
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["unique_id"] for e in events] == client.timeline_ids(**params)
    assert response.json()["scale"] == "human"


def test_timelinejs_keeps_each_dates_precision(client: Client):
    events = {e["unique_id"]: e for e in client.get(TLJS).json()["events"]}
    summit = events["first-central-asia-eu-summit-2025"]
    assert summit["start_date"] == {"year": 2025, "month": 4, "day": 3}
    assert summit["end_date"] == {"year": 2025, "month": 4, "day": 4}
    assert "display_date" not in summit
    assert summit["text"]["headline"] == "First Central Asia–EU summit in Samarkand"
    march = events["first-consultative-meeting-central-asia-2018"]
    assert march["start_date"] == {"year": 2018, "month": 3}
    year = events["next-central-asia-italy-summit-kyrgyzstan-2027"]
    assert year["start_date"] == {"year": 2027}
    spring = events["fourth-central-asia-italy-foreign-ministers-conference-2026"]
    assert spring["display_date"] == "spring 2026"
    assert spring["start_date"] == {"year": 2026, "month": 3, "display_date": "spring 2026"}
    assert spring["end_date"] == {"year": 2026, "month": 5}
    by = events["central-asia-italy-water-hydropower-roundtable-2026"]
    assert by["start_date"] == {"year": 2026} and by["display_date"] == "by 2026"
    until = events["central-asia-trade-economic-cooperation-programme-2035"]
    assert until["start_date"] == {"year": 2035} and until["display_date"] == "until 2035"
    assert "Proposed" in until["text"]["text"]
    # calendars have no event for an open-ended period: no "add to calendar" for it
    assert "calendar.ics" not in until["text"]["text"]
    assert "calendar.ics?id=first-central-asia-eu-summit-2025" in summit["text"]["text"]


def test_timelinejs_in_russian_gives_every_month_name_in_russian(client: Client):
    """TimelineJS's own formatting would print English months next to Russian labels (or,
    with its `language: 'ru'`, a month alone in the genitive): those dates carry ours."""
    events = {e["unique_id"]: e for e in client.get(TLJS, params={"lang": "ru"}).json()["events"]}
    summit = events["first-central-asia-eu-summit-2025"]
    assert summit["start_date"] == {
        "year": 2025,
        "month": 4,
        "day": 3,
        "display_date": "3 апреля 2025",
    }
    assert summit["end_date"] == {
        "year": 2025,
        "month": 4,
        "day": 4,
        "display_date": "4 апреля 2025",
    }
    assert summit["display_date"] == "3–4 апреля 2025"
    march = events["first-consultative-meeting-central-asia-2018"]
    assert march["start_date"] == {"year": 2018, "month": 3, "display_date": "март 2018"}
    assert march["display_date"] == "март 2018"
    year = events["next-central-asia-italy-summit-kyrgyzstan-2027"]
    assert year["start_date"] == {"year": 2027} and "display_date" not in year
    spring = events["fourth-central-asia-italy-foreign-ministers-conference-2026"]
    assert spring["display_date"] == "весна 2026"
    assert spring["start_date"]["display_date"] == "весна 2026"
    assert "Участники: Казахстан, Кыргызстан, Таджикистан" in summit["text"]["text"]
    assert "KZ" not in summit["text"]["text"]
    # in English TimelineJS's own formatting is right: no display_date is imposed
    english = {e["unique_id"]: e for e in client.get(TLJS, params={"lang": "en"}).json()["events"]}
    assert "display_date" not in english["first-central-asia-eu-summit-2025"]
    assert (
        "Participants: Kazakhstan, Kyrgyzstan"
        in english["first-central-asia-eu-summit-2025"]["text"]["text"]
    )


def test_timelinejs_escapes_fact_text_it_hands_to_timelinejs_as_html(client: Client):
    client.create(
        fact_data(
            "hostile-timelinejs",
            title={"en": "<img src=x onerror=alert(1)>", "ru": "x"},
            summary={"en": "<script>alert(2)</script>", "ru": "x"},
        )
    )
    [event] = [
        e for e in client.get(TLJS).json()["events"] if e["unique_id"] == "hostile-timelinejs"
    ]
    assert event["text"]["headline"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert "<script>" not in event["text"]["text"]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in event["text"]["text"]


def test_timelinejs_reads_every_page_and_refuses_too_many(client: Client, monkeypatch):
    monkeypatch.setattr(embed, "PAGE", 2)
    ids = [e["unique_id"] for e in client.get(TLJS).json()["events"]]
    assert ids == client.timeline_ids() and len(ids) == 15
    monkeypatch.setattr(embed, "TIMELINEJS_MAX_FACTS", 10)
    pages_read = []
    read_page = timeline.page

    def counted(*args, **kwargs):
        pages_read.append(args)
        return read_page(*args, **kwargs)

    monkeypatch.setattr(timeline, "page", counted)
    # (another form of the request: the first answer is kept until the log changes)
    assert_problem(client.get(TLJS, params={"lang": "en"}), 400, "15 facts match", "narrow")
    assert pages_read == []  # refused from a count, before any fact was read
    assert client.get(TLJS, params={"country": "IT"}).status_code == 200
    assert pages_read  # (what counts the pages read sees them)


def test_timelinejs_is_a_conditional_read(client: Client):
    first = client.get(TLJS, params={"country": "KZ"})
    assert first.headers["etag"]
    again = client.get(
        TLJS, params={"country": "KZ"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize("params", [{"country": "XX"}, {"from": "soon"}, {"lang": "de"}])
def test_timelinejs_refuses_bad_filters(client: Client, params):
    assert_problem(client.get(TLJS, params=params), 400)


# --- the TimelineJS conversion, as a pure function --------------------------------------------------


def tl(**fields) -> dict:
    return msgspec.to_builtins(timelinejs.TLDate(**fields))


@pytest.mark.parametrize(
    ("edtf", "start", "end", "shown"),
    [
        ("2025-03-13", tl(year=2025, month=3, day=13), None, False),
        (
            "2025-04-03/2025-04-04",
            tl(year=2025, month=4, day=3),
            tl(year=2025, month=4, day=4),
            False,
        ),
        ("2018-03", tl(year=2018, month=3), None, False),
        ("2027", tl(year=2027), None, False),
        ("2026-03/2026-05", tl(year=2026, month=3), tl(year=2026, month=5), False),
        ("2020/2029", tl(year=2020), tl(year=2029), False),
        (
            "2026-21",
            tl(year=2026, month=3, display_date="spring 2026"),
            tl(year=2026, month=5),
            True,
        ),
        (
            "2026-24",
            tl(year=2026, month=12, display_date="winter 2026–27"),
            tl(year=2027, month=2),
            True,
        ),
        ("2026-21/2026-23", tl(year=2026, month=3), tl(year=2026, month=11), True),
        ("[..2026]", tl(year=2026), None, True),
        ("[2026-05..]", tl(year=2026, month=5), None, True),
        ("../2035", tl(year=2035), None, True),
        ("2025/..", tl(year=2025), None, True),
        ("2025-03~", tl(year=2025, month=3), None, True),
        ("2025-03-13?", tl(year=2025, month=3, day=13), None, True),
    ],
)
def test_dates_keep_precision_and_label_what_timelinejs_cannot_show(edtf, start, end, shown):
    label = parse_edtf(edtf).label["en"]
    got_start, got_end, display = timelinejs.dates(edtf, label)
    assert msgspec.to_builtins(got_start) == start
    assert (msgspec.to_builtins(got_end) if got_end else None) == end
    assert display == (label if shown else None)


def make_item(**overrides) -> Item:
    fields = {
        "id": "x",
        "title": "A & B <summit>",
        "summary": 'He said "hi" <b>',
        "kind": "summit",
        "status": "elapsed",
        "date": DateView(
            edtf="2026", start="2026-01-01", end="2026-12-31", precision="year", label="2026"
        ),
        "place": PlaceView(name="<Rome>", country="IT"),
        "participants": ["IT", "KZ"],
        "tags": [],
        "sources": [
            SourceView(
                title="Doc <1>", date="2025-05-30", locator="p. 7", url='https://example.org/a"b'
            )
        ],
        "version": 1,
        "updated_at": "2026-01-01T00:00:00Z",
        "links": Links(
            self="s",
            page=f"{BASE}/facts/x?lang=en",
            ics=f"{BASE}/calendar.ics?id=x&lang=en",
            webcal="w",
            history="h",
        ),
    }
    fields.update(overrides)
    return Item(**fields)


def test_event_text_is_escaped_html_with_status_place_sources_and_calendar_link():
    document = msgspec.to_builtins(timelinejs.timelinejs([make_item()], "en"))
    [event] = document["events"]
    assert event["unique_id"] == "x"
    assert event["text"]["headline"] == "A &amp; B &lt;summit&gt;"
    text = event["text"]["text"]
    assert "<strong>Date passed, outcome unknown</strong> · &lt;Rome&gt;" in text
    assert "He said &quot;hi&quot; &lt;b&gt;" in text
    assert "Participants: Italy, Kazakhstan" in text
    assert '<a href="https://example.org/a&quot;b">Doc &lt;1&gt;</a> (2025-05-30, p. 7)' in text
    assert f'<a href="{BASE}/calendar.ics?id=x&amp;lang=en">Add to calendar</a>' in text
    assert f'<a href="{BASE}/facts/x?lang=en">More</a>' in text  # the public page
    russian = timelinejs.timelinejs([make_item(status="held")], "ru").events[0].text.text
    assert "Состоялось" in russian and "Добавить в календарь" in russian
    assert "Участники: Италия, Казахстан" in russian
