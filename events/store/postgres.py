"""The log in PostgreSQL: appends pipelined in one round trip, with the lock held only
while the server runs them.

Every writer (append, import, a projection's rebuild) first takes one transaction-scoped
advisory lock, LOCK_KEY: under it the head and the streams' versions are read and the next
events written, so positions are gapless and commit in order (events.store.backend).

An append goes one of two ways:

- **Pipelined**, the usual case (a guess of the head, and each append expecting a version,
  see events.store.backend): the projectors run first, their reads now (before the lock:
  what they read is of the appended streams, which the guard below pins) and their writes
  kept. Then one pipeline on the backend's own psycopg connection sends the lock, the
  guarded insert and the kept writes, and one Sync, which commits them as one implicit
  transaction. The client sends all of it at once and waits once, so the lock is held
  only while the server runs the statements, never while this process's event loop is
  busy with other requests (which is what kept it held 19 ms, and writes queued 0.5 s,
  when each statement waited for the loop). A wrong guess (another process appended)
  makes the insert raise through `events_refuse_append` (migration 0009), which skips and
  rolls back what follows and says what it found, so the next try is exact.
  Appends made while a pipeline is in flight wait for it and then go together in the next
  one, as one transaction: one pipeline at a time per process, so a process's appends
  never refute each other's guesses.
- **Exact**, on SQLAlchemy's asyncpg connection: BEGIN and the lock, the head and versions
  read, the insert, the projectors, COMMIT (appends that expect no version, the first
  append a process makes, imports, appends from a second event loop while one is busy).

Psycopg for the pipeline because asyncpg has no way to send different statements without
waiting for each; asyncpg stays for everything else (reads, the exact way, rebuilds).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import psycopg
import psycopg.errors
import sqlalchemy as sa
from msgspec.structs import astuple
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from events.db import postgres_timeouts
from events.store.backend import Backend, Projector
from events.store.records import (
    COLUMNS,
    EMPTY_HEAD,
    GENESIS_HASH,
    Append,
    ConcurrencyError,
    Head,
    RecordedEvent,
    check_chain,
    expected_versions,
    head_of,
    record,
)

# The advisory lock every writer takes ("eventlog" as a 64-bit integer; the scheduler's
# election holds "timeline", service/jobs/election.py). LOCK TABLE cannot serve the
# pipeline: it needs an explicit transaction block, whose failure would hold the lock
# until a ROLLBACK one more round trip later.
LOCK_KEY = int.from_bytes(b"eventlog", "big")
MAX_BATCH = 100  # appends in one pipelined transaction

# The log's head (position, hash, instant) and the current version of each stream asked
# about, in one query: the head's row has a position, the streams' rows have none.
_HEAD_AND_VERSIONS = (
    "(SELECT position, hash, recorded_at, NULL::integer FROM events "
    "ORDER BY position DESC LIMIT 1) "
    "UNION ALL SELECT NULL, stream_id, NULL, max(version) FROM events "
    "WHERE stream_id = ANY($1::text[]) GROUP BY stream_id"
)
# One statement and one round trip for any number of events.
_UNNEST = (
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::text[], "
    "$6::text[], $7::text[], $8::text[], $9::text[])"
)
_INSERT = f"INSERT INTO events ({COLUMNS}) {_UNNEST}"

# The pipelined insert (psycopg's placeholders): made only if the log's head is the one
# guessed and each stream at its expected version; otherwise it raises, saying what it
# found (a JSON object of the head and the versions).
_PIPELINED_LOCK = f"SELECT pg_advisory_xact_lock({LOCK_KEY})"
_GUARDED_INSERT = f"""
WITH head AS (
    SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1
), current AS (
    SELECT stream_id, max(version) AS version FROM events
    WHERE stream_id = ANY(%(streams)s::text[]) GROUP BY stream_id
), guess AS (
    SELECT coalesce((SELECT position FROM head), 0) = %(head_position)s::bigint
    AND coalesce((SELECT hash FROM head), '{GENESIS_HASH}') = %(head_hash)s::text
    AND NOT EXISTS (
        SELECT FROM unnest(%(streams)s::text[], %(expected)s::integer[]) AS e (stream_id, version)
        LEFT JOIN current AS c USING (stream_id) WHERE coalesce(c.version, 0) <> e.version
    ) AS holds
)
INSERT INTO events ({COLUMNS})
SELECT * FROM unnest(%(position)s::bigint[], %(stream_id)s::text[], %(version)s::integer[],
    %(type)s::text[], %(data)s::text[], %(actor)s::text[], %(reason)s::text[],
    %(recorded_at)s::text[], %(hash)s::text[])
