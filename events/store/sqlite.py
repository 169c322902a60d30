"""The log in a SQLite file: appends on the store's own sqlite3 connections.

SQLite's write lock serialises appends, taken by a one-statement guessed append (see
events.store.backend) or by BEGIN IMMEDIATE. The store's own statements go straight to
sqlite3 connections of its own, not through SQLAlchemy or aiosqlite: SQLAlchemy's work
per statement costs several times SQLite's, and through aiosqlite every statement is a
hand-off to the driver's thread.

An append runs on one of two connections. At synchronous=NORMAL (or OFF) it runs right on
the event loop when no other writer holds the database: a WAL commit is then a write to
the OS, tens of microseconds, less than a hand-off to a thread. Otherwise it runs in the
store's writer thread, which waits for the lock (or the disk) without holding up the loop:
when another connection holds the write lock (the loop's connection waits for none: it
gets SQLITE_BUSY, having written nothing), at synchronous=FULL (every commit flushes), and
when the WAL has grown long (below).

Checkpoints flush too (SQLite runs one in the committing connection once the WAL passes
1,000 pages), so the loop's connection runs none: after CHECKPOINT_AFTER of its commits it
asks the writer thread for one and goes on appending without waiting for it (a PASSIVE
checkpoint copies the frames committed before it and blocks no writer). The WAL starts
again from its beginning only at a write that finds all of it copied, which appends
beside every checkpoint never leave: once a checkpoint finds the WAL past WAL_FRAMES_MAX,
the next append goes to the thread and the thread checkpoints after it with no append
beside it, as every checkpoint did before.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from typing import Any

import msgspec
import sqlalchemy as sa
from msgspec.structs import astuple
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

from events.db import WRITE
from events.store.backend import Backend, Projector
from events.store.records import (
    COLUMNS,
    EMPTY_HEAD,
    Append,
    Head,
    RecordedEvent,
    check_chain,
    expected_versions,
    record,
)

# The log's head (position, hash, instant) and the current version of each stream asked
# about, in one query: the head's row has a position, the streams' rows have none.
_HEAD_AND_VERSIONS = (
    "SELECT * FROM (SELECT position, hash, recorded_at, NULL FROM events "
    "ORDER BY position DESC LIMIT 1) "
    "UNION ALL SELECT NULL, stream_id, NULL, max(version) FROM events "
    "WHERE stream_id IN (SELECT value FROM json_each(?)) GROUP BY stream_id"
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
# The most events one INSERT carries: 9 parameters each, within SQLite's limit of 32,766
# per statement. A guessed append must be one statement: larger ones go the exact way.
EVENTS_PER_INSERT = 1000
_AT_VERSION = "EXISTS (SELECT 1 FROM events WHERE stream_id = ? AND version = ?)"


def _head_and_versions(
    db: sqlite3.Connection, stream_ids: Sequence[str]
) -> tuple[Head, dict[str, int]]:
    head, versions = EMPTY_HEAD, {}
    cursor = db.execute(_HEAD_AND_VERSIONS, (msgspec.json.encode(stream_ids).decode(),))
    for position, text, instant, version in cursor.fetchall():
        if position is not None:
            head = (position, text, instant)
        else:
            versions[text] = version
    return head, versions


@functools.lru_cache(maxsize=256)
def _insert_sql(events: int, guards: int) -> str:
    """A multi-row INSERT (faster than executemany), made only if `guards` versions exist."""
    values = ", ".join([_ROW] * events)
    if not guards:
        return f"INSERT INTO events ({COLUMNS}) VALUES {values}"
    where = " AND ".join([_AT_VERSION] * guards)
    return f"INSERT INTO events ({COLUMNS}) SELECT * FROM (VALUES {values}) WHERE {where}"


def _insert(db: sqlite3.Connection, recorded: Sequence[RecordedEvent]) -> None:
    for i in range(0, len(recorded), EVENTS_PER_INSERT):
        chunk = recorded[i : i + EVENTS_PER_INSERT]
        db.execute(_insert_sql(len(chunk), 0), [value for r in chunk for value in astuple(r)])


def _guessed_insert(
    db: sqlite3.Connection, recorded: Sequence[RecordedEvent], expected: dict[str, int]
) -> bool:
    """Insert the events recorded after a guessed head, if the guesses hold; else nothing.

    One statement, so all of it or none. A head that is not the log's any more is refuted
    by the position's uniqueness (the next position is taken), a stream that has moved past
    its expected version by that of (stream_id, version), and one that is behind it by the
    guard that its expected version exists (a new stream, expected at 0, needs none).
    """
    guards = [(stream_id, version) for stream_id, version in expected.items() if version]
    params: list[Any] = [value for r in recorded for value in astuple(r)]
    for pair in guards:
        params.extend(pair)
    try:
        cursor = db.execute(_insert_sql(len(recorded), len(guards)), params)
    except sqlite3.IntegrityError:
        return False
    return cursor.rowcount == len(recorded)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


class _Connection:
    """A sqlite3 connection of the store's own, and a SQLAlchemy engine over it.

    Projectors take a SQLAlchemy connection: the engine gives one over this very sqlite3
    connection, and as pysqlite's SQLAlchemy dialect sends no BEGIN of its own, the store's
    BEGIN IMMEDIATE is the transaction's.
    """

    def __init__(self, twin: sa.Engine, *pragmas: str) -> None:
        self._pooled = twin.raw_connection()  # configured like every connection of the twin
        driver = self._pooled.driver_connection
        assert isinstance(driver, sqlite3.Connection)  # the twin is pysqlite's
        self.db = driver
        for pragma in pragmas:
            self.db.execute(f"PRAGMA {pragma}")
        db = self.db
        self.engine = sa.create_engine("sqlite://", creator=lambda: db, poolclass=StaticPool)

    def close(self) -> None:
        self.engine.dispose()
        self._pooled.invalidate()  # never back in the twin's pool: its settings differ


class _Writers:
    """The loop's connection and the writer thread with its own (see the module doc)."""

    CHECKPOINT_AFTER = 500  # commits: about SQLite's own 1,000 pages for small appends
    # Past this many frames (8 MB of 4 KB pages) a checkpoint runs with no append beside
    # it, so that the WAL starts again from its beginning (see the module doc).
    WAL_FRAMES_MAX = 2000

    def __init__(self, twin: sa.Engine) -> None:
        self.here = _Connection(twin, "busy_timeout=0", "wal_autocheckpoint=0")
        self.there = _Connection(twin)
        synchronous = self.here.db.execute("PRAGMA synchronous").fetchone()[0]
        self.on_loop = synchronous <= 1  # OFF or NORMAL
        self.lock = threading.Lock()  # the loop's connection: one user at a time
        self.commits_here = 0  # under `lock`: the loop's commits since it asked for a checkpoint
        self.checkpointing: Future[None] | None = None  # the last checkpoint asked for
        # Set in the writer thread when a checkpoint left a WAL longer than WAL_FRAMES_MAX;
        # until the thread has run one more, appends go there.
        self.wal_too_long = False
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="event-store-writer")

    def may_append_here(self) -> bool:
        return self.on_loop and not self.wal_too_long

    def committed_here(self) -> None:
        """On the loop, after a commit: once CHECKPOINT_AFTER are due, a checkpoint in the
        thread, not waited for (it flushes the WAL, then the database)."""
        self.commits_here += 1
        if self.commits_here >= self.CHECKPOINT_AFTER and (
            self.checkpointing is None or self.checkpointing.done()
        ):
            self.commits_here = 0
            self.checkpointing = self.thread.submit(self._checkpoint_beside_appends)

    def _checkpoint_beside_appends(self) -> None:
        # PASSIVE: the loop's appends go on meanwhile; it copies the frames before them.
        _, frames, _ = self.there.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.wal_too_long = frames > self.WAL_FRAMES_MAX

    def checkpoint_if_due(self) -> None:
        """In the writer thread, after an append: the checkpoint a long WAL waits for.

        With every append waiting in the thread it copies the whole WAL (unless a reader
        holds on to part of it: then the next scheduled one tries again), so the next write
        starts it again from its beginning."""
        if self.wal_too_long:
            self.there.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.wal_too_long = False

    def close(self, wait: bool = False) -> None:
        # The thread closes its connection after its last work: a checkpoint may still be
        # running on it (closing it from here then crashes the process). Without waiting
        # when the garbage collector closes it: that may be in the thread.
        self.thread.submit(self.there.close)
        self.thread.shutdown(wait=wait)
        self.here.close()


