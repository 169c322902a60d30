"""The event store: append with an expected version, read a stream, read the log by position.

Appends are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an EXCLUSIVE table lock),
so positions are gapless and commit in order: a reader following positions can never
skip an event that commits later with a lower position. Under that lock each event gets
its position, its `recorded_at` and its hash over the previous event's hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events import model
from events.db import WRITE, is_sqlite
from events.tables import events as events_table

GENESIS_HASH = "0" * 64
ANY_VERSION = None  # expected_version that skips the check
NO_STREAM = 0  # expected_version of a stream that must not exist yet


class ConcurrencyError(Exception):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    stream_id: str
    version: int
    type: str
    data: str
    actor: str
    reason: str | None
    recorded_at: str
    hash: str

    def event(self) -> model.Event:
        return model.decode(self.type, self.data)


class Append(msgspec.Struct, frozen=True):
    """Events for one stream, appended only if the stream is at `expected_version`."""

    stream_id: str
    events: Sequence[model.Event]
    expected_version: int | None = ANY_VERSION


Projector = Callable[[AsyncConnection, Sequence[RecordedEvent]], Awaitable[None]]
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_instant(instant: dt.datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


_content = msgspec.json.Encoder()


def chain_hash(previous: str, event: RecordedEvent) -> str:
    """SHA-256 over the previous event's hash and everything this event says."""
    content = _content.encode(
        [
            event.position,
            event.stream_id,
            event.version,
            event.type,
            event.data,
            event.actor,
            event.reason,
            event.recorded_at,
        ]
    )
    return hashlib.sha256(previous.encode() + b"\n" + content).hexdigest()


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


def _row_to_event(row: sa.Row) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        stream_id=row[1],
        version=row[2],
        type=row[3],
        data=row[4],
        actor=row[5],
        reason=row[6],
        recorded_at=row[7],
        hash=row[8],
    )


class EventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        projectors: Sequence[Projector] = (),
        clock: Clock = utc_now,
        lock_timeout_ms: int = 10_000,
    ) -> None:
        self.engine = engine
        self.projectors = list(projectors)
        self.clock = clock
        self.lock_timeout_ms = lock_timeout_ms
        self._sqlite = is_sqlite(engine)
        self._writer = engine.execution_options(**WRITE)

    # --- writing --------------------------------------------------------------------------

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A serialised write transaction; `append_in` appends inside it."""
        async with self._writer.begin() as conn:
            if not self._sqlite:
                # set_config(..., true) is SET LOCAL with a bound value.
                await conn.execute(
                    sa.text("SELECT set_config('lock_timeout', :ms, true)"),
                    {"ms": f"{self.lock_timeout_ms}ms"},
                )
                await conn.execute(sa.text("LOCK TABLE events IN EXCLUSIVE MODE"))
            yield conn

    async def append(
        self,
        stream_id: str,
        events: Sequence[model.Event],
        expected_version: int | None = ANY_VERSION,
        *,
        actor: str,
        reason: str | None = None,
    ) -> list[RecordedEvent]:
        return await self.append_many(
            [Append(stream_id, events, expected_version)], actor=actor, reason=reason
        )

    async def append_many(
        self, appends: Sequence[Append], *, actor: str, reason: str | None = None
    ) -> list[RecordedEvent]:
        """Append to several streams in one transaction: all of it, or nothing."""
        async with self.write_transaction() as conn:
            return await self.append_in(conn, appends, actor=actor, reason=reason)

    async def append_in(
        self,
        conn: AsyncConnection,
        appends: Sequence[Append],
        *,
        actor: str,
        reason: str | None = None,
    ) -> list[RecordedEvent]:
        """Append inside a write transaction the caller holds (see `write_transaction`)."""
        versions = await self._stream_versions(conn, {a.stream_id for a in appends})
        for a in appends:
            actual = versions.get(a.stream_id, 0)
            if a.expected_version is not None and a.expected_version != actual:
                raise ConcurrencyError(a.stream_id, a.expected_version, actual)
        position, previous, last_instant = await self._head(conn)
        # Time never runs backwards in the log, whatever the clocks of several processes say.
        recorded_at = max(format_instant(self.clock()), last_instant)
        recorded: list[RecordedEvent] = []
        for a in appends:
            version = versions.get(a.stream_id, 0)
            for event in a.events:
                position += 1
                version += 1
                unhashed = RecordedEvent(
                    position=position,
                    stream_id=a.stream_id,
                    version=version,
                    type=model.type_name(event),
                    data=model.encode(event),
                    actor=actor,
                    reason=reason,
                    recorded_at=recorded_at,
                    hash="",
                )
                previous = chain_hash(previous, unhashed)
                recorded.append(msgspec.structs.replace(unhashed, hash=previous))
            versions[a.stream_id] = version
        if recorded:
            await self._insert(conn, recorded)
            for project in self.projectors:
                await project(conn, recorded)
        return recorded

    async def _insert(self, conn: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        await conn.execute(
            events_table.insert(),
            [msgspec.structs.asdict(r) for r in recorded],
        )

    async def _stream_versions(self, conn: AsyncConnection, stream_ids: set[str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        ids = list(stream_ids)
        for i in range(0, len(ids), 500):
            rows = await conn.execute(
                sa.select(events_table.c.stream_id, sa.func.max(events_table.c.version))
                .where(events_table.c.stream_id.in_(ids[i : i + 500]))
                .group_by(events_table.c.stream_id)
            )
            versions.update({stream: version for stream, version in rows})
        return versions

    async def import_events(self, recorded: Sequence[RecordedEvent]) -> None:
        """Append events exactly as exported (positions, instants, hashes) after the head.

        Each event's hash is checked against the chain, so a doctored file is refused.
        """
        async with self.write_transaction() as conn:
            expected_position, previous, _ = await self._head(conn)
            for event in recorded:
                expected_position += 1
                if event.position != expected_position:
                    raise ValueError(
                        f"event at position {event.position} does not follow position "
                        f"{expected_position - 1}"
                    )
                if chain_hash(previous, event) != event.hash:
                    raise ValueError(f"event at position {event.position} breaks the hash chain")
                previous = event.hash
            for i in range(0, len(recorded), 1000):
                chunk = recorded[i : i + 1000]
                await self._insert(conn, chunk)
                for project in self.projectors:
                    await project(conn, chunk)

    # --- reading --------------------------------------------------------------------------

    async def _head(self, conn: AsyncConnection) -> tuple[int, str, str]:
        """The last event's position, hash and instant (0, genesis, "" for an empty log)."""
        row = (
            await conn.execute(
                sa.select(
                    events_table.c.position, events_table.c.hash, events_table.c.recorded_at
                )
                .order_by(events_table.c.position.desc())
                .limit(1)
            )
        ).first()
        return (row[0], row[1], row[2]) if row else (0, GENESIS_HASH, "")

    async def head(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        async with self.engine.connect() as conn:
            return (await self._head(conn))[0]

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_version: int | None = None,
        as_of: dt.datetime | None = None,
    ) -> list[RecordedEvent]:
        query = sa.select(*_COLUMNS).where(events_table.c.stream_id == stream_id)
        if up_to_version is not None:
            query = query.where(events_table.c.version <= up_to_version)
        if as_of is not None:
            query = query.where(events_table.c.recorded_at <= format_instant(as_of))
        async with self.engine.connect() as conn:
            rows = await conn.execute(query.order_by(events_table.c.version))
            return [_row_to_event(row) for row in rows]

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several streams at once (bulk loads), each in version order."""
        found: dict[str, list[RecordedEvent]] = {}
        async with self.engine.connect() as conn:
            for i in range(0, len(stream_ids), 500):
                rows = await conn.execute(
                    sa.select(*_COLUMNS)
                    .where(events_table.c.stream_id.in_(stream_ids[i : i + 500]))
                    .order_by(events_table.c.position)
                )
                for row in rows:
                    found.setdefault(row[1], []).append(_row_to_event(row))
        return found

    async def read_all(
        self, after: int = 0, limit: int | None = 1000, *, until: dt.datetime | None = None
    ) -> list[RecordedEvent]:
        """The log in position order, after a position (and recorded no later than `until`)."""
        async with self.engine.connect() as conn:
            return await self.read_all_in(conn, after, limit, until=until)

    async def read_all_in(
        self,
        conn: AsyncConnection,
        after: int = 0,
        limit: int | None = 1000,
        *,
        until: dt.datetime | None = None,
    ) -> list[RecordedEvent]:
        query = sa.select(*_COLUMNS).where(events_table.c.position > after)
        if until is not None:
            query = query.where(events_table.c.recorded_at <= format_instant(until))
        query = query.order_by(events_table.c.position)
        if limit is not None:
            query = query.limit(limit)
        return [_row_to_event(row) for row in await conn.execute(query)]

    async def position_at(self, instant: dt.datetime) -> int:
        """The last position recorded at or before `instant` (0 if none)."""
        query = sa.select(sa.func.max(events_table.c.position)).where(
            events_table.c.recorded_at <= format_instant(instant)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar() or 0

    async def last_recorded(self) -> tuple[int, str | None]:
        """The head's position and instant (0, None for an empty log)."""
        async with self.engine.connect() as conn:
            position, _, instant = await self._head(conn)
        return position, instant or None

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
        previous = GENESIS_HASH
        expected_position = 0
        async for event in self.iterate():
            expected_position += 1
            if event.position != expected_position or chain_hash(previous, event) != event.hash:
                return event
            previous = event.hash
        return None