WHERE CASE WHEN (SELECT holds FROM guess) THEN true ELSE events_refuse_append(json_build_object(
    'head', (SELECT json_build_array(position, hash, recorded_at) FROM head),
    'versions', (SELECT json_object_agg(stream_id, version) FROM current))::text) END
"""
_REFUSED = "40001"  # serialization_failure, as events_refuse_append raises it
_TAKEN = "23505"  # unique_violation
_LOG_KEYS = ("events_pkey", "uq_events_stream_version")

# Errors that mean "the database can't serve this now" (and so a 503), not a bug.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.LockNotAvailableError,
    psycopg.OperationalError,  # lost connections, lock and statement timeouts, shutdowns
)
_PSYCOPG: sa.Dialect = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]


def _split(rows: Sequence[Sequence[Any]]) -> tuple[Head, dict[str, int]]:
    """The head and the versions out of _HEAD_AND_VERSIONS' rows."""
    head, versions = EMPTY_HEAD, {}
    for position, text, instant, version in rows:
        if position is not None:
            head = (position, text, instant)
        elif text is not None:
            versions[text] = version
    return head, versions


def _columns(recorded: Sequence[RecordedEvent]) -> list[list[Any]]:
    columns = [list(c) for c in zip(*map(astuple, recorded), strict=True)]
    return columns or [[] for _ in range(9)]


def _driver_error(sql: str, exc: BaseException) -> sa.exc.DBAPIError:
    """A driver's error as SQLAlchemy's, as every other statement's comes out: the API
    answers an OperationalError (and a read-only database) with 503."""
    kind = sa.exc.OperationalError if isinstance(exc, _UNAVAILABLE) else sa.exc.DBAPIError
    return kind(sql, None, cast(Exception, exc), hide_parameters=True)


async def _run(conn: AsyncConnection, sql: str, *args: Any) -> list[Any]:
    """One statement straight on asyncpg, without SQLAlchemy's work per statement.

    Without arguments it goes as a simple query, which may hold several statements.
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
        raise _driver_error(sql, exc) from exc


class _DeferredWrites:
    """A projector's connection on the pipelined path: it reads now, and its writes are kept
    for the pipeline. Projectors read with SELECTs and use no result of their writes."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self.writes: list[tuple[sa.Executable, Any]] = []

    def execute(self, statement: sa.Executable, parameters: Any = None) -> Any:
        if isinstance(statement, sa.Select):
            return self._conn.execute(statement, parameters)
        self.writes.append((statement, parameters))
        return None


@functools.lru_cache(maxsize=256)
def _compiled(statement: sa.Executable, keys: tuple[str, ...]) -> sa.engine.Compiled:
    compiled = cast(sa.ClauseElement, statement).compile(
        dialect=_PSYCOPG, column_keys=list(keys) or None
    )
    return compiled


def _for_psycopg(statement: sa.Executable, parameters: Any) -> tuple[str, list[dict[str, Any]]]:
    """A kept write as psycopg's SQL and one dict of values per row."""
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    compiled = _compiled(statement, tuple(rows[0]))
    return compiled.string, [dict(compiled.construct_params(row) or {}) for row in rows]


class _Refused(Exception):
    """The guess did not hold: the head and the versions as the database found them."""

    def __init__(self, head: Head, versions: dict[str, int]) -> None:
        self.head = head
        self.versions = versions


@dataclass
class _Request:
    """One caller's append, waiting to go in a pipeline."""

    appends: Sequence[Append]
    expected: dict[str, int]
    actor: str
    reason: str | None
    done: asyncio.Future[list[RecordedEvent]]
    recorded: list[RecordedEvent] = field(default_factory=list)

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


