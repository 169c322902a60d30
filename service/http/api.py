"""JSON API route handlers: thin, calling the write side (events/) and the read model."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, TypeVar

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import Parameter, QueryParameter
from msgspec import UNSET, UnsetType

from events.decider import ChangeFact, RecordFact, RetractFact, stream_id
from events.facts import (
    CONTROL,
    COUNTRIES,
    FACT_ID,
    KINDS,
    MAX_ID,
    ORGANISATIONS,
    STATUSES,
    TAG,
    Fact,
)
from events.handler import handle
from events.store import ConcurrencyError, EventStore, RecordedEvent
from projections import timeline
from projections.items import Item, item
from service.http.auth import require_actor
from service.http.problems import Problem

LANGS = ("en", "ru")
MAX_REPEAT = 50
MAX_TAG = 50
READ = {"conditional": "log"}
KEPT = {**READ, "keep": True}  # answers kept by ETag: see service/http/conditional.py


class Page(msgspec.Struct):
    items: list[Item]
    next_cursor: str | None


class HistoryEntry(msgspec.Struct):
    position: int
    version: int
    type: str
    recorded_at: str
    actor: str
    reason: str | None
    data: msgspec.Raw


class LogEntry(HistoryEntry, kw_only=True):
    stream_id: str
    hash: str


EntryT = TypeVar("EntryT", bound=HistoryEntry)


class LogPage(msgspec.Struct):
    events: list[LogEntry]
    next_after: int  # always where to continue from: the last position here, else `after`


class FactChange(ChangeFact, kw_only=True):
    """PATCH body: the fields to change, and why."""

    reason: Annotated[str, msgspec.Meta(max_length=1000)] | UnsetType = UNSET


# --- request parsing --------------------------------------------------------------------


def choose_lang(lang: str | None, accept_language: str | None) -> str:
    if lang is not None:
        if lang not in LANGS:
            raise Problem(400, f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
        return lang
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in LANGS and q > best_q:
            best, best_q = primary, q
    return best


def parse_as_of(value: str | None) -> dt.datetime | None:
    """The instant in UTC. An offset can carry an instant at the very edge of the calendar
    (0001-01-01T00:00:00+23:59) past it, so the conversion is part of the check."""
    if value is None:
        return None
    try:
        instant = dt.datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise ValueError("no time zone")
        return instant.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise Problem(
            400,
            "as_of must be an RFC 3339 instant with a time zone, within years 1 to 9999 in UTC, "
            "e.g. 2025-06-01T00:00:00Z",
        ) from None


def _checked(name: str, values: list[str] | None, allowed: frozenset[str]) -> list[str]:
    values = values or []
    if len(values) > MAX_REPEAT:
        raise Problem(400, f"at most {MAX_REPEAT} values of {name}")
    for value in values:
        if value not in allowed:
            raise Problem(400, f"{name}: {value[:60]!r} is not a known value")
    return values


def check_tags(values: list[str] | None) -> list[str]:
    """Tag filters: slugs, as every stored tag is (anything else could match nothing, and a
    NUL byte in one is an error of PostgreSQL's rather than an empty answer)."""
    values = values or []
    if len(values) > MAX_REPEAT:
        raise Problem(400, f"at most {MAX_REPEAT} values of tag")
    for value in values:
        if len(value) > MAX_TAG or not TAG.fullmatch(value):
            raise Problem(400, f"tag: {value[:60]!r} is not a tag (a lowercase slug)")
    return values


def check_text(q: str | None) -> str | None:
    if q is None or not q.strip():
        return None
    if CONTROL.search(q):
        raise Problem(400, "q must not contain control characters")
    return q.strip()


def check_fact_id(fact_id: str) -> str:
    if len(fact_id) > MAX_ID or not FACT_ID.fullmatch(fact_id):
        raise Problem(404, "no fact with this id (ids are lowercase slugs)")
    return fact_id


def fact_etag(version: int, lang: str) -> str:
    """A fact's ETag: its version and the language of the body (two bodies, two tags)."""
    return f'"{version}-{lang}"'


# If-Match takes a fact's ETag as read in either language, or its bare version ("3").
# Strong comparison only (RFC 9110 13.1.1): a weak tag never matches.
_IF_MATCH = re.compile(rf'"([0-9]{{1,9}})(?:-(?:{"|".join(LANGS)}))?"')


def parse_if_match(request: Request) -> int:
    header = request.headers.get("if-match")
    if not header:
        raise Problem(428, 'send If-Match: "<version>" (the ETag of the fact you read)')
    value = header.strip()
    if value.startswith("W/"):
        raise Problem(
            412, "If-Match compares strongly and a weak ETag never matches: send the ETag as read"
        )
    matched = _IF_MATCH.fullmatch(value)
    if matched is None:
        raise Problem(400, f'If-Match must be a version ETag such as "3", not {header[:40]!r}')
    return int(matched.group(1))


async def as_of_position(store: EventStore, as_of: dt.datetime | None) -> int | None:
    return None if as_of is None else await store.position_at(as_of)


def base_url(state: State) -> str:
    return state.settings.base_url


# --- reads ------------------------------------------------------------------------------


class TimelineQuery(msgspec.Struct):
    filters: timeline.Filters
    lang: str


async def timeline_query(
    request: Request,
    state: State,
    from_: Annotated[dt.date | None, QueryParameter(name="from", description="ISO date")] = None,
    to: Annotated[dt.date | None, Parameter(description="ISO date")] = None,
    country: Annotated[list[str] | None, Parameter(description="ISO alpha-2 or EU, UN, …")] = None,
    tag: list[str] | None = None,
    status: list[str] | None = None,
    kind: str | None = None,
    q: Annotated[str | None, Parameter(max_length=200)] = None,
    lang: Annotated[str | None, Parameter(description="en or ru")] = None,
    as_of: Annotated[str | None, Parameter(description="RFC 3339 instant")] = None,
) -> TimelineQuery:
    """The timeline's filters from the query string, checked: one dependency for every
    route that serves the timeline in some format."""
    filters = timeline.Filters(
        start=from_,
        end=to,
        countries=_checked("country", country, COUNTRIES | ORGANISATIONS),
        tags=check_tags(tag),
        statuses=_checked("status", status, STATUSES),
        kinds=_checked("kind", [kind] if kind else [], KINDS),
        text=check_text(q),
        as_of_position=await as_of_position(state.store, parse_as_of(as_of)),
    )
    if from_ and to and to < from_:
        raise Problem(400, "`to` is before `from`")
    return TimelineQuery(filters, choose_lang(lang, request.headers.get("accept-language")))


TIMELINE = {"timeline_query": Provide(timeline_query)}


async def timeline_page(
    state: State, query: TimelineQuery, limit: int, after: timeline.Cursor | None
) -> Page:
    rows, next_cursor = await state.store.read(
        timeline.page, query.filters, limit=limit, after=after
    )
    url = base_url(state)
    return Page(
        items=[item(row, query.lang, url) for row in rows],
        next_cursor=timeline.encode_cursor(next_cursor) if next_cursor else None,
    )


@get(
    "/api/v1/timeline",
    opt=KEPT,
    dependencies=TIMELINE,
    summary="The timeline: facts in date order, filtered",
    description=(
        "Facts ordered by start, then span (more precise first), then id. A fact matches "
        "`from`/`to` when its [start, end] overlaps them. Repeated `country`, `tag` and "
        "`status` values match any of them. `as_of` gives the timeline as the service knew "
        "it at that instant."
    ),
)
async def get_timeline(
    state: State,
    timeline_query: TimelineQuery,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Parameter(max_length=500)] = None,
) -> Page:
    try:
        after = timeline.decode_cursor(cursor) if cursor else None
    except timeline.InvalidCursor as exc:
        raise Problem(400, str(exc)) from None
    return await timeline_page(state, timeline_query, limit, after)


