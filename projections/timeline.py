"""The timeline read model: built from the log, queried by the API and the feeds.

The projector runs inside the append's transaction (a 2xx write is visible to the next
read) and keeps every version of each fact with the log positions it was valid between,
so "as of" reads use the same query as current ones.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from events.dates import parse_edtf
from events.decider import STREAM_PREFIX, FactState, evolve
from events.facts import FACT_ID, MAX_ID, Fact
from events.model import FactRescheduled, FactRevised, FactStatusChanged
from events.store import RecordedEvent
from projections import sql
from projections.projection import Projection, advance
from projections.tables import fact_countries, fact_tags, facts

NAME = "timeline"
OPEN_SPAN = 1_000_000  # sorts an open-ended period after every closed one

_fact_encoder = msgspec.json.Encoder()
_fact_decoder = msgspec.json.Decoder(Fact)


class Row(msgspec.Struct, kw_only=True):
    fact_id: str
    version: int
    valid_from: int
    valid_to: int | None
    retracted: bool
    sort_date: str
    span_days: int
    start: str | None
    end: str | None
    precision: str
    kind: str
    status: str
    search_text: str
    document: str
    sequence: int
    created_at: str
    updated_at: str

    def fact(self) -> Fact:
        return _fact_decoder.decode(self.document)


_FIELDS = Row.__struct_fields__
assert tuple(c.name for c in facts.columns) == _FIELDS, "Row follows the table's columns"


def _to_row(row: Sequence[Any]) -> Row:
    """A Row from a `select(facts)` result row (several times faster than `**row._mapping`)."""
    return Row(**dict(zip(_FIELDS, row, strict=True)))


def _changes_sequence(event: object) -> bool:
    """Whether a calendar client must see this event as a new SEQUENCE of the fact."""
    if isinstance(event, FactRescheduled | FactStatusChanged):
        return True
    return isinstance(event, FactRevised) and event.title is not msgspec.UNSET


def _row_for(state: FactState, previous: Row | None, event: object, recorded: RecordedEvent) -> Row:
    fact = state.fact
    bounds = parse_edtf(fact.date.edtf)
    start = bounds.start.isoformat() if bounds.start else None
    end = bounds.end.isoformat() if bounds.end else None
    span = (bounds.end - bounds.start).days if bounds.start and bounds.end else OPEN_SPAN
    search = " ".join([*fact.title.values(), *fact.summary.values()]).casefold()
    sequence = (previous.sequence if previous else 0) + (
        1 if previous and _changes_sequence(event) else 0
    )
    return Row(
        fact_id=fact.id,
        version=recorded.version,
        valid_from=recorded.position,
        valid_to=None,
        retracted=state.retracted,
        sort_date=start or end or "",
        span_days=span,
        start=start,
        end=end,
        precision=bounds.precision,
        kind=fact.kind,
        status=fact.status,
        search_text=search,
        document=_fact_encoder.encode(fact).decode(),
        sequence=sequence,
        created_at=previous.created_at if previous else recorded.recorded_at,
        updated_at=recorded.recorded_at,
    )


def new_fact_row(state: FactState, recorded: RecordedEvent) -> Row:
    """The row the projection makes of a fact's first event (a writer that has just
    recorded one answers with it, instead of reading it back)."""
    assert recorded.version == 1
    return _row_for(state, None, recorded.event(), recorded)


def _countries(fact: Fact) -> set[str]:
    codes = set(fact.participants)
    if fact.place is not None and fact.place.country:
        codes.add(fact.place.country)
    return codes


def _current_rows(conn: sa.Connection, fact_ids: list[str]) -> dict[str, Row]:
    found: dict[str, Row] = {}
    for i in range(0, len(fact_ids), 500):
        result = conn.execute(
            sa.select(facts).where(
                facts.c.fact_id.in_(fact_ids[i : i + 500]), facts.c.valid_to.is_(None)
            )
        )
        for row in result:
            found[row[0]] = _to_row(row)
    return found


# The projection's statements, built once: building them per append cost more than running.
_CLOSE = (
    facts.update()
    .where(facts.c.fact_id == sa.bindparam("fid"), facts.c.valid_to.is_(None))
    .values(valid_to=sa.bindparam("pos"))
)
_CHECKPOINT = advance(NAME)
_INSERT_FACTS, _INSERT_COUNTRIES, _INSERT_TAGS = (
    facts.insert(),
    fact_countries.insert(),
    fact_tags.insert(),
)


def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
    """Apply appended events to the read model, in the append's own transaction."""
    relevant = [r for r in recorded if r.stream_id.startswith(STREAM_PREFIX)]
    if relevant:
        # A stream whose first event here is its first of all has no row yet: only the
        # others are looked up.
        first: dict[str, int] = {}
        for r in relevant:
            first.setdefault(r.stream_id[len(STREAM_PREFIX) :], r.version)
        current = _current_rows(conn, [fact_id for fact_id, v in first.items() if v > 1])
        closed: list[dict[str, Any]] = []
        new_rows: list[Row] = []
        pending: set[int] = set()  # ids of rows made in this batch, not yet inserted
        for r in relevant:
            fact_id = r.stream_id[len(STREAM_PREFIX) :]
            previous = current.get(fact_id)
            event = r.event()
            state = None if previous is None else FactState(previous.fact(), previous.retracted)
            state = evolve(state, event)
            assert state is not None
            row = _row_for(state, previous, event, r)
            if previous is not None and id(previous) in pending:
                previous.valid_to = r.position
            elif previous is not None:
                closed.append({"fid": fact_id, "pos": r.position})
            current[fact_id] = row
            new_rows.append(row)
            pending.add(id(row))
        if closed:
            conn.execute(_CLOSE, closed)
        _insert_rows(conn, new_rows)
    conn.execute(_CHECKPOINT, {"position": recorded[-1].position})


