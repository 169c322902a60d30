"""The event store: append with an expected version, read a stream, read the log by position.

Appends are serialised (SQLite: its write lock, taken by a one-statement append or by
BEGIN IMMEDIATE; PostgreSQL: an EXCLUSIVE table lock),
so positions are gapless and commit in order: a reader following positions can never
skip an event that commits later with a lower position. Under that lock each event gets
its position, its `recorded_at` and its hash over the previous event's hash.

An append is a handful of SQL operations: lock; read the log's head and the streams'
versions in one query; insert every event in one statement; project; commit. Mostly it is
fewer: the store guesses the head (the last one it saw) and the versions (the ones the
caller expects) and sends one insert that holds only if the guesses do; a wrong guess costs
one statement, then the exact way runs. On PostgreSQL the store's own statements go to
asyncpg directly, BEGIN and the lock sharing one round trip. On SQLite an append runs on a
synchronous connection: at synchronous=NORMAL right on the event loop when no other writer
holds the database (a commit in WAL mode takes tens of microseconds, less than a hand-off
to a thread), and otherwise in the store's writer thread, which waits for the lock (or the
disk) without holding up the loop; see _SqliteWriting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import inspect
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import asyncpg
import msgspec
import sqlalchemy as sa
from msgspec.structs import astuple
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

from events import model
from events.db import WRITE, is_sqlite, sqlite_twin
from events.tables import events as events_table

GENESIS_HASH = "0" * 64
ANY_VERSION = None  # expected_version that skips the check
NO_STREAM = 0  # expected_version of a stream that must not exist yet

P = ParamSpec("P")
T = TypeVar("T")


class ConcurrencyError(Exception):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class RecordedEvent(msgspec.Struct, frozen=True):
    # The fields are in the event table's columns' order: astuple() is a row.
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


# A projector applies appended events to a read model in the append's transaction. Plain
# functions of a synchronous connection run inside the append's single hand-off on SQLite;
# async ones (of an AsyncConnection) are still accepted, at the cost of that fast path.
Projector = Callable[[sa.Connection, Sequence[RecordedEvent]], None]
AsyncProjector = Callable[[AsyncConnection, Sequence[RecordedEvent]], Awaitable[None]]
Clock = Callable[[], dt.datetime]


utc_now: Clock = functools.partial(dt.datetime.now, dt.UTC)


def format_instant(instant: dt.datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    i = instant if instant.tzinfo is dt.UTC else instant.astimezone(dt.UTC)
    return (
        f"{i.year:04d}-{i.month:02d}-{i.day:02d}T{i.hour:02d}:{i.minute:02d}:{i.second:02d}"
        f".{i.microsecond:06d}Z"
    )


def utc_now_text() -> str:
    """format_instant(utc_now()), straight from the system clock.

    Every append takes the time, and getting a datetime (glibc's gmtime takes a lock) and
    formatting it cost more than SQLite's part of a small append: the date and time are
    formatted once a second here, and only the microseconds each time.
    """
    global _second_text
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    if second != _second_text[0]:
        whole = format_instant(dt.datetime.fromtimestamp(second, dt.UTC))
        _second_text = (second, whole[: -len("000000Z")])
    return f"{_second_text[1]}{micro:06d}Z"


_second_text: tuple[int, str] = (-1, "")


def parse_instant(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


_content = msgspec.json.Encoder()


# hashlib.sha256() looks the digest up in OpenSSL on every call (Python 3.11); a copy of a
# fresh one skips that, which is a good part of hashing an event.
_SHA256 = hashlib.sha256()


def _hash(previous: str, fields: tuple[Any, ...]) -> str:
    # fields: position, stream_id, version, type, data, actor, reason, recorded_at
    digest = _SHA256.copy()
    digest.update(previous.encode() + b"\n" + _content.encode(fields))
    return digest.hexdigest()


def chain_hash(previous: str, event: RecordedEvent) -> str:
    """SHA-256 over the previous event's hash and everything this event says."""
    return _hash(
        previous,
        (
            event.position,
            event.stream_id,
            event.version,
            event.type,
            event.data,
            event.actor,
            event.reason,
            event.recorded_at,
        ),
    )


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
_NAMES = "position, stream_id, version, type, data, actor, reason, recorded_at, hash"


# The log's head (position, hash, instant) and the current version of each stream asked
# about, in one query: the head's row has a position, the streams' rows have none.
_HEAD_SQL = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
_SQLITE_HEAD_AND_VERSIONS = (
    "SELECT * FROM (SELECT position, hash, recorded_at, NULL FROM events "
    "ORDER BY position DESC LIMIT 1) "
    "UNION ALL SELECT NULL, stream_id, NULL, max(version) FROM events "
    "WHERE stream_id IN (SELECT value FROM json_each(?)) GROUP BY stream_id"
)
_PG_HEAD_AND_VERSIONS = (
    "(SELECT position, hash, recorded_at, NULL::integer FROM events "
    "ORDER BY position DESC LIMIT 1) "
    "UNION ALL SELECT NULL, stream_id, NULL, max(version) FROM events "
    "WHERE stream_id = ANY($1::text[]) GROUP BY stream_id"
)
_SQLITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
# The most events one SQLite INSERT carries: 9 parameters each, within SQLite's limit of
# 32,766 per statement. A guessed append must be one statement: larger ones go the exact way.
_SQLITE_EVENTS_PER_INSERT = 1000
_SQLITE_AT_VERSION = "EXISTS (SELECT 1 FROM events WHERE stream_id = ? AND version = ?)"
# One statement and one round trip for any number of events.
_PG_UNNEST = (
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::text[], "
    "$6::text[], $7::text[], $8::text[], $9::text[])"
)
_PG_INSERT = f"INSERT INTO events ({_NAMES}) {_PG_UNNEST}"
# The same insert, made only if the log's head is the one guessed ($12, $13) and each
# stream ($10) at its expected version ($11); it answers like _PG_HEAD_AND_VERSIONS (as
# things were before it), plus a row of how many events it inserted.
_PG_GUARDED_INSERT = f"""
WITH head AS (
    SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1
), current AS (
    SELECT stream_id, max(version) AS version FROM events
    WHERE stream_id = ANY($10::text[]) GROUP BY stream_id
), inserted AS (
    INSERT INTO events ({_NAMES}) {_PG_UNNEST}
    WHERE coalesce((SELECT position FROM head), 0) = $12::bigint
    AND coalesce((SELECT hash FROM head), '{GENESIS_HASH}') = $13::text
    AND NOT EXISTS (
        SELECT FROM unnest($10::text[], $11::integer[]) AS e (stream_id, version)
        LEFT JOIN current AS c USING (stream_id) WHERE coalesce(c.version, 0) <> e.version
    )
    RETURNING 1
)
SELECT position, hash, recorded_at, NULL::integer FROM head
UNION ALL SELECT NULL, stream_id, NULL, version FROM current
UNION ALL SELECT NULL, NULL, NULL, count(*)::integer FROM inserted
"""

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

Head = tuple[int, str, str]  # position, hash, instant of the last event
_EMPTY: Head = (0, GENESIS_HASH, "")


def _split(rows: Sequence[Sequence[Any]]) -> tuple[Head, dict[str, int]]:
    head, versions = _EMPTY, {}
    for position, text, instant, version in rows:
        if position is not None:
            head = (position, text, instant)
        elif text is not None:
            versions[text] = version
    return head, versions


# The store's own SQLite statements go to the DBAPI connection (sqlite3's, or SQLAlchemy's
# adapter of aiosqlite's): SQLAlchemy's work per statement costs several times SQLite's.


def _sqlite_head(db: Any, stream_ids: Sequence[str]) -> tuple[Head, dict[str, int]]:
    cursor = db.cursor()
    try:
        cursor.execute(_SQLITE_HEAD_AND_VERSIONS, (msgspec.json.encode(stream_ids).decode(),))
        return _split(cursor.fetchall())
    finally:
        cursor.close()


def _sqlite_insert(db: Any, recorded: Sequence[RecordedEvent]) -> None:
    cursor = db.cursor()
    try:
        for i in range(0, len(recorded), _SQLITE_EVENTS_PER_INSERT):
            chunk = recorded[i : i + _SQLITE_EVENTS_PER_INSERT]
            params = [value for r in chunk for value in astuple(r)]
            cursor.execute(_sqlite_insert_sql(len(chunk), 0), params)
    finally:
        cursor.close()


@functools.lru_cache(maxsize=256)
def _sqlite_insert_sql(events: int, guards: int) -> str:
    """A multi-row INSERT (faster than executemany), made only if `guards` versions exist."""
    values = ", ".join([_SQLITE_ROW] * events)
    if not guards:
        return f"INSERT INTO events ({_NAMES}) VALUES {values}"
    where = " AND ".join([_SQLITE_AT_VERSION] * guards)
    return f"INSERT INTO events ({_NAMES}) SELECT * FROM (VALUES {values}) WHERE {where}"


def _sqlite_guessed_insert(
    db: sqlite3.Connection, recorded: Sequence[RecordedEvent], expected: dict[str, int]
) -> bool:
    """Insert the events recorded after a guessed head, if the guesses hold; else nothing.

    One statement, so all of it or none. A head that is not the log's any more is refuted
    by the position's uniqueness (the next position is taken), a stream that has moved past
    its expected version by that of (stream_id, version), and one that is behind it by the
    guard that its expected version exists (a new stream, expected at 0, needs none).
    """
    guards = [(stream_id, version) for stream_id, version in expected.items() if version]
    params = [value for r in recorded for value in astuple(r)]
    for pair in guards:
        params.extend(pair)
    try:
        cursor = db.execute(_sqlite_insert_sql(len(recorded), len(guards)), params)
    except sqlite3.IntegrityError:
        return False
    return cursor.rowcount == len(recorded)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


class _SqliteWriter:
    """A SQLite connection of the store's own for appends, and a SQLAlchemy engine over it.

    Projectors take a SQLAlchemy connection: the engine gives one over this very DBAPI
    connection, and as pysqlite's SQLAlchemy dialect sends no BEGIN of its own, the store's
    BEGIN IMMEDIATE is the transaction's.
    """

    def __init__(self, twin: sa.Engine, *pragmas: str) -> None:
        self._pooled = twin.raw_connection()  # configured like every connection of the twin
        self.db: sqlite3.Connection = self._pooled.driver_connection
        for pragma in pragmas:
            self.db.execute(f"PRAGMA {pragma}")
        db = self.db
        self.engine = sa.create_engine("sqlite://", creator=lambda: db, poolclass=StaticPool)

    def close(self) -> None:
        self.engine.dispose()
        self._pooled.invalidate()  # never back in the twin's pool: its settings differ


class _SqliteWriting:
    """How a store appends to a SQLite file: on the event loop when it can, else in a thread.

    The loop's writer never waits for another connection's write lock (busy_timeout 0: it
    gets SQLITE_BUSY, having written nothing, and the append goes to the writer thread,
    whose connection waits). It is used only where a commit doesn't wait for the disk
    either: at synchronous=NORMAL (or OFF) a WAL commit is a write to the OS, tens of
    microseconds, less than a hand-off to a thread; at FULL every commit flushes, so appends
    go to the thread.

    Checkpoints flush too (SQLite runs one in the committing connection once the WAL passes
    1,000 pages), so the loop's writer runs none: after CHECKPOINT_AFTER of its commits the
    next append goes to the thread, which checkpoints after it. Until then every append
    goes there, so the checkpoint completes and the WAL starts again from its beginning.
    """

    CHECKPOINT_AFTER = 500  # commits: about SQLite's own 1,000 pages for small appends

    def __init__(self, twin: sa.Engine) -> None:
        self.here = _SqliteWriter(twin, "busy_timeout=0", "wal_autocheckpoint=0")
        self.thread_writer = _SqliteWriter(twin)
        synchronous = self.here.db.execute("PRAGMA synchronous").fetchone()[0]
        self.on_loop = synchronous <= 1  # OFF or NORMAL
        self.lock = threading.Lock()  # the loop's writer is one connection: one user at a time
        self.commits_here = 0
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="event-store-writer")

    def checkpoint_if_due(self) -> None:
        """In the writer thread: the checkpoint the loop's commits have made due."""
        if self.commits_here >= self.CHECKPOINT_AFTER:
            self.thread_writer.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.commits_here = 0

    def close(self) -> None:
        self.thread.shutdown(wait=False)
        self.here.close()
        self.thread_writer.close()