@get("/api/v1/facts/{fact_id:str}", opt={"conditional": "own"}, summary="One fact")
async def get_fact(
    request: Request,
    state: State,
    fact_id: str,
    lang: str | None = None,
    as_of: Annotated[str | None, Parameter(description="RFC 3339 instant")] = None,
) -> Response[Item]:
    language = choose_lang(lang, request.headers.get("accept-language"))
    row = await state.store.read(
        timeline.fact_row,
        check_fact_id(fact_id),
        await as_of_position(state.store, parse_as_of(as_of)),
    )
    if row is None:
        raise Problem(404, f"no fact with id {fact_id!r}")
    if row.retracted:
        raise Problem(410, f"fact {fact_id!r} was retracted; its history remains")
    return Response(
        item(row, language, base_url(state)), headers={"ETag": fact_etag(row.version, language)}
    )


@get("/api/v1/facts/{fact_id:str}/history", opt=KEPT, summary="Every event of one fact")
async def get_history(state: State, fact_id: str) -> list[HistoryEntry]:
    recorded = await state.store.read_stream(stream_id(check_fact_id(fact_id)))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    return [_entry(HistoryEntry, r) for r in recorded]


@get("/api/v1/events", opt=KEPT, summary="The global log in order, after a position")
async def get_events(
    state: State,
    after: Annotated[int, Parameter(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> LogPage:
    recorded = await state.store.read_all(after=after, limit=limit)
    return LogPage(
        events=[_entry(LogEntry, r) for r in recorded],
        next_after=recorded[-1].position if recorded else after,
    )


def _entry(kind: type[EntryT], r: RecordedEvent) -> EntryT:
    """A recorded event as `kind` shows it, its data passed through as stored JSON."""
    fields = {name: getattr(r, name) for name in kind.__struct_fields__ if name != "data"}
    return kind(**fields, data=msgspec.Raw(r.data.encode()))


# --- writes -----------------------------------------------------------------------------


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def authorized(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of the write routes, run before Litestar reads the body: a stranger's body is
    never parsed, and a body that is not JSON is refused rather than parsed as JSON."""
    connection.state.actor = await require_actor(connection)
    headers = connection.headers
    # A bodiless POST (accepting a proposal as it stands) has no body to refuse.
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if connection.scope["method"] in ("POST", "PATCH", "PUT") and has_body:
        content_type = headers.get("content-type", "")
        if not _is_json(content_type):
            raise Problem(
                415,
                "send the body as JSON with `Content-Type: application/json`"
                + (f", not {content_type[:60]!r}" if content_type else ""),
            )


def guarded_actor(request: Request) -> str:
    return request.state.actor


WRITE = {"actor": Provide(guarded_actor, sync_to_thread=False)}
GUARDS = [authorized]


def written_lang(request: Request) -> str:
    """The language of a write's answer, checked before anything is written."""
    return choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


@post("/api/v1/facts", dependencies=WRITE, guards=GUARDS, summary="Record a new fact")
async def create_fact(request: Request, state: State, data: Fact, actor: str) -> Response[Item]:
    language = written_lang(request)
    try:
        outcome = await handle(state.store, data.id, RecordFact(data), actor=actor)
    except ConcurrencyError:
        raise Problem(409, f"a fact with id {data.id!r} already exists") from None
    return await _written(state, data.id, outcome.version, language, status=201)


@patch("/api/v1/facts/{fact_id:str}", dependencies=WRITE, guards=GUARDS, summary="Change a fact")
async def change_fact(
    request: Request, state: State, fact_id: str, data: FactChange, actor: str
) -> Response[Item]:
    language = written_lang(request)
    expected = parse_if_match(request)
    reason = data.reason if data.reason is not UNSET else None
    change = ChangeFact(**{f: getattr(data, f) for f in ChangeFact.__struct_fields__})
    outcome = await handle(
        state.store,
        check_fact_id(fact_id),
        change,
        actor=actor,
        reason=reason,
        expected_version=expected,
    )
    return await _written(state, fact_id, outcome.version, language, status=200)


@delete("/api/v1/facts/{fact_id:str}", dependencies=WRITE, guards=GUARDS, summary="Retract a fact")
async def retract_fact(
    request: Request, state: State, fact_id: str, actor: str, reason: str | None = None
) -> None:
    expected = parse_if_match(request)
    await handle(
        state.store,
        check_fact_id(fact_id),
        RetractFact(),
        actor=actor,
        reason=reason,
        expected_version=expected,
    )


async def _written(
    state: State, fact_id: str, version: int, language: str, status: int
) -> Response[Item]:
    row = await state.store.read(timeline.fact_row, fact_id)
    assert row is not None  # the projection ran in the append's transaction
    url = f"{base_url(state)}/api/v1/facts/{fact_id}"
    return Response(
        item(row, language, base_url(state)),
        status_code=status,
        headers={"ETag": fact_etag(version, language), "Location": url},
    )


ROUTES = [get_timeline, get_fact, get_history, get_events, create_fact, change_fact, retract_fact]
