"""The embeddable timeline: its script, a page to frame, oEmbed, and TimelineJS JSON.

Handlers stay thin: `embed_filters` checks an embed page's query, `embed_page` renders the
page, `oembed_for` answers an oEmbed request and `projections.timelinejs` converts facts.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from string import Template
from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec
import sqlalchemy as sa
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.params import Parameter

from projections import timeline, timelinejs
from projections.items import feed_url, item
from service.http import params
from service.http.conditional import KEPT_LARGE, etag_matches
from service.http.problems import Problem

WIDGET_DIR = Path(__file__).resolve().parents[1] / "widget"
THEMES = ("auto", "light", "dark")
EMBED_SIZE = (800, 480)  # the iframe's size before a consumer's maxwidth / maxheight
TIMELINEJS_MAX_FACTS = 5000  # one TimelineJS document; more would not be readable anyway
PAGE = 1000

SCRIPT_CACHE = "public, max-age=600, stale-while-revalidate=86400"
HASHED_SCRIPT_CACHE = "public, max-age=31536000, immutable"
PAGE_CACHE = "public, max-age=300"
OEMBED_CACHE_SECONDS = 3600

TITLES = {"en": "Timeline", "ru": "Хронология"}
FEED_LABELS = {"en": "Subscribe to the calendar feed", "ru": "Подписаться на календарь"}


# --- static assets ------------------------------------------------------------------------


class Asset(msgspec.Struct, frozen=True):
    """A script served as is, with its gzipped form and an ETag (its content hash) for each."""

    body: bytes
    gzipped: bytes
    digest: str

    @classmethod
    def of(cls, body: bytes) -> Asset:
        digest = hashlib.sha256(body).hexdigest()[:20]
        return cls(body=body, gzipped=gzip.compress(body, 9, mtime=0), digest=digest)

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


# The widget's sources, in the order they are joined: each may use the names of those
# before it (model.js's constants are the styles' too; element.js uses them all).
WIDGET_PARTS = ("model.js", "strings.js", "styles.js", "element.js")


def join_widget() -> bytes:
    """The one file embedders load: the parts in one closure, so their top-level names are
    each other's and no one else's, with no modules or build step for the pages.

    Lines that are only a `//` comment are left out: the sources may say why at length and
    embedders still get the script within its size budget (no template literal of the
    widget has a line starting with `//`; a test holds them to it)."""
    lines = [
        line
        for name in WIDGET_PARTS
        for line in (WIDGET_DIR / name).read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("//")
    ]
    header = [
        "/*! <event-timeline>: the timeline service's embeddable widget. No dependencies.",
        f" * Joined from service/widget/{{{','.join(WIDGET_PARTS)}}}, comments left out. */",
        "(() => {",
        "'use strict';",
    ]
    return "\n".join([*header, *lines, "})();", ""]).encode()


WIDGET = Asset.of(join_widget())
# The same script at a URL that changes whenever it does, so it may be cached for good.
WIDGET_PATH = f"/widget.{WIDGET.digest}.js"
PAGE_TEMPLATE = Template((WIDGET_DIR / "embed.html").read_text(encoding="utf-8"))


def _inline_style_hash(template: str) -> str:
    """The CSP hash of the page's one inline <style>, so no 'unsafe-inline' is needed."""
    match = re.search(r"<style>(.*?)</style>", template, re.S)
    assert match is not None, "embed.html has an inline <style>"
    digest = hashlib.sha256(match[1].encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# The page loads only its own script and API; any site may frame it.
EMBED_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        f"style-src {_inline_style_hash(PAGE_TEMPLATE.template)}",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors *",
    ]
)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding takes gzip: named or `*`, without `q=0`."""
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            params = params.strip()
            return not params.startswith("q=") or _q(params[2:]) > 0
    return False


def _q(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def cached(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    etag: str,
    headers: dict[str, str],
    gzipped: bytes | None = None,
) -> Response[bytes]:
    """A 200 (gzipped when the client takes it and a gzipped form exists), or a 304."""
    sent = body
    encoding: str | None = None  # of the body sent
    if gzipped is not None and accepts_gzip(request.headers.get("accept-encoding")):
        sent, encoding = gzipped, "gzip"
        etag = etag[:-1] + '-gz"'
    headers = {"ETag": etag, "X-Content-Type-Options": "nosniff", **headers}
    if gzipped is not None:
        headers["Vary"] = ", ".join(filter(None, [headers.get("Vary"), "Accept-Encoding"]))
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return Response(sent, headers=headers, media_type=media_type)


# --- the embed page's filters -------------------------------------------------------------


class EmbedFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What an embed page shows: the widget's filters, its language and theme."""

    lang: str
    filters: timeline.Filters = msgspec.field(default_factory=timeline.Filters)
    theme: str = "auto"

    def query(self) -> str:
        """The page's query string, in a canonical order."""
        pairs = [("lang", self.lang), *self.filters.params()]
        if self.theme != "auto":
            pairs.append(("theme", self.theme))
        return urlencode(pairs)

    def widget_attributes(self) -> dict[str, str]:
        filters = self.filters
        attributes = {
            "lang": self.lang,
            "country": ",".join(filters.countries),
            "tag": ",".join(filters.tags),
            "status": ",".join(filters.statuses),
            "kind": ",".join(filters.kinds),
            "from": str(filters.start or ""),
            "to": str(filters.end or ""),
            "theme": self.theme if self.theme != "auto" else "",
        }
        return {name: value for name, value in attributes.items() if value}

    def title(self) -> str:
        scope = [*self.filters.countries, *self.filters.tags]
        return TITLES[self.lang] + (f": {', '.join(scope)}" if scope else "")