class PostgresBackend(Backend):
    def __init__(
        self,
        engine: AsyncEngine,
        projectors: Sequence[Projector],
        now: Callable[[], str],
        lock_timeout_ms: int,
    ) -> None:
        super().__init__(projectors, now)
        # SQLAlchemy sends no BEGIN of its own: a write transaction begins (and locks) in
        # one round trip of its own.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._begin = (
            f"BEGIN; SET LOCAL lock_timeout = {int(lock_timeout_ms)}; "
            f"SELECT pg_advisory_xact_lock({LOCK_KEY})"
        )
        connect_timeout, self._statement_timeout = postgres_timeouts(engine)
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connect_options: dict[str, Any] = {
            "autocommit": True,
            "options": f"-c lock_timeout={int(lock_timeout_ms)}",
            # Not prepared: a statement psycopg prepares in a pipeline that is then refused
            # is never made, yet psycopg would take it as made ("prepared statement does
            # not exist" on its next use).
            "prepare_threshold": None,
        }
        if connect_timeout is not None:
            self._connect_options["connect_timeout"] = max(1, round(connect_timeout))
        # Like the engine's pool: kept between appends, or (NullPool) one per burst.
        self._keep_connection = not isinstance(engine.pool, NullPool)
        self._writer: psycopg.AsyncConnection[Any] | None = None
        self._queue: list[_Request] = []
        self._flushing: asyncio.Task[None] | None = None

    # --- the exact way, and transactions holding the lock ------------------------------

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return self._locked()

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[AsyncConnection]:
        for attempt in (1, 2):
            conn = await self._autocommit.connect()
            try:
                await _run(conn, self._begin)
                break
            except sa.exc.OperationalError:
                # A pooled connection that died unnoticed (nothing was written): try once
                # more on a new one. Anything else (the lock's timeout) is the caller's.
                retry = attempt == 1 and conn.invalidated
                await _end(conn, "ROLLBACK")
                if not retry:
                    raise
        try:
            yield conn
        except BaseException:
            await _end(conn, "ROLLBACK")
            raise
        await _end(conn, "COMMIT")

    async def _append_exactly(
        self, appends: Sequence[Append], *, actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        async with self._locked() as conn:
            stream_ids = [a.stream_id for a in appends]
            head, versions = _split(await _run(conn, _HEAD_AND_VERSIONS, stream_ids))
            recorded = record(appends, head, versions, actor=actor, reason=reason, now=self.now())
            if recorded:
                await _run(conn, _INSERT, *_columns(recorded))
                await self._project(conn, recorded)
        return self.seen(recorded)

    async def _project(self, conn: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        for project in self.projectors:
            await conn.run_sync(project, recorded)

    async def import_events(self, recorded: Sequence[RecordedEvent]) -> None:
        async with self._locked() as conn:
            check_chain(_split(await _run(conn, _HEAD_AND_VERSIONS, []))[0], recorded)
            for i in range(0, len(recorded), 1000):
                chunk = recorded[i : i + 1000]
                await _run(conn, _INSERT, *_columns(chunk))
                await self._project(conn, chunk)
        if recorded:
            self.seen(list(recorded))

    # --- the pipelined way ----------------------------------------------------------

    async def append(
        self, appends: Sequence[Append], *, actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        expected = expected_versions(appends) if self.guess is not None else None
        loop = asyncio.get_running_loop()
        busy_elsewhere = self._flushing is not None and self._flushing.get_loop() is not loop
        if expected is None or busy_elsewhere:
            return await self._append_exactly(appends, actor=actor, reason=reason)
        request = _Request(appends, expected, actor, reason, loop.create_future())
        self._queue.append(request)
        if self._flushing is None:
            self._flushing = loop.create_task(self._flush())
        return await request.done

    async def _flush(self) -> None:
        """Write what is queued, a batch at a time, until nothing is."""
        try:
            while self._queue:
                batch = self._take_batch()
                try:
                    await self._write_batch(batch)
                except BaseException as exc:
                    for request in batch:
                        request.fail(exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._flushing = None
            for request in self._queue:  # only if cancelled: the loop is going away
                request.fail(ConnectionError("the append was not made"))
            self._queue.clear()
            if not self._keep_connection:
                await self._close_writer()

    def _take_batch(self) -> list[_Request]:
        """The queued appends that can go together: in order, each stream in one only."""
        batch: list[_Request] = []
        streams: set[str] = set()
        for request in self._queue:
            if len(batch) == MAX_BATCH:
                break
            if streams.isdisjoint(request.expected):
                batch.append(request)
            streams.update(request.expected)  # a later append to a stream waits its turn
        self._queue = [r for r in self._queue if r not in batch]
        return batch

    async def _write_batch(self, batch: list[_Request]) -> None:
        for _attempt in range(3):
            assert self.guess is not None
            recorded = self._record(batch, self.guess)
            try:
                await self._send(batch, recorded, self.guess)
            except _Refused as refused:
                self.guess = refused.head
                batch = self._still_possible(batch, refused.versions)
                if not batch:
                    return
                continue
            except Exception:
                if len(batch) == 1:
                    raise
                for request in batch:  # whose append it was: each alone
                    await self._write_alone(request)
                return
            for request in batch:
                if not request.done.done():
                    request.done.set_result(request.recorded)
            self.seen(recorded)
            return
        # Refuted three times running (other processes appending as fast as this one):
        # the exact way, under the lock from the start.
        for request in batch:
            await self._write_alone(request)

    async def _write_alone(self, request: _Request) -> None:
        try:
            appended = await self._append_exactly(
                request.appends, actor=request.actor, reason=request.reason
            )
        except Exception as exc:
            request.fail(exc)
        else:
            if not request.done.done():
                request.done.set_result(appended)

    def _record(self, batch: list[_Request], head: Head) -> list[RecordedEvent]:
        now = self.now()
        recorded: list[RecordedEvent] = []
        for request in batch:
            request.recorded = record(
                request.appends,
                head,
                dict(request.expected),
                actor=request.actor,
                reason=request.reason,
                now=now,
            )
            head = head_of(request.recorded)
            recorded.extend(request.recorded)
        return recorded

    @staticmethod
    def _still_possible(batch: list[_Request], versions: dict[str, int]) -> list[_Request]:
        """The appends that can still be made; the others fail as a version conflict."""
        possible = []
        for request in batch:
            conflicts = [
                (stream_id, expected, versions.get(stream_id, 0))
                for stream_id, expected in request.expected.items()
                if versions.get(stream_id, 0) != expected
            ]
            if conflicts:
                request.fail(ConcurrencyError(*conflicts[0]))
            else:
                possible.append(request)
        return possible

    async def _kept_writes(self, recorded: list[RecordedEvent]) -> list[tuple[sa.Executable, Any]]:
        """The projectors' writes for `recorded`, their reads made now."""
        if not self.projectors:
            return []

        def project(conn: sa.Connection) -> list[tuple[sa.Executable, Any]]:
            deferred = _DeferredWrites(conn)
            for projector in self.projectors:
                projector(cast(sa.Connection, deferred), recorded)
            return deferred.writes

        async with self._autocommit.connect() as conn:
            return await conn.run_sync(project)

    async def _send(self, batch: list[_Request], recorded: list[RecordedEvent], head: Head) -> None:
        """One pipeline: the lock, the guarded insert, the projectors' writes, one Sync."""
        writes = [_for_psycopg(*w) for w in await self._kept_writes(recorded)]
        expected = {s: v for request in batch for s, v in request.expected.items()}
        columns = dict(zip(RecordedEvent.__struct_fields__, _columns(recorded), strict=True))
        guarded = {
            **columns,
            "streams": list(expected),
            "expected": list(expected.values()),
            "head_position": head[0],
            "head_hash": head[1],
        }
        for attempt in (1, 2):
            reused = self._writer is not None
            conn = await self._connection()
            try:
                async with asyncio.timeout(self._statement_timeout):
                    async with conn.pipeline():
                        await conn.execute(_PIPELINED_LOCK)
                        await conn.execute(_GUARDED_INSERT, guarded)
                        cursor = conn.cursor()
                        for sql, rows in writes:
                            if len(rows) == 1:
                                await cursor.execute(sql, rows[0])
                            else:
                                await cursor.executemany(sql, rows)
                return
            except psycopg.Error as exc:
                if exc.sqlstate == _REFUSED and exc.diag.message_detail:
                    raise _refusal(exc.diag.message_detail) from None
                if exc.sqlstate == _TAKEN and exc.diag.constraint_name in _LOG_KEYS:
                    # A writer that takes no lock of ours (a process of an older release,
                    # during an upgrade) got there first: refused, without a word of why.
                    raise _Refused(*await self._found(list(expected))) from None
                broken = conn.broken or conn.closed
                if broken:
                    await self._close_writer()
                # A kept connection the server closed while idle got nothing: once more.
                if not (broken and reused and attempt == 1):
                    raise _driver_error(_GUARDED_INSERT, exc) from exc
            except (TimeoutError, asyncio.CancelledError) as exc:
                # Cut off half-way: whatever state the connection is in, it isn't reused.
                await self._close_writer()
                if isinstance(exc, asyncio.CancelledError):
                    raise
                raise _driver_error(_GUARDED_INSERT, exc) from exc

    async def _found(self, stream_ids: list[str]) -> tuple[Head, dict[str, int]]:
        async with self._autocommit.connect() as conn:
            return _split(await _run(conn, _HEAD_AND_VERSIONS, stream_ids))

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._writer is None or self._writer.closed:
            try:
                async with asyncio.timeout(self._statement_timeout):
                    self._writer = await psycopg.AsyncConnection.connect(
                        self._conninfo, **self._connect_options
                    )
            except (psycopg.Error, OSError, TimeoutError) as exc:
                raise _driver_error("connect", exc) from exc
        return self._writer

    async def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None and not writer.closed:
            await writer.close()

    async def close(self) -> None:
        # The engine's connections are its owner's; the pipeline's own one is closed here.
        await self._close_writer()


def _refusal(detail: str) -> _Refused:
    found = json.loads(detail)
    head = tuple(found["head"]) if found["head"] else EMPTY_HEAD
    return _Refused(cast(Head, head), found["versions"] or {})


async def _end(conn: AsyncConnection, command: str) -> None:
    """COMMIT or ROLLBACK a write transaction and give the connection back."""
    try:
        if not conn.invalidated:
            await _run(conn, command)
    except BaseException:
        # Failed, or cancelled half-way: whatever state it is in, it isn't reused.
        if not conn.invalidated:
            await conn.invalidate()
        raise
    finally:
        await conn.close()
