"""JSON API route handlers: thin, calling the write side (events/) and the read model."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec
from litestar import MediaType, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from msgspec import UNSET, UnsetType

from events.decider import ChangeFact, RecordFact, RetractFact, stream_id
from events.facts import Fact
from events.handler import handle
from events.store import RecordedEvent
from projections import timeline
from projections.items import EncodedItems, Item, item
from service.http.auth import GUARDS, WRITE, written_lang
from service.http.conditional import KEPT, http_date
from service.http.params import (
    TIMELINE,
    TimelineQuery,
    as_of_position,
    base_url,
    check_fact_id,
    choose_lang,
    fact_etag,
    parse_as_of,
    parse_if_match,
)
from service.http.problems import Problem


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


# --- reads ------------------------------------------------------------------------------


async def timeline_page(
    state: State, query: TimelineQuery, limit: int, after: timeline.Cursor | None
) -> Page:
    rows, next_cursor = await state.database.run(
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
    responses={
        200: ResponseSpec(Page, description="A page of the timeline", generate_examples=False)
    },
    summary="The timeline: facts in date order, filtered",
    description=(
        "Facts ordered by start, then span (more precise first), then id. A fact matches "
        "`from`/`to` when its [start, end] overlaps them. Repeated (or comma-separated) "
        "`country`, `tag`, `status` and `kind` values match any of them. `as_of` gives the "
        "timeline as the service knew it at that instant."
    ),
)
async def get_timeline(
    state: State,
    timeline_query: TimelineQuery,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Parameter(max_length=500)] = None,
) -> Response[bytes]:
    try:
        after = timeline.decode_cursor(cursor) if cursor else None
    except timeline.InvalidCursor as exc:
        raise Problem(400, str(exc)) from None
    return Response(
        await timeline_body(state, timeline_query, limit, after), media_type=MediaType.JSON
    )


_encode = msgspec.json.Encoder().encode


async def timeline_body(
    state: State, query: TimelineQuery, limit: int, after: timeline.Cursor | None
) -> bytes:
    """`timeline_page` as JSON, the same bytes, from items kept already rendered where it
    can: the page's query reads only which fact versions it holds."""
    keys, next_cursor = await state.database.run(
        timeline.page_keys, query.filters, limit=limit, after=after
    )
    kept: EncodedItems = state.encoded_items
    url = base_url(state)
    found, missing = kept.rendered(keys, query.lang, url)
    rendered: dict[tuple[str, int], bytes] = {}
    if missing:
        for row in await state.database.run(timeline.rows_at, missing):
            rendered[row.fact_id, row.version] = kept.render(row, query.lang, url)
    bodies = []
    for body, key in zip(found, keys, strict=True):
        body = body or rendered.get(key[:2])
        if body is None:  # its row is gone since the keys were read: a rebuild is under way
            return _encode(await timeline_page(state, query, limit, after))
        bodies.append(body)
    more = timeline.encode_cursor(next_cursor) if next_cursor else None
    return b'{"items":[' + b",".join(bodies) + b'],"next_cursor":' + _encode(more) + b"}"


@get("/api/v1/facts/{fact_id:str}", opt={"conditional": "own"}, summary="One fact")
async def get_fact(
    request: Request,
    state: State,
    fact_id: str,
    lang: str | None = None,
    as_of: Annotated[str | None, Parameter(description="RFC 3339 instant")] = None,
) -> Response[Item]:
    language = choose_lang(lang, request.headers.get("accept-language"))
    row = await state.database.run(
        timeline.fact_row,
        check_fact_id(fact_id),
        await as_of_position(state.store, parse_as_of(as_of)),
    )
    if row is None:
        raise Problem(404, f"no fact with id {fact_id!r}")
    if row.retracted:
        raise Problem(410, f"fact {fact_id!r} was retracted; its history remains")
    headers = {"ETag": fact_etag(row.version, language), "Last-Modified": http_date(row.updated_at)}
    return Response(item(row, language, base_url(state)), headers=headers)


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


@post("/api/v1/facts", dependencies=WRITE, guards=GUARDS, summary="Record a new fact")
async def create_fact(request: Request, state: State, data: Fact, actor: str) -> Response[Item]:
    language = written_lang(request)
    outcome = await handle(state.store, data.id, RecordFact(data), actor=actor)
    assert outcome.state is not None
    row = timeline.new_fact_row(outcome.state, outcome.recorded[0])
    return _answer(state, row, outcome.version, language, status=201)


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
    row = await state.database.run(timeline.fact_row, fact_id)
    assert row is not None  # the projection ran in the append's transaction
    return _answer(state, row, version, language, status)


def _answer(
    state: State, row: timeline.Row, version: int, language: str, status: int
) -> Response[Item]:
    url = f"{base_url(state)}/api/v1/facts/{row.fact_id}"
    return Response(
        item(row, language, base_url(state)),
        status_code=status,
        headers={"ETag": fact_etag(version, language), "Location": url},
    )


ROUTES = [get_timeline, get_fact, get_history, get_events, create_fact, change_fact, retract_fact]
