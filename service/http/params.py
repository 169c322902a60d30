"""The query-parameter rules every route shares: languages, filters, ids, If-Match.

Each rule raises a 400 (or 404 for ids) Problem naming the parameter, so every route that
takes a `country`, a `tag` or an `as_of` refuses the same input with the same words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter, QueryParameter

from events.facts import (
    CONTROL,
    COUNTRIES,
    FACT_ID,
    KINDS,
    MAX_ID,
    ORGANISATIONS,
    STATUSES,
    TAG,
)
from events.store import EventStore
from projections import timeline
from service.http.problems import Problem

LANGS = ("en", "ru")
MAX_REPEAT = 50
MAX_TAG = 50


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


def repeated(name: str, values: Sequence[str] | None) -> list[str]:
    """A repeatable filter's values, however spelled: repeated (`kind=summit&kind=treaty`) or
    comma-separated (`kind=summit,treaty`, as the widget's attributes are); blanks (an empty
    form field) dropped, each value once."""
    # Only spaces are trimmed ("KZ, UZ"): a value ending in a line break is refused, not
    # read as another ("x\n" is no fact id, whatever "x" is).
    spelled = [v.strip(" ") for raw in values or () for v in raw.split(",")]
    given = [v for v in spelled if v]
    if len(given) > MAX_REPEAT:  # counted as given: the bound is on the work of reading them
        raise Problem(400, f"at most {MAX_REPEAT} values of {name}")
    return list(dict.fromkeys(given))


def checked(name: str, values: Sequence[str] | None, allowed: frozenset[str]) -> list[str]:
    values = repeated(name, values)
    for value in values:
        if value not in allowed:
            raise Problem(400, f"{name}: {value[:60]!r} is not a known value")
    return values


def _slugs(
    name: str, values: Sequence[str] | None, pattern: re.Pattern[str], longest: int, what: str
) -> list[str]:
    """Repeated slug filters (ids, tags): as every stored one is, since anything else could
    match nothing, and a NUL byte in one is an error of PostgreSQL's, not an empty answer."""
    values = repeated(name, values)
    for value in values:
        if len(value) > longest or not pattern.fullmatch(value):
            raise Problem(400, f"{name}: {value[:60]!r} is not {what} (a lowercase slug)")
    return values


def check_tags(values: Sequence[str] | None) -> list[str]:
    return _slugs("tag", values, TAG, MAX_TAG, "a tag")


def check_fact_ids(values: Sequence[str] | None) -> list[str]:
    return _slugs("id", values, FACT_ID, MAX_ID, "a fact id")


def parse_day(name: str, value: str | None) -> dt.date | None:
    if not value:  # absent, or an empty form field
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Problem(400, f"{name} must be an ISO date such as 2025-01-31") from None


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


def timeline_filters(
    *,
    from_: str | None = None,
    to: str | None = None,
    country: Sequence[str] | None = None,
    tag: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    kind: Sequence[str] | None = None,
    id: Sequence[str] | None = None,
    q: str | None = None,
) -> timeline.Filters:
    """The timeline's filters, checked: the one parser of the timeline API, TimelineJS, the
    feeds, the embed page and the workspace, so that a filter is spelled, repeated and
    refused alike everywhere. Each route passes the filters it takes."""
    start, end = parse_day("from", from_), parse_day("to", to)
    if start and end and end < start:
        raise Problem(400, "`to` is before `from`")
    return timeline.Filters(
        start=start,
        end=end,
        countries=checked("country", country, COUNTRIES | ORGANISATIONS),
        tags=check_tags(tag),
        statuses=checked("status", status, STATUSES),
        kinds=checked("kind", kind, KINDS),
        fact_ids=check_fact_ids(id),
        text=check_text(q),
    )


REPEATABLE = "repeatable, or comma-separated"
COUNTRY = f"ISO alpha-2 or EU, UN, …; {REPEATABLE}"
DATE: dict[str, object] = {"format": "date"}  # parsed by parse_day, said in the schema


class TimelineQuery(msgspec.Struct):
    filters: timeline.Filters
    lang: str


async def timeline_query(
    request: Request,
    state: State,
    from_: Annotated[
        str | None, QueryParameter(name="from", description="ISO date", schema_extra=DATE)
    ] = None,
    to: Annotated[str | None, Parameter(description="ISO date", schema_extra=DATE)] = None,
    country: Annotated[list[str] | None, Parameter(description=COUNTRY)] = None,
    tag: Annotated[list[str] | None, Parameter(description=REPEATABLE)] = None,
    status: Annotated[list[str] | None, Parameter(description=REPEATABLE)] = None,
    kind: Annotated[list[str] | None, Parameter(description=REPEATABLE)] = None,
    q: Annotated[str | None, Parameter(max_length=200)] = None,
    lang: Annotated[str | None, Parameter(description="en or ru")] = None,
    as_of: Annotated[str | None, Parameter(description="RFC 3339 instant")] = None,
) -> TimelineQuery:
    """The timeline's filters from the query string, checked: one dependency for every
    route that serves the timeline in some format."""
    filters = timeline_filters(
        from_=from_, to=to, country=country, tag=tag, status=status, kind=kind, q=q
    )
    filters.as_of_position = await as_of_position(state.store, parse_as_of(as_of))
    return TimelineQuery(filters, choose_lang(lang, request.headers.get("accept-language")))


TIMELINE = {"timeline_query": Provide(timeline_query)}