class SqliteBackend(Backend):
    def __init__(
        self,
        engine: AsyncEngine,
        twin: sa.Engine | None,
        projectors: Sequence[Projector],
        now: Callable[[], str],
    ) -> None:
        if twin is None:
            raise ValueError("the event store needs a SQLite file made by events.db.create_engine")
        super().__init__(projectors, now)
        self._twin = twin
        self._write_engine = engine.execution_options(**WRITE)
        self._writers: _Writers | None = None  # made when first needed
        self._writers_made = threading.Lock()
        self._closing: weakref.finalize[[], SqliteBackend] | None = None

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._write_engine.begin()  # BEGIN IMMEDIATE: see events.db

    async def append(
        self, appends: Sequence[Append], *, actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        writers = self._writers or self._make_writers()
        if writers.may_append_here() and writers.lock.acquire(blocking=False):
            try:
                recorded = self._append(writers.here, appends, actor, reason)
                writers.committed_here()
                return recorded
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                # Another connection holds the write lock (nothing was written): wait for it
                # in the writer thread, not here.
            finally:
                writers.lock.release()
        return await asyncio.get_running_loop().run_in_executor(
            writers.thread, self._append_in_thread, writers, appends, actor, reason
        )

    def _append_in_thread(
        self, writers: _Writers, appends: Sequence[Append], actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        try:
            return self._append(writers.there, appends, actor, reason)
        finally:
            writers.checkpoint_if_due()

    def _append(
        self, connection: _Connection, appends: Sequence[Append], actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        """The guessed way first, then the exact way (see events.store.backend)."""
        db = connection.db
        guess = self.guess
        expected = expected_versions(appends) if guess is not None else None
        if expected is not None and sum(len(a.events) for a in appends) > EVENTS_PER_INSERT:
            expected = None  # more than one statement's worth
        if expected is not None and not self.projectors:
            # One statement is a transaction of its own: no BEGIN or COMMIT to send.
            assert guess is not None
            recorded = record(
                appends, guess, dict(expected), actor=actor, reason=reason, now=self.now()
            )
            if _guessed_insert(db, recorded, expected):
                return self.seen(recorded)
            expected = None
        with connection.engine.connect() as conn, conn.begin():
            db.execute("BEGIN IMMEDIATE")
            found: list[RecordedEvent] | None = None
            if expected is not None:
                assert guess is not None
                found = record(
                    appends, guess, dict(expected), actor=actor, reason=reason, now=self.now()
                )
                if not _guessed_insert(db, found, expected):
                    found = None
            if found is not None:
                recorded = found
            else:
                head, versions = _head_and_versions(db, [a.stream_id for a in appends])
                recorded = record(
                    appends, head, versions, actor=actor, reason=reason, now=self.now()
                )
                if recorded:
                    _insert(db, recorded)
            if recorded:
                for project in self.projectors:
                    project(conn, recorded)
        return self.seen(recorded)

    async def import_events(self, recorded: Sequence[RecordedEvent]) -> None:
        writers = self._writers or self._make_writers()
        await asyncio.get_running_loop().run_in_executor(
            writers.thread, self._import, writers.there, recorded
        )

    def _import(self, connection: _Connection, recorded: Sequence[RecordedEvent]) -> None:
        db = connection.db
        with connection.engine.connect() as conn, conn.begin():
            db.execute("BEGIN IMMEDIATE")
            check_chain(_head_and_versions(db, [])[0], recorded)
            for i in range(0, len(recorded), EVENTS_PER_INSERT):
                chunk = recorded[i : i + EVENTS_PER_INSERT]
                _insert(db, chunk)
                for project in self.projectors:
                    project(conn, chunk)

    def _make_writers(self) -> _Writers:
        with self._writers_made:
            if self._writers is None:
                self._writers = _Writers(self._twin)
                self._closing = weakref.finalize(self, self._writers.close)
            return self._writers

    async def close(self) -> None:
        with self._writers_made:
            writers, self._writers = self._writers, None
            if self._closing is not None:
                self._closing.detach()
        if writers is not None:
            await asyncio.to_thread(writers.close, True)  # after the thread's last append