def _insert_rows(conn: sa.Connection, rows: list[Row]) -> None:
    if not rows:
        return
    conn.execute(_INSERT_FACTS, [msgspec.structs.asdict(r) for r in rows])
    countries: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for row in rows:
        fact = row.fact()
        key = {"fact_id": row.fact_id, "version": row.version}
        countries.extend({**key, "code": code} for code in sorted(_countries(fact)))
        tags.extend({**key, "tag": tag} for tag in sorted(set(fact.tags)))
    if countries:
        conn.execute(_INSERT_COUNTRIES, countries)
    if tags:
        conn.execute(_INSERT_TAGS, tags)


PROJECTION = Projection(NAME, (fact_tags, fact_countries, facts), project)


# --- queries ----------------------------------------------------------------------------


class Filters(msgspec.Struct, kw_only=True):
    """What a reader asks of the timeline; every route's filters (service/http/params.py)."""

    start: dt.date | None = None  # `from`
    end: dt.date | None = None  # `to`
    countries: list[str] = []
    tags: list[str] = []
    statuses: list[str] = []
    kinds: list[str] = []
    fact_ids: list[str] = []
    precisions: list[str] = []
    text: str | None = None
    as_of_position: int | None = None  # None: now

    def params(self) -> list[tuple[str, str]]:
        """The query-string pairs that ask for these filters, in a canonical order (a feed's
        URL, and so its calendar's UID, is made of them); not `precisions` nor `as_of`,
        which each route says in its own way."""
        pairs = [
            *(("id", v) for v in self.fact_ids),
            *(("country", v) for v in self.countries),
            *(("tag", v) for v in self.tags),
            *(("status", v) for v in self.statuses),
            *(("kind", v) for v in self.kinds),
        ]
        for name, value in (("from", self.start), ("to", self.end), ("q", self.text)):
            if value is not None:
                pairs.append((name, str(value)))
        return pairs


class Cursor(msgspec.Struct, array_like=True):
    sort_date: str
    span_days: int
    fact_id: str


class InvalidCursor(ValueError):
    pass


# What a cursor this service gave out can hold: a row's sort date (an ISO date, or "" for
# none), its span (the column is a 32-bit integer) and a fact id. A forged one holding
# anything else must be refused here, before the database (an integer beyond 64 bits or
# a NUL byte would be a driver error there, not a bad request).
_SORT_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|")
_SPAN_LIMIT = 2**31


def _given_out(cursor: Cursor) -> bool:
    return (
        _SORT_DATE.fullmatch(cursor.sort_date) is not None
        and -_SPAN_LIMIT <= cursor.span_days < _SPAN_LIMIT
        and len(cursor.fact_id) <= MAX_ID
        and FACT_ID.fullmatch(cursor.fact_id) is not None
    )


