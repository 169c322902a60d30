"""The calendar projection: facts as iCalendar events, and the feeds made of them.

Each fact version is rendered once per language with `icalendar` and kept in
`calendar_events`; a feed is its calendar header plus the concatenation of the kept
VEVENTs, in timeline order. Rendering happens when a feed first needs a version (not in
the append's transaction): it costs about half a millisecond per language, and writes
should not pay for feeds nobody polls. Rendering is a pure function of the timeline row
and the public URL, so the kept text is the same whenever and wherever it is made.

Honest dates: a feed holds only facts with both bounds known (open-ended periods have no
place in a calendar) and ending before 31 December 9999: an all-day event's DTEND is the
day after its last, and iCalendar cannot write a day after 9999 (nor can Python's date).
By default only facts known to the day; with `any_precision`, month, season and year facts
too, as all-day spans over their whole bounds, TENTATIVE, with the title saying what is
known: "(date to be confirmed: …)" for what is still to come,
"(month known: …)", "(season known: …)", "(year known: …)" or "(exact date unknown: …)" for
what was held, cancelled or has elapsed (nothing will be confirmed for those).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

import icalendar
import msgspec
import sqlalchemy as sa
from icalendar.parser import Contentline
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from events.dates import DateBounds, parse_edtf
from events.facts import Fact
from events.instants import parse_instant
from events.store import EventStore
from projections import sql, timeline
from projections.items import page_url
from projections.projection import Projection
from projections.tables import calendar_events as events
from projections.tables import facts as timeline_facts
from projections.vocabulary import kind_word, participant_name, status_word, words

log = logging.getLogger(__name__)

# Bump when the rendering changes, so kept events of the old rendering are not served.
RENDERING = 4
PRODID = "-//Timeline service//Central Asia diplomacy//EN"
REFRESH = dt.timedelta(hours=3)
END = b"END:VCALENDAR\r\n"


# The calendar's own words; the statuses' and the fields' labels are the vocabulary's.
TEXT = {
    "en": {
        "description": "Summits, treaties and ministerial meetings of Central Asian states, "
        "held and planned, from the timeline at {url}.",
        "tbc": "date to be confirmed: {label}",
        "known_month": "month known: {label}",
        "known_season": "season known: {label}",
        "known_year": "year known: {label}",
        "known_day": "exact date unknown: {label}",
        "note": "note",
    },
    "ru": {
        "description": "Саммиты, договоры и министерские встречи государств Центральной "
        "Азии, состоявшиеся и запланированные, из хронологии {url}.",
        "tbc": "дата уточняется: {label}",
        "known_month": "известен месяц: {label}",
        "known_season": "известно время года: {label}",
        "known_year": "известен год: {label}",
        "known_day": "точная дата неизвестна: {label}",
        "note": "примечание",
    },
}

# Statuses a calendar user should read in the title itself, not only in the description.
_TITLE_STATUSES = frozenset({"postponed", "elapsed"})
# Statuses of what is still to come, whose date may yet be confirmed; for the others (held,
# cancelled, elapsed) the title says how much of the date is known.
_TO_COME = frozenset({"planned", "proposed", "postponed"})


class FeedQuery(msgspec.Struct, frozen=True, kw_only=True):
    filters: timeline.Filters = msgspec.field(default_factory=timeline.Filters)
    lang: str = "en"
    any_precision: bool = False

    def __hash__(self) -> int:
        # Feeds' caches are keyed by the query; its filters hold lists, so it hashes as
        # the canonical query string it stands for (equal queries, equal strings).
        return hash(tuple(self.params()))

    def params(self) -> list[tuple[str, str]]:
        """The query string that asks for this feed, in a canonical order."""
        pairs = [*self.filters.params(), ("lang", self.lang)]
        if self.any_precision:
            pairs.append(("precision", "any"))
        return pairs


def origin_of(base_url: str) -> str:
    """The key of kept events: what their text depends on besides the fact."""
    return f"{RENDERING} {base_url}"


def event_uid(fact_id: str, base_url: str) -> str:
    """Made from the fact id and the public host only: it never changes for a fact."""
    return f"{fact_id}@{urlsplit(base_url).hostname or 'localhost'}"


# The last day of year 9999, the last a date can name: a fact ending on it has no event.
LAST_DAY = dt.date.max.isoformat()


def in_calendars(start: str | None, end: str | None) -> bool:
    """Whether a fact with these bounds (ISO days, as kept in rows) can be a calendar event:
    both known, and an end whose next day iCalendar can write."""
    return start is not None and end is not None and end < LAST_DAY


def day_known(bounds: DateBounds) -> bool:
    return bounds.precision == "day" and not (bounds.approximate or bounds.uncertain)


def ical_status(status: str, known_to_the_day: bool) -> icalendar.enums.STATUS:
    if status == "cancelled":
        return icalendar.enums.STATUS.CANCELLED
    if status == "held" and known_to_the_day:
        return icalendar.enums.STATUS.CONFIRMED
    return icalendar.enums.STATUS.TENTATIVE


def _instant(text: str) -> dt.datetime:
    return parse_instant(text).replace(microsecond=0)


def _description(fact: Fact, bounds: DateBounds, lang: str, base_url: str) -> str:
    labels, note = words(lang).labels, TEXT[lang]["note"]
    lines = [fact.summary.get(lang) or fact.summary["en"], ""]
    lines.append(f"{labels['date']}: {bounds.label[lang]}")
    lines.append(f"{labels['status']}: {status_word(fact.status, lang)}")
    if fact.place is not None:
        lines.append(f"{labels['place']}: {_location(fact, lang)}")
    if fact.participants:
        names = ", ".join(participant_name(code, lang) for code in fact.participants)
        lines.append(f"{labels['participants']}: {names}")
    if fact.sources:
        lines.append(f"{labels['sources']}:")
        for source in fact.sources:
            line = f"- {source.title} ({source.date.isoformat()})"
            if source.locator:
                line += f", {source.locator}"
            if source.url:
                line += f" {source.url}"
            if source.note:
                line += f" ({note}: {source.note})"
            lines.append(line)
    lines.append(f"{labels['more']}: {page_url(base_url, fact.id, lang)}")
    return "\n".join(lines)


def _location(fact: Fact, lang: str) -> str:
    assert fact.place is not None
    name = fact.place.name.get(lang) or fact.place.name["en"]
    if fact.place.country:
        return f"{name}, {participant_name(fact.place.country, lang)}"
    return name


def _imprecision(status: str, bounds: DateBounds, lang: str) -> str:
    """What the title adds to a date not known to the day."""
    # An approximate or uncertain day is "known_day": exact date unknown.
    key = "tbc" if status in _TO_COME else f"known_{bounds.precision}"
    return TEXT[lang][key].format(label=bounds.label[lang])


def render_event(row: timeline.Row, lang: str, base_url: str) -> str:
    """One fact version as a VEVENT (CRLF lines, folded), built with icalendar."""
    fact = row.fact()
    bounds = parse_edtf(fact.date.edtf)
    if bounds.start is None or bounds.end is None or not in_calendars(row.start, row.end):
        raise ValueError(f"{fact.id}: {bounds.edtf} has no calendar event")
    exact = day_known(bounds)
    summary = fact.title.get(lang) or fact.title["en"]
    if not exact:
        summary += f" ({_imprecision(fact.status, bounds, lang)})"
    if fact.status in _TITLE_STATUSES:
        summary += f" ({status_word(fact.status, lang)})"
    event = icalendar.Event.new(
        uid=event_uid(fact.id, base_url),
        stamp=_instant(row.updated_at),
        created=_instant(row.created_at),
        last_modified=_instant(row.updated_at),
        sequence=row.sequence,
        summary=summary,
        description=_description(fact, bounds, lang, base_url),
        location=_location(fact, lang) if fact.place else None,
        # A tag may repeat the kind ("summit"): each category once, the kind first.
        categories=list(dict.fromkeys([fact.kind, *fact.tags])),
        url=page_url(base_url, fact.id, lang),  # the fact's public page, not its JSON
        status=ical_status(fact.status, exact),
        transparency=icalendar.enums.TRANSP.TRANSPARENT,
        # All-day: DTEND is the day after the last day (RFC 5545 3.6.1, exclusive end).
        start=bounds.start,
        end=bounds.end + dt.timedelta(days=1),
    )
    return str(event.to_ical().decode())


def _text(value: str) -> str:
    return str(icalendar.vText(value).to_ical().decode())


def _line(name: str, value: str) -> str:
    """One content line, escaped and folded as icalendar writes it."""
    line = f"{name}:{value}"
    if len(line.encode()) < 75:  # what icalendar leaves unfolded, without its loop per character
        return line + "\r\n"
    return str(Contentline(line).to_ical().decode()) + "\r\n"


_REFRESH = icalendar.vDuration(REFRESH).to_ical().decode()


@functools.lru_cache(maxsize=64)
def _constant_head(lang: str, base_url: str) -> str:
    """The header's lines that depend only on the language and the public URL."""
    description = _text(TEXT[lang]["description"].format(url=base_url))
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        + _line("PRODID", _text(PRODID))
        + "CALSCALE:GREGORIAN\r\n"
        + _line("DESCRIPTION", description)
        + _line("X-WR-CALDESC", description)
    )