def _one(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name) or []
    if len(values) > 1:
        raise Problem(400, f"give {name} at most once")
    return values[0] if values else None


def embed_filters(
    query: Mapping[str, Sequence[str]], accept_language: str | None = None
) -> EmbedFilters:
    """Check an embed page's query (unknown parameters are ignored); Problem(400) if bad."""
    filters = params.timeline_filters(
        from_=_one(query, "from"),
        to=_one(query, "to"),
        country=query.get("country"),
        tag=query.get("tag"),
        status=query.get("status"),
        kind=query.get("kind"),
    )
    theme = _one(query, "theme") or "auto"
    if theme not in THEMES:
        raise Problem(400, f"theme must be one of {', '.join(THEMES)}")
    lang = params.choose_lang(_one(query, "lang"), accept_language)
    return EmbedFilters(lang=lang, filters=filters, theme=theme)


def embed_url(base_url: str, filters: EmbedFilters) -> str:
    return f"{base_url}/embed?{filters.query()}"


def oembed_url(base_url: str, page_url: str) -> str:
    return f"{base_url}/oembed?" + urlencode({"url": page_url, "format": "json"})


def embed_page(base_url: str, filters: EmbedFilters) -> str:
    """The standalone page: every value from the query is HTML-escaped."""
    attributes = "".join(
        f' {name}="{escape(value, quote=True)}"'
        for name, value in filters.widget_attributes().items()
    )
    page_url = embed_url(base_url, filters)
    shown = filters.filters
    feed = feed_url(
        base_url,
        country=shown.countries,
        tag=shown.tags,
        status=shown.statuses,
        kind=shown.kinds,
        lang=filters.lang,
    )
    return PAGE_TEMPLATE.substitute(
        lang=escape(filters.lang),
        title=escape(filters.title()),
        embed_url=escape(page_url),
        oembed_url=escape(oembed_url(base_url, page_url)),
        attributes=attributes,
        feed_url=escape(feed),
        feed_label=escape(FEED_LABELS[filters.lang]),
        widget_script=escape(WIDGET_PATH.removeprefix("/")),
    )


