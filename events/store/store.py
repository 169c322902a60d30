"""The event store: append with an expected version, read a stream, read the log by position.

Appends go to the backend of the engine's database (events.store.sqlite or .postgres,
under the contract of events.store.backend); reads are the same SQL on both, run by
events.db.Database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events import model
from events.db import Database, is_sqlite, sqlite_twin
from events.instants import Clock, format_instant, text_clock, utc_now
from events.store.backend import Backend, Projector
from events.store.postgres import PostgresBackend
from events.store.records import (
    ANY_VERSION,
    EMPTY_HEAD,
    GENESIS_HASH,
    Append,
    Head,
    RecordedEvent,
    chain_fault,
)
from events.store.sqlite import SqliteBackend
from events.tables import events as events_table


class EventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        projectors: Sequence[Projector] = (),
        clock: Clock = utc_now,
        lock_timeout_ms: int = 10_000,
    ) -> None:
        """`lock_timeout_ms`: how long a PostgreSQL append waits for the lock."""
        self.engine = engine
        self.database = Database(engine)
        now = text_clock(clock)
        self._backend: Backend = (
            SqliteBackend(engine, sqlite_twin(engine), projectors, now)
            if is_sqlite(engine)
            else PostgresBackend(engine, projectors, now, lock_timeout_ms)
        )

    async def close(self) -> None:
        """Close the store's own connections and its writer thread (the engine stays open:
        it is its owner's to dispose)."""
        await self._backend.close()

    # --- writing --------------------------------------------------------------------------

    async def append(
        self,
        stream_id: str,
        events: Sequence[model.Event],
        expected_version: int | None = ANY_VERSION,
        *,
        actor: str,
        reason: str | None = None,
    ) -> list[RecordedEvent]:
        return await self._backend.append(
            [Append(stream_id, events, expected_version)], actor=actor, reason=reason
        )

    async def append_many(
        self, appends: Sequence[Append], *, actor: str, reason: str | None = None
    ) -> list[RecordedEvent]:
        """Append to several streams in one transaction: all of it, or nothing."""
        return await self._backend.append(appends, actor=actor, reason=reason)

    async def import_events(self, recorded: Sequence[RecordedEvent]) -> None:
        """Append events exactly as exported (positions, instants, hashes) after the head.

        Each event's hash is checked against the chain, so a doctored file is refused.
        """
        await self._backend.import_events(recorded)

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction that holds the append lock (a projection's rebuild, say)."""
        return self._backend.write_transaction()

    # --- reading --------------------------------------------------------------------------

    async def head(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return (await self.database.run(_read_head))[0]

    async def last_recorded(self) -> tuple[int, str | None]:
        """The head's position and instant (0, None for an empty log)."""
        position, _, instant = await self.database.run(_read_head)
        return position, instant or None

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        query = sa.select(*_COLUMNS).where(events_table.c.stream_id == stream_id)
        return await self.database.run(_read_events, query.order_by(events_table.c.version))

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several streams at once (bulk loads), each in version order."""
        found: dict[str, list[RecordedEvent]] = {}
        for i in range(0, len(stream_ids), 500):
            query = (
                sa.select(*_COLUMNS)
                .where(events_table.c.stream_id.in_(stream_ids[i : i + 500]))
                .order_by(events_table.c.position)
            )
            for event in await self.database.run_bulk(_read_events, query):
                found.setdefault(event.stream_id, []).append(event)
        return found

    async def read_all(self, after: int = 0, limit: int | None = 1000) -> list[RecordedEvent]:
        """The log in position order, after a position."""
        query = _log_query(after, limit)
        if limit is not None and limit <= 1000:
            return await self.database.run(_read_events, query)
        return await self.database.run_bulk(_read_events, query)

    async def read_all_in(
        self, conn: AsyncConnection, after: int = 0, limit: int | None = 1000
    ) -> list[RecordedEvent]:
        """`read_all` inside a transaction the caller holds (a projection's replay)."""
        return await conn.run_sync(_read_events, _log_query(after, limit))

    async def position_at(self, instant: dt.datetime) -> int:
        """The last position recorded at or before `instant` (0 if none).

        A binary search over positions, as instants never run backwards along them: no
        index on `recorded_at` for every append to keep up.
        """
        query = sa.text(_POSITION_AT).bindparams(instant=format_instant(instant))
        return await self.database.run(lambda conn: conn.execute(query).scalar() or 0)

    async def iterate(self, after: int = 0, batch: int = 5000) -> AsyncIterator[RecordedEvent]:
        """The whole log from a position, in batches (export, verify, rebuild)."""
        while True:
            chunk = await self.read_all(after, batch)
            for event in chunk:
                yield event
            if len(chunk) < batch:
                return
            after = chunk[-1].position

    async def verify(self) -> RecordedEvent | None:
        """Walk the hash chain; return the first event that breaks it, or None."""
        position, previous = 0, GENESIS_HASH
        async for event in self.iterate():
            if chain_fault(position, previous, event) is not None:
                return event
            position, previous = event.position, event.hash
        return None


_COLUMNS = [
    events_table.c.position,
    events_table.c.stream_id,
    events_table.c.version,
    events_table.c.type,
    events_table.c.data,
    events_table.c.actor,
    events_table.c.reason,
    events_table.c.recorded_at,
    events_table.c.hash,
]

_HEAD_SQL = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"

# The answer lies in [lo, hi]: lo is recorded at or before the instant (0 stands for "none
# is"), and each step reads the event midway and halves the range, to lo = hi.
_POSITION_AT = """
WITH RECURSIVE search(lo, hi) AS (
    SELECT CAST(0 AS BIGINT), (SELECT coalesce(max(position), 0) FROM events)
    UNION ALL
    SELECT CASE WHEN e.recorded_at <= :instant THEN (s.lo + s.hi + 1) / 2 ELSE s.lo END,
           CASE WHEN e.recorded_at <= :instant THEN s.hi ELSE (s.lo + s.hi + 1) / 2 - 1 END
    FROM search AS s JOIN events AS e ON e.position = (s.lo + s.hi + 1) / 2
    WHERE s.lo < s.hi
)
SELECT max(lo) FROM search
"""


def _read_head(conn: sa.Connection) -> Head:
    # The DBAPI cursor: SQLAlchemy's work for a statement costs more than this one's.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_HEAD_SQL)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return (row[0], row[1], row[2]) if row else EMPTY_HEAD


def _read_events(conn: sa.Connection, query: sa.Select[Any]) -> list[RecordedEvent]:
    return [RecordedEvent(*row) for row in conn.execute(query)]


def _log_query(after: int, limit: int | None) -> sa.Select[Any]:
    query = sa.select(*_COLUMNS).where(events_table.c.position > after)
    query = query.order_by(events_table.c.position)
    return query if limit is None else query.limit(limit)