@functools.lru_cache(maxsize=1024)
def calendar_header(query: FeedQuery, base_url: str) -> bytes:
    """The VCALENDAR's own properties, up to (not including) its first VEVENT.

    Written line by line with icalendar's escaping and folding, in the order its Calendar
    writes them (tests compare the two): building a Calendar cost a fifth of a small feed.
    NAME and the X-WR- copies are TEXT, escaped, so a comma cannot split them for strict
    readers.
    """
    params = query.params()
    source = f"{base_url}/calendar.ics?{urlencode(params)}"
    page = f"{base_url}/embed?{urlencode([p for p in params if p[0] != 'precision'])}"
    title = _text(_calendar_name(query))
    # A stable identity for this feed: the same query is the same calendar.
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, source))
    return (
        _constant_head(query.lang, base_url)
        + _line("NAME", title)
        + _line("X-WR-CALNAME", title)
        + _line("REFRESH-INTERVAL;VALUE=DURATION", _REFRESH)
        + _line("SOURCE;VALUE=URI", source)
        + _line("UID", uid)
        + _line("URL", page)
        + _line("X-PUBLISHED-TTL", _REFRESH)
    ).encode()


def _calendar_name(query: FeedQuery) -> str:
    lang, filters = query.lang, query.filters
    parts = [participant_name(code, lang) for code in filters.countries]
    parts += [f"#{tag}" for tag in filters.tags]
    parts += [status_word(status, lang) for status in filters.statuses]
    parts += [kind_word(kind, lang) for kind in filters.kinds]
    return words(lang).labels["site"] + (f": {', '.join(parts)}" if parts else "")