def encode_cursor(cursor: Cursor) -> str:
    raw = msgspec.json.encode(cursor)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = msgspec.json.decode(raw, type=Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        cursor = None
    if cursor is None or not _given_out(cursor):
        raise InvalidCursor("the cursor is not one this service gave out")
    return cursor


def _valid_at(position: int | None) -> sa.ColumnElement[bool]:
    if position is None:
        return facts.c.valid_to.is_(None)
    at = sa.bindparam("as_of_position", position, type_=sa.Integer)
    return sa.and_(
        facts.c.valid_from <= at, sa.or_(facts.c.valid_to.is_(None), facts.c.valid_to > at)
    )


def _has(table: sa.Table, column: str, values: list[str]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        table.c.fact_id == facts.c.fact_id,
        table.c.version == facts.c.version,
        table.c[column].in_(values),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The current, unretracted facts: where every query starts (built once, not per request).
_CURRENT = sa.select(facts).where(_valid_at(None), facts.c.retracted.is_(False))


def _scalars(filters: Filters) -> dict[str, Any]:
    """The filters' single values, by the names of their parameters in `select_rows`: a
    Select built for one request can run for another of its shape with these."""
    values: dict[str, Any] = {}
    if filters.as_of_position is not None:
        values["as_of_position"] = filters.as_of_position
    if filters.start is not None:
        values["from_day"] = filters.start.isoformat()
    if filters.end is not None:
        values["to_day"] = filters.end.isoformat()
    if filters.text:
        values["text_pattern"] = f"%{_escape_like(filters.text.casefold())}%"
    return values


def select_rows(filters: Filters) -> sa.Select[Any]:
    values = _scalars(filters)
    query = (
        _CURRENT
        if filters.as_of_position is None
        else sa.select(facts).where(_valid_at(filters.as_of_position), facts.c.retracted.is_(False))
    )
    if "from_day" in values:
        since = sa.bindparam("from_day", values["from_day"], type_=facts.c.end.type)
        query = query.where(sa.or_(facts.c.end.is_(None), facts.c.end >= since))
    if "to_day" in values:
        until = sa.bindparam("to_day", values["to_day"], type_=facts.c.start.type)
        query = query.where(sa.or_(facts.c.start.is_(None), facts.c.start <= until))
    if filters.countries:
        query = query.where(_has(fact_countries, "code", filters.countries))
    if filters.tags:
        query = query.where(_has(fact_tags, "tag", filters.tags))
    if filters.statuses:
        query = query.where(facts.c.status.in_(filters.statuses))
    if filters.kinds:
        query = query.where(facts.c.kind.in_(filters.kinds))
    if filters.fact_ids:
        query = query.where(facts.c.fact_id.in_(filters.fact_ids))
    if filters.precisions:
        query = query.where(facts.c.precision.in_(filters.precisions))
    if "text_pattern" in values:
        pattern = sa.bindparam(
            "text_pattern", values["text_pattern"], type_=facts.c.search_text.type
        )
        query = query.where(facts.c.search_text.like(pattern, escape="\\"))
    return query


ORDER = (facts.c.sort_date, facts.c.span_days, facts.c.fact_id)


def count(conn: sa.Connection, filters: Filters) -> int:
    """How many facts match, without reading them (to refuse an answer too big to build)."""
    query = select_rows(filters).with_only_columns(sa.func.count(), maintain_column_froms=True)
    return conn.execute(query).scalar_one()


def _one_more_than_a_page(
    query: sa.Select[Any], limit: int, after: Cursor | None
) -> sa.Select[Any]:
    """The rows after the cursor in order, one more than a page: whether it is there says
    whether another page follows."""
    if after is not None:
        query = query.where(
            sa.tuple_(*ORDER) > sa.tuple_(after.sort_date, after.span_days, after.fact_id)
        )
    return query.order_by(*ORDER).limit(limit + 1)


def page(
    conn: sa.Connection, filters: Filters, *, limit: int, after: Cursor | None = None
) -> tuple[list[Row], Cursor | None]:
    """One page of the timeline in order, and the cursor of the next page (or None)."""
    query = _one_more_than_a_page(select_rows(filters), limit, after)
    rows = [_to_row(r) for r in conn.execute(query).all()]
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        return rows, Cursor(last.sort_date, last.span_days, last.fact_id)
    return rows, None


# A fact at one version, and its place in the order: (fact_id, version, sort_date,
# span_days). All a page needs to find its items in a cache; a driver's row as it comes.
Key = tuple[str, int, str, int]

_KEY_COLUMNS = (facts.c.fact_id, facts.c.version, facts.c.sort_date, facts.c.span_days)
_AFTER = sa.tuple_(*ORDER) > sa.tuple_(
    # Stand-in values, which page_keys always replaces.
    sa.bindparam("after_date", "", type_=facts.c.sort_date.type),
    sa.bindparam("after_span", 0, type_=facts.c.span_days.type),
    sa.bindparam("after_id", "", type_=facts.c.fact_id.type),
)
# What a Select of page_keys is built from besides the values in _scalars: which filters
# are given, the list filters' values, and whether a cursor is.
_Shape = tuple[tuple[str, ...], ...]


def _shape(filters: Filters, after: Cursor | None) -> _Shape:
    return (
        tuple(sorted(_scalars(filters))),
        tuple(filters.countries),
        tuple(filters.tags),
        tuple(filters.statuses),
        tuple(filters.kinds),
        tuple(filters.fact_ids),
        tuple(filters.precisions),
        ("after",) if after is not None else (),
    )


@functools.lru_cache(maxsize=256)
def _keys_statement(shape: _Shape) -> sa.Select[Any]:
    """page_keys' query for filters of this shape, built once. Built from stand-in values
    for the single ones, which every call gives (a value not given would show as a wrong
    page in the tests, not pass unseen)."""
    scalars, countries, tags, statuses, kinds, fact_ids, precisions, after = shape
    filters = Filters(
        as_of_position=0 if "as_of_position" in scalars else None,
        start=dt.date.min if "from_day" in scalars else None,
        end=dt.date.min if "to_day" in scalars else None,
        text="?" if "text_pattern" in scalars else None,
        countries=list(countries),
        tags=list(tags),
        statuses=list(statuses),
        kinds=list(kinds),
        fact_ids=list(fact_ids),
        precisions=list(precisions),
    )
    query = select_rows(filters).with_only_columns(*_KEY_COLUMNS)
    if after:
        query = query.where(_AFTER)
    return query.order_by(*ORDER).limit(sa.bindparam("rows", 1, type_=sa.Integer))


def page_keys(
    conn: sa.Connection, filters: Filters, *, limit: int, after: Cursor | None = None
) -> tuple[list[Key], Cursor | None]:
    """`page`, reading only which fact versions it holds: a fact's row never changes at a
    version, so what is rendered of it can be kept by its key (see items.EncodedItems)."""
    values = _scalars(filters)
    values["rows"] = limit + 1  # one more than a page: whether it is there says if one follows
    if after is not None:
        values.update(
            after_date=after.sort_date, after_span=after.span_days, after_id=after.fact_id
        )
    found: list[Key] = sql.fetch_all(conn, _keys_statement(_shape(filters, after)), **values)
    if len(found) > limit:
        fact_id, _, sort_date, span_days = found[limit - 1]
        return found[:limit], Cursor(sort_date, span_days, fact_id)
    return found, None


def rows_at(conn: sa.Connection, keys: Sequence[Key]) -> list[Row]:
    """The rows of these fact versions (current or superseded), in no particular order."""
    if not keys:
        return []
    pairs = [(key[0], key[1]) for key in keys]
    query = sa.select(facts).where(sa.tuple_(facts.c.fact_id, facts.c.version).in_(pairs))
    return [_to_row(r) for r in conn.execute(query).all()]


def fact_row(conn: sa.Connection, fact_id: str, as_of_position: int | None = None) -> Row | None:
    """The fact's row (retracted or not) as of a position, or now (through `Database.run`)."""
    query = sa.select(facts).where(facts.c.fact_id == fact_id, _valid_at(as_of_position))
    row = conn.execute(query).first()
    return _to_row(row) if row else None


def may_have_elapsed(
    conn: sa.Connection, day: dt.date, pending: frozenset[str]
) -> list[tuple[FactState, int]]:
    """Current facts in a `pending` status that ended before `day`, with their versions.

    The query narrows; `events.elapse.decide` has the last word on each.
    """
    query = (
        sa.select(facts.c.document, facts.c.version)
        .where(
            facts.c.valid_to.is_(None),
            facts.c.retracted.is_(False),
            facts.c.status.in_(sorted(pending)),
            facts.c.end.is_not(None),
            facts.c.end < day.isoformat(),
        )
        .order_by(facts.c.fact_id)
    )
    return [(FactState(_fact_decoder.decode(doc)), version) for doc, version in conn.execute(query)]