def error_page(detail: str) -> str:
    """The page an iframe shows for a bad embed URL: what is wrong, in plain words."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,"><title>Timeline: bad embed link</title></head>'
        f"<body><p>This timeline cannot be shown: {escape(detail)}.</p></body></html>"
    )


# The error page has no script, style or image at all, and may be framed like the page.
ERROR_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *"


# --- oEmbed -------------------------------------------------------------------------------


class OEmbed(msgspec.Struct):
    """An oEmbed 1.0 `rich` response."""

    version: str
    type: str
    title: str
    provider_name: str
    provider_url: str
    html: str
    width: int
    height: int
    cache_age: int


def embedded_filters(url: str, base_url: str) -> EmbedFilters | None:
    """The filters of an embed page URL of this service; None for any other URL."""
    try:
        target, base = urlsplit(url), urlsplit(base_url)
    except ValueError:
        return None
    if target.scheme not in ("http", "https") or target.netloc.lower() != base.netloc.lower():
        return None
    if target.path.rstrip("/") != base.path.rstrip("/") + "/embed":
        return None
    try:
        return embed_filters(parse_qs(target.query))
    except Problem:
        return None


def oembed_for(
    filters: EmbedFilters, base_url: str, maxwidth: int | None, maxheight: int | None
) -> OEmbed:
    width = min(EMBED_SIZE[0], maxwidth or EMBED_SIZE[0])
    height = min(EMBED_SIZE[1], maxheight or EMBED_SIZE[1])
    title = filters.title()
    frame = (
        f'<iframe src="{escape(embed_url(base_url, filters))}" width="{width}" '
        f'height="{height}" title="{escape(title)}" frameborder="0" loading="lazy" '
        f'style="border:0;max-width:100%"></iframe>'
    )
    return OEmbed(
        version="1.0",
        type="rich",
        title=title,
        provider_name="Timeline service",
        provider_url=f"{base_url}/",
        html=frame,
        width=width,
        height=height,
        cache_age=OEMBED_CACHE_SECONDS,
    )


# --- handlers -----------------------------------------------------------------------------


def _widget_response(request: Request, cache_control: str) -> Response[bytes]:
    return cached(
        request,
        WIDGET.body,
        gzipped=WIDGET.gzipped,
        media_type="text/javascript",  # Litestar adds "; charset=utf-8" to text/*
        etag=WIDGET.etag,
        headers={"Cache-Control": cache_control, "Cross-Origin-Resource-Policy": "cross-origin"},
    )


@get("/widget.js", media_type="text/javascript", summary="The <event-timeline> widget")
async def widget_script(request: Request) -> Response[bytes]:
    return _widget_response(request, SCRIPT_CACHE)


# A path made at startup: Litestar matches parameters only as whole path segments, and any
# other hash is an unknown path, so the app's own 404 answers it. Not in the OpenAPI
# document, whose paths would otherwise change with each edit to the widget.
@get(WIDGET_PATH, media_type="text/javascript", include_in_schema=False)
async def hashed_widget_script(request: Request) -> Response[bytes]:
    return _widget_response(request, HASHED_SCRIPT_CACHE)


@get(
    "/embed",
    media_type=MediaType.HTML,
    summary="A page showing the widget, to put in an iframe on any site",
    description=(
        "Takes the widget's filters: `lang`, `country`, `tag`, `status`, `kind` (repeated "
        "or comma-separated), `from`, `to` and `theme` (auto, light, dark)."
    ),
)
async def embed(request: Request, state: State) -> Response[bytes]:
    query = {name: request.query_params.getall(name) for name in request.query_params}
    try:
        filters = embed_filters(query, request.headers.get("accept-language"))
    except Problem as problem:  # shown inside someone's iframe: a sentence, not JSON
        return Response(
            error_page(problem.detail).encode(),
            status_code=problem.status_code,
            media_type="text/html",
            headers={"Content-Security-Policy": ERROR_CSP, "Cache-Control": "no-store"},
        )
    body = embed_page(params.base_url(state), filters).encode()
    return cached(
        request,
        body,
        media_type="text/html",
        etag=f'"{hashlib.sha256(body).hexdigest()[:20]}"',
        headers={
            "Cache-Control": PAGE_CACHE,
            "Vary": "Accept-Language",
            "Content-Security-Policy": EMBED_CSP,
            "Referrer-Policy": "strict-origin-when-cross-origin",
        },
    )


@get(
    "/oembed",
    summary="oEmbed 1.0 for embed page URLs",
    description=(
        "An oEmbed `rich` response whose `html` is an iframe of the embed page, no larger "
        "than `maxwidth` × `maxheight`. Only `format=json` (the default) is answered; any "
        "other format gets 501, as oEmbed 1.0 asks."
    ),
)
async def oembed(
    request: Request,
    state: State,
    url: Annotated[str, Parameter(max_length=4000, description="an /embed URL")],
    maxwidth: Annotated[int | None, Parameter(ge=1, le=100_000)] = None,
    maxheight: Annotated[int | None, Parameter(ge=1, le=100_000)] = None,
) -> Response[OEmbed]:
    # `format` is read here rather than declared: its 501 is oEmbed's rule, not an error
    # for schema-driven clients to provoke with generated values.
    requested = request.query_params.get("format", "json")
    if requested != "json":
        raise Problem(501, f"format {requested[:20]!r} is not supported; use format=json")
    base = params.base_url(state)
    filters = embedded_filters(url, base)
    if filters is None:
        raise Problem(404, f"not an embed page of this service; embed URLs look like {base}/embed")
    return Response(
        oembed_for(filters, base, maxwidth, maxheight),
        headers={"Cache-Control": f"public, max-age={OEMBED_CACHE_SECONDS}"},
    )


@get(
    "/api/v1/timeline.timelinejs.json",
    opt=KEPT_LARGE,
    dependencies=params.TIMELINE,
    summary="The timeline as TimelineJS3 JSON",
    description=(
        "The facts of `/api/v1/timeline` with the same filters, in TimelineJS3's format: "
        "dates keep their precision (no month or day where unknown) and seasons, 'by', "
        "'until' and qualified dates carry their label as `display_date`."
    ),
)
async def get_timelinejs(
    state: State, timeline_query: params.TimelineQuery
) -> timelinejs.TLTimeline:
    # Counted first, so a query over the limit is refused before any fact is read.
    matched = await state.database.run(timeline.count, timeline_query.filters)
    if matched > TIMELINEJS_MAX_FACTS:
        raise Problem(
            400,
            f"{matched} facts match, more than the {TIMELINEJS_MAX_FACTS} one TimelineJS "
            "document may hold; narrow the filters (from, to, country, tag, status, kind)",
        )
    # Read in one transaction and made into items in worker threads: thousands of facts
    # are a few hundred milliseconds of work that must not hold up the event loop.
    rows = await state.database.run_bulk(_every_row, timeline_query.filters)
    if len(rows) > TIMELINEJS_MAX_FACTS:  # facts added since the count
        raise Problem(400, f"more than {TIMELINEJS_MAX_FACTS} facts match; narrow the filters")
    url = params.base_url(state)
    return await asyncio.to_thread(_timelinejs, rows, timeline_query.lang, url)


def _every_row(conn: sa.Connection, filters: timeline.Filters) -> list[timeline.Row]:
    """Every page of the timeline's answer in order (stopping past the limit)."""
    rows: list[timeline.Row] = []
    after = None
    while True:
        page, after = timeline.page(conn, filters, limit=PAGE, after=after)
        rows += page
        if after is None or len(rows) > TIMELINEJS_MAX_FACTS:
            return rows


def _timelinejs(rows: list[timeline.Row], lang: str, base_url: str) -> timelinejs.TLTimeline:
    return timelinejs.timelinejs([item(row, lang, base_url) for row in rows], lang)


ROUTES = [widget_script, hashed_widget_script, embed, oembed, get_timelinejs]