def _filters(query: FeedQuery) -> timeline.Filters:
    return msgspec.structs.replace(query.filters, precisions=[] if query.any_precision else ["day"])


class Entry(msgspec.Struct):
    fact_id: str
    version: int
    kept_version: int | None
    day_known: bool | None
    body: bytes | None  # UTF-8, as the feed sends it


class utf8_bytes(sa.sql.functions.FunctionElement[bytes]):
    """A text column read as its UTF-8 bytes: a feed sends the kept VEVENTs as bytes, and
    decoding each to str in the driver only to encode it again cost a tenth of a small
    feed's miss path."""

    type = sa.LargeBinary()
    inherit_cache = True


@compiles(utf8_bytes, "sqlite")
def _utf8_bytes_sqlite(element: utf8_bytes, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps text as UTF-8 (the database's encoding here): the cast copies its bytes
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


@compiles(utf8_bytes, "postgresql")
def _utf8_bytes_postgresql(element: utf8_bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return f"convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')"


class TooManyEvents(Exception):
    """More facts match a feed than one response may hold."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} facts match, more than {limit}")
        self.count, self.limit = count, limit


# Over this many events a feed is read, and its bytes joined, in a worker thread: a
# megabyte on the event loop would hold up every other request.
BULK = 500


class FeedStatements(NamedTuple):
    total: sa.Select[Any]  # how many events match
    entries: sa.Select[Any]  # (fact_id, version, kept version, day_known, kept body)
    first_entries: sa.Select[Any]  # the same, at most BULK + 1


@functools.lru_cache(maxsize=256)
def _statements(query: FeedQuery, origin: str) -> FeedStatements:
    """A feed's two queries, built once per feed query (SQLAlchemy then compiles each
    shape once): building a Select cost more than running it on a small feed."""
    kept = sa.and_(
        events.c.origin == origin,
        events.c.fact_id == timeline_facts.c.fact_id,
        events.c.lang == query.lang,
    )
    matching = timeline.select_rows(_filters(query)).where(
        timeline_facts.c.start.is_not(None),
        timeline_facts.c.end.is_not(None),
        timeline_facts.c.end < LAST_DAY,  # as in_calendars()
    )
    count = matching.with_only_columns(sa.func.count(), maintain_column_froms=True)
    entries = (
        matching.with_only_columns(
            timeline_facts.c.fact_id,
            timeline_facts.c.version,
            events.c.version,
            events.c.day_known,
            utf8_bytes(events.c.body),
        )
        .select_from(timeline_facts.outerjoin(events, kept))
        .order_by(*timeline.ORDER)
    )
    return FeedStatements(count, entries, entries.limit(BULK + 1))


def _entries(conn: sa.Connection, select: sa.Select[Any]) -> list[Entry]:
    return [Entry(*r) for r in sql.fetch_all(conn, select)]


def _small_feed(
    conn: sa.Connection, statements: FeedStatements, max_events: int
) -> tuple[int, list[Entry] | None]:
    """How many facts match, and their entries if they are few enough to read here: one
    query when they are (most feeds), a count too when not."""
    entries = _entries(conn, statements.first_entries)
    if len(entries) <= min(max_events, BULK):
        return len(entries), entries
    ((total,),) = sql.fetch_all(conn, statements.total)
    return total, None


async def feed(
    store: EventStore, query: FeedQuery, base_url: str, max_events: int
) -> tuple[bytes, int]:
    """The feed's bytes and how many events it holds; TooManyEvents, before any rendering,
    when more than `max_events` facts match."""
    origin = origin_of(base_url)
    statements = _statements(query, origin)
    matched, entries = await store.database.run(_small_feed, statements, max_events)
    if matched > max_events:
        raise TooManyEvents(matched, max_events)
    if entries is None:
        entries = await store.database.run_bulk(_entries, statements.entries)
    stale = [e for e in entries if e.kept_version != e.version]
    if stale:
        await _render_stale(store, stale, query.lang, base_url, origin)
    header = calendar_header(query, base_url)
    if len(entries) <= BULK:
        return _assemble(header, entries, query)
    return await asyncio.to_thread(_assemble, header, entries, query)


def _assemble(header: bytes, entries: list[Entry], query: FeedQuery) -> tuple[bytes, int]:
    bodies = [
        e.body for e in entries if e.body is not None and (query.any_precision or e.day_known)
    ]
    return b"".join([header, *bodies, END]), len(bodies)


def _current_rows(conn: sa.Connection, fact_ids: list[str]) -> dict[str, timeline.Row]:
    rows: dict[str, timeline.Row] = {}
    for chunk in range(0, len(fact_ids), 500):
        select = sa.select(timeline_facts).where(
            timeline_facts.c.valid_to.is_(None),
            timeline_facts.c.retracted.is_(False),
            timeline_facts.c.fact_id.in_(fact_ids[chunk : chunk + 500]),
        )
        for r in conn.execute(select):
            rows[r.fact_id] = timeline.Row(**r._mapping)
    return rows


async def _render_stale(
    store: EventStore, stale: list[Entry], lang: str, base_url: str, origin: str
) -> None:
    """Render the versions not kept yet, keep them, and fill them into `stale`."""
    rows = await store.database.run_bulk(_current_rows, [e.fact_id for e in stale])
    # Rendering costs about a millisecond per event: thousands of them (after a bulk load or
    # a rebuild) would hold up every other request if rendered on the event loop.
    values = await asyncio.to_thread(_render_all, stale, rows, lang, base_url, origin)
    try:
        await keep(store.engine, values)
    except DBAPIError:  # e.g. a busy SQLite: the feed is still right, only not kept yet
        log.warning("could not keep %d rendered calendar events", len(values), exc_info=True)


def _render_all(
    stale: list[Entry], rows: dict[str, timeline.Row], lang: str, base_url: str, origin: str
) -> list[dict[str, object]]:
    values: list[dict[str, object]] = []
    for number, entry in enumerate(stale):
        if number % 8 == 7:
            # Let the event loop's thread have the GIL: it would wait for the switch
            # interval (5 ms) at each turn, which queues every other request behind this.
            time.sleep(0)
        # A fact changed since the first query is shown as it is now; one retracted since
        # is left out (the next poll sees a new ETag either way).
        row = rows.get(entry.fact_id)
        if row is None or not in_calendars(row.start, row.end):
            entry.body = None
            continue
        body = render_event(row, lang, base_url)
        entry.body = body.encode()
        entry.day_known = day_known(parse_edtf(row.fact().date.edtf))
        values.append(
            {
                "origin": origin,
                "fact_id": row.fact_id,
                "lang": lang,
                "version": row.version,
                "day_known": entry.day_known,
                "body": body,
            }
        )
    return values


async def keep(engine: AsyncEngine, values: Sequence[dict[str, object]]) -> None:
    """Upsert rendered events; a newer version already kept by another process wins."""
    if not values:
        return
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(events)
    statement = insert.on_conflict_do_update(
        index_elements=[events.c.origin, events.c.fact_id, events.c.lang],
        set_={
            "version": insert.excluded.version,
            "day_known": insert.excluded.day_known,
            "body": insert.excluded.body,
        },
        where=events.c.version < insert.excluded.version,
    )
    async with engine.begin() as conn:
        for chunk in range(0, len(values), 500):
            await conn.execute(statement, list(values[chunk : chunk + 500]))


# Kept VEVENTs are a cache filled when a feed asks: a rebuild only empties it.
PROJECTION = Projection("calendar", (events,))