def _pg_columns(recorded: Sequence[RecordedEvent]) -> list[list[Any]]:
    columns = [list(c) for c in zip(*map(astuple, recorded), strict=True)]
    return columns or [[] for _ in range(9)]


# Errors that mean "the database can't serve this now" (and so a 503), not a bug.
_UNAVAILABLE = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.LockNotAvailableError,
)


class EventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        projectors: Sequence[Projector | AsyncProjector] = (),
        clock: Clock = utc_now,
        lock_timeout_ms: int = 10_000,
    ) -> None:
        self.engine = engine
        self.projectors = tuple(projectors)
        self._any_async_projector = any(map(_is_async, self.projectors))
        self.clock = clock
        self.lock_timeout_ms = lock_timeout_ms
        self._sqlite = is_sqlite(engine)
        self._writer = engine.execution_options(**WRITE)
        # PostgreSQL: SQLAlchemy sends no BEGIN of its own; one-statement reads need none,
        # and write transactions begin (and lock) in one round trip of their own.
        self._autocommit = (
            engine if self._sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._guess: Head | None = None  # the head this store last saw: see _guess_for
        self._twin = sqlite_twin(engine) if self._sqlite else None
        self._writing: _SqliteWriting | None = None  # SQLite files: made when first needed
        self._writing_made = threading.Lock()

    # --- writing --------------------------------------------------------------------------

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A serialised write transaction; `append_in` appends inside it."""
        if self._sqlite:
            async with self._writer.begin() as conn:
                yield conn
            return
        begin = (
            f"BEGIN; SET LOCAL lock_timeout = {int(self.lock_timeout_ms)}; "
            "LOCK TABLE events IN EXCLUSIVE MODE"
        )
        for attempt in (1, 2):
            conn = await self._autocommit.connect()
            try:
                await self._pg(conn, begin)
                break
            except sa.exc.OperationalError:
                # A pooled connection that died unnoticed (nothing was written): try once
                # more on a new one. Anything else (the lock's timeout) is the caller's.
                retry = attempt == 1 and conn.invalidated
                await self._end(conn, "ROLLBACK")
                if not retry:
                    raise
        try:
            yield conn
        except BaseException:
            await self._end(conn, "ROLLBACK")
            raise
        await self._end(conn, "COMMIT")

    async def _end(self, conn: AsyncConnection, command: str) -> None:
        """COMMIT or ROLLBACK a PostgreSQL write transaction and give the connection back."""
        try:
            if not conn.invalidated:
                await self._pg(conn, command)
        except BaseException:
            # Failed, or cancelled half-way: whatever state it is in, it isn't reused.
            if not conn.invalidated:
                await conn.invalidate()
            raise
        finally:
            await conn.close()

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
        if self._twin is None or self._any_async_projector:
            async with self.write_transaction() as conn:
                return await self.append_in(conn, appends, actor=actor, reason=reason)
        writing = self._writing or self._sqlite_writing()
        if (
            writing.on_loop
            and writing.commits_here < writing.CHECKPOINT_AFTER
            and writing.lock.acquire(blocking=False)
        ):
            try:
                recorded = self._append_sqlite(writing.here, appends, actor, reason)
                writing.commits_here += 1
                return recorded
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                # Another connection holds the write lock (nothing was written): wait for it
                # in the writer thread, not here.
            finally:
                writing.lock.release()
        return await asyncio.get_running_loop().run_in_executor(
            writing.thread, self._append_in_thread, writing, appends, actor, reason
        )

    def _append_in_thread(
        self, writing: _SqliteWriting, appends: Sequence[Append], actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        try:
            return self._append_sqlite(writing.thread_writer, appends, actor, reason)
        finally:
            writing.checkpoint_if_due()

    def _sqlite_writing(self) -> _SqliteWriting:
        with self._writing_made:
            if self._writing is None:
                assert self._twin is not None
                self._writing = _SqliteWriting(self._twin)
                weakref.finalize(self, self._writing.close)
            return self._writing

    def _append_sqlite(
        self, writer: _SqliteWriter, appends: Sequence[Append], actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        """An append on one of the store's SQLite writers, guessed first (see the module doc)."""
        db = writer.db
        guess = self._guess_for(appends)
        if guess is not None and not self.projectors:
            # One statement is a transaction of its own: no BEGIN or COMMIT to send.
            recorded = self._record(appends, guess[0], dict(guess[1]), actor, reason)
            if _sqlite_guessed_insert(db, recorded, guess[1]):
                return self._seen(recorded)
            guess = None
        with writer.engine.connect() as conn, conn.begin():
            db.execute("BEGIN IMMEDIATE")
            recorded = None
            if guess is not None:
                recorded = self._record(appends, guess[0], dict(guess[1]), actor, reason)
                if not _sqlite_guessed_insert(db, recorded, guess[1]):
                    recorded = None
            if recorded is None:
                head, versions = _sqlite_head(db, [a.stream_id for a in appends])
                recorded = self._record(appends, head, versions, actor, reason)
                if recorded:
                    _sqlite_insert(db, recorded)
            if recorded:
                for project in self.projectors:
                    cast(Projector, project)(conn, recorded)
        return self._seen(recorded)

    def _guess_for(self, appends: Sequence[Append]) -> tuple[Head, dict[str, int]] | None:
        """The head this store last saw and the versions the caller expects, if both exist
        (and each stream has events to insert: on SQLite only an insert tells a wrong guess)."""
        head = self._guess
        if head is None:
            return None
        expected: dict[str, int] = {}
        events = 0
        for a in appends:
            if not a.events or a.expected_version is None or a.stream_id in expected:
                return None
            expected[a.stream_id] = a.expected_version
            events += len(a.events)
        if self._sqlite and events > _SQLITE_EVENTS_PER_INSERT:
            return None
        return head, expected

    def _seen(self, recorded: list[RecordedEvent]) -> list[RecordedEvent]:
        if recorded:
            self._guess = (recorded[-1].position, recorded[-1].hash, recorded[-1].recorded_at)
        return recorded

    async def append_in(
        self,
        conn: AsyncConnection,
        appends: Sequence[Append],
        *,
        actor: str,
        reason: str | None = None,
    ) -> list[RecordedEvent]:
        """Append inside a write transaction the caller holds (see `write_transaction`)."""
        found = None if self._sqlite else await self._guessed(conn, appends, actor, reason)
        if isinstance(found, list):
            recorded = found
        else:
            head, versions = found or await self._head_in(conn, [a.stream_id for a in appends])
            recorded = self._record(appends, head, versions, actor, reason)
            if recorded:
                await self._insert_in(conn, recorded)
        if recorded:
            self._seen(recorded)
            await self._project(conn, recorded)
        return recorded

    async def _guessed(
        self, conn: AsyncConnection, appends: Sequence[Append], actor: str, reason: str | None
    ) -> list[RecordedEvent] | tuple[Head, dict[str, int]] | None:
        """PostgreSQL: append in one round trip, guessing the head and the versions.

        The guesses are the head this store last appended after and the versions the
        caller expects; the insert checks both under the lock. Returns the events, or the
        head and versions as they are if a guess was wrong (another process appended in
        between, or a version differs), or None where there is nothing to guess from.
        """
        found = self._guess_for(appends)
        if found is None:
            return None
        guess, known = found
        recorded = self._record(appends, guess, dict(known), actor, reason)
        rows = await self._pg(
            conn,
            _PG_GUARDED_INSERT,
            *_pg_columns(recorded),
            list(known),
            list(known.values()),
            guess[0],
            guess[1],
        )
        head, versions = _split(rows)
        if head[:2] != guess[:2] or any(versions.get(i, 0) != v for i, v in known.items()):
            return head, versions
        assert rows[-1][3] == len(recorded)
        return recorded

    def _record(
        self,
        appends: Sequence[Append],
        head: Head,
        versions: dict[str, int],
        actor: str,
        reason: str | None,
    ) -> list[RecordedEvent]:
        """The events as recorded after `head`, once every expected version holds."""
        for a in appends:
            actual = versions.get(a.stream_id, 0)
            if a.expected_version is not None and a.expected_version != actual:
                raise ConcurrencyError(a.stream_id, a.expected_version, actual)
        position, previous, last_instant = head
        # Time never runs backwards in the log, whatever the clocks of several processes say.
        now = utc_now_text() if self.clock is utc_now else format_instant(self.clock())
        recorded_at = max(now, last_instant)
        recorded: list[RecordedEvent] = []
        for a in appends:
            stream_id = a.stream_id
            version = versions.get(stream_id, 0)
            for event in a.events:
                position += 1
                version += 1
                kind, data = model.type_name(event), model.encode(event)
                fields = (position, stream_id, version, kind, data, actor, reason, recorded_at)
                previous = _hash(previous, fields)
                recorded.append(RecordedEvent(*fields, previous))
            versions[stream_id] = version
        return recorded

    async def _head_in(
        self, conn: AsyncConnection, stream_ids: Sequence[str]
    ) -> tuple[Head, dict[str, int]]:
        if self._sqlite:
            return await conn.run_sync(lambda sync: _sqlite_head(sync.connection, stream_ids))
        return _split(await self._pg(conn, _PG_HEAD_AND_VERSIONS, list(stream_ids)))

    async def _insert_in(self, conn: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        if self._sqlite:
            await conn.run_sync(lambda sync: _sqlite_insert(sync.connection, recorded))
        else:
            await self._pg(conn, _PG_INSERT, *_pg_columns(recorded))

    async def _project(self, conn: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        for project in self.projectors:
            if _is_async(project):
                await cast(AsyncProjector, project)(conn, recorded)
            else:
                await conn.run_sync(cast(Projector, project), recorded)

    async def _pg(self, conn: AsyncConnection, sql: str, *args: Any) -> list[Any]:
        """One statement straight on asyncpg, without SQLAlchemy's work per statement.

        Without arguments it goes as a simple query, which may hold several statements.
        Driver errors come out as SQLAlchemy's (a lost connection is invalidated and is an
        OperationalError, which the API answers with 503) like those of any other statement.
        """
        # The pooled connection's own asyncpg connection (get_raw_connection() would cost
        # a greenlet hop per statement).
        raw = conn.sync_connection.connection.driver_connection if conn.sync_connection else None
        assert raw is not None
        try:
            if args:
                return cast(list[Any], await raw.fetch(sql, *args))
            await raw.execute(sql)
            return []
        except (asyncpg.PostgresError, *_UNAVAILABLE) as exc:
            if raw.is_closed():
                await conn.invalidate(exc)
            kind = sa.exc.OperationalError if isinstance(exc, _UNAVAILABLE) else sa.exc.DBAPIError
            raise kind(sql, None, exc, hide_parameters=True) from exc

    async def import_events(self, recorded: Sequence[RecordedEvent]) -> None:
        """Append events exactly as exported (positions, instants, hashes) after the head.

        Each event's hash is checked against the chain, so a doctored file is refused.
        """
        async with self.write_transaction() as conn:
            (expected_position, previous, _), _ = await self._head_in(conn, [])
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
                await self._insert_in(conn, chunk)
                await self._project(conn, chunk)

    # --- reading --------------------------------------------------------------------------

    async def read(
        self, query: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a short synchronous read, `query(conn, ...)`, in one read transaction.

        On SQLite it runs right here on a connection of the synchronous twin: in WAL mode a
        reader never waits for a writer, and a short read costs less than handing it to a
        driver thread. On PostgreSQL each of its statements is one round trip.
        """
        if self._twin is not None:
            return self._read_twin(lambda conn: query(conn, *args, **kwargs))
        async with self._autocommit.connect() as aconn:
            return await aconn.run_sync(query, *args, **kwargs)

    async def read_bulk(
        self, query: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`read` for thousands of rows: on SQLite in a thread, not to hold up the loop."""
        if self._twin is not None:
            return await asyncio.to_thread(
                self._read_twin, lambda conn: query(conn, *args, **kwargs)
            )
        return await self.read(query, *args, **kwargs)

    def _read_twin(self, query: Callable[[sa.Connection], T]) -> T:
        assert self._twin is not None
        with self._twin.connect() as conn:
            return query(conn)

    async def head(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return (await self.read(_read_head))[0]

    async def last_recorded(self) -> tuple[int, str | None]:
        """The head's position and instant (0, None for an empty log)."""
        position, _, instant = await self.read(_read_head)
        return position, instant or None

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
        return await self.read(_read_events, query.order_by(events_table.c.version))

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several streams at once (bulk loads), each in version order."""
        found: dict[str, list[RecordedEvent]] = {}
        for i in range(0, len(stream_ids), 500):
            query = (
                sa.select(*_COLUMNS)
                .where(events_table.c.stream_id.in_(stream_ids[i : i + 500]))
                .order_by(events_table.c.position)
            )
            for event in await self.read_bulk(functools.partial(_read_events, query=query)):
                found.setdefault(event.stream_id, []).append(event)
        return found

    async def read_all(self, after: int = 0, limit: int | None = 1000) -> list[RecordedEvent]:
        """The log in position order, after a position."""
        query = _log_query(after, limit)
        if limit is not None and limit <= 1000:
            return await self.read(_read_events, query)
        return await self.read_bulk(functools.partial(_read_events, query=query))

    async def read_all_in(
        self,
        conn: AsyncConnection,
        after: int = 0,
        limit: int | None = 1000,
    ) -> list[RecordedEvent]:
        return await conn.run_sync(_read_events, _log_query(after, limit))

    async def position_at(self, instant: dt.datetime) -> int:
        """The last position recorded at or before `instant` (0 if none).

        A binary search over positions, as instants never run backwards along them: no
        index on `recorded_at` for every append to keep up.
        """
        query = sa.text(_POSITION_AT).bindparams(instant=format_instant(instant))
        return await self.read(lambda conn: conn.execute(query).scalar() or 0)

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


def _is_async(projector: object) -> bool:
    return inspect.iscoroutinefunction(projector)


def _read_head(conn: sa.Connection) -> Head:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_HEAD_SQL)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return (row[0], row[1], row[2]) if row else _EMPTY


def _read_events(conn: sa.Connection, query: sa.Select[Any]) -> list[RecordedEvent]:
    return [RecordedEvent(*row) for row in conn.execute(query)]


def _log_query(after: int, limit: int | None) -> sa.Select[Any]:
    query = sa.select(*_COLUMNS).where(events_table.c.position > after)
    query = query.order_by(events_table.c.position)
    return query if limit is None else query.limit(limit)
