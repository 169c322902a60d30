"""The log in PostgreSQL: an append is one statement, with the lock held only while the
server runs it.

Every writer (append, import, a projection's rebuild) first takes one transaction-scoped
advisory lock, LOCK_KEY: under it the head and the streams' versions are read and the next
events written, so positions are gapless and commit in order (events.store.backend).

An append goes one of two ways:

- **In one statement**, the usual case (a guess of the head, and each append expecting a
  version, see events.store.backend): the projectors run first, their reads now (before
  the lock: what they read is of the appended streams, which the guess pins) and their
  writes kept. Then one call of `events_append` (migration 0009) takes the lock, checks
  the guess, inserts the events and runs the kept writes, and commits as it returns. The
  lock is held only while the server runs it: never while this process's event loop is
  busy with other requests, which is what kept it held 19 ms per write (and writes queued
  0.5 s) when each statement of an append waited for the loop. A wrong guess (another
  process appended) makes it raise, saying what it found, so the next try is exact.
  Appends made while one is on its way wait for it and then go together in the next
  statement, as one transaction: one at a time per process, so a process's appends never
  refute each other's guesses; one that expected a stale version fails alone.
- **Exact**: BEGIN and the lock, the head and versions read, the insert, the projectors,
  COMMIT (appends that expect no version, imports, appends from a second event loop while
  one is busy, and a batch refused ATTEMPTS times running).

Statements go to asyncpg directly, without SQLAlchemy's work per statement; projectors
run on SQLAlchemy's connection over the same asyncpg connection.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
import msgspec
import sqlalchemy as sa
from msgspec.structs import astuple
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.store.backend import Backend, Projector
from events.store.records import (
    COLUMNS,
    EMPTY_HEAD,
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
# election holds "timeline", service/jobs/election.py). A table lock cannot be taken
# inside `events_append` as early as it must be: LOCK TABLE is refused in a function
# called outside a transaction block.
LOCK_KEY = int.from_bytes(b"eventlog", "big")
MAX_BATCH = 100  # appends in one statement
# Tries of one statement before the exact way, which holds the lock for round trips: each
# refusal says the head as it was, so the next try fails only if another process
# appended again meanwhile.
ATTEMPTS = 10

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

# An append and its projections' writes, in one statement (migration 0009).
_APPEND = (
    "SELECT events_append($1::bigint, $2::integer, $3::bigint, $4::text, $5::text[], "
    "$6::integer[], $7::bigint[], $8::text[], $9::integer[], $10::text[], $11::text[], "
    "$12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])"
)
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
)
# A kept write is compiled as psycopg's (named placeholders, each with its type's cast), and
# each placeholder then made to read its row: `(r->>'name')::TYPE`.
_NAMED: sa.Dialect = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s(::\w+)?")
_INSERT_VALUES = re.compile(r"(INSERT INTO \S+ \([^)]*\)) VALUES \((.*)\)", re.DOTALL)
_ROWS = "json_array_elements($1) AS r"
_rows_encoder = msgspec.json.Encoder()


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
    """A projector's connection on the one-statement path: it reads now, and its writes
    (INSERT, UPDATE, DELETE) are kept for `events_append`. Projectors use no result of
    their writes."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self.writes: list[tuple[str, str]] = []

    def execute(self, statement: sa.Executable, parameters: Any = None) -> Any:
        if isinstance(statement, sa.Insert | sa.Update | sa.Delete):
            # Encoded now: a projector may reuse its lists of rows once it has written them.
            self.writes.append(_kept(statement, parameters))
            return None
        return self._conn.execute(statement, parameters)


@functools.lru_cache(maxsize=256)
def _compiled(statement: sa.Executable, keys: tuple[str, ...]) -> sa.sql.compiler.SQLCompiler:
    clause = cast(sa.ClauseElement, statement)
    compiled = clause.compile(dialect=_NAMED, column_keys=list(keys) or None)
    return cast(sa.sql.compiler.SQLCompiler, compiled)


@functools.lru_cache(maxsize=256)
def _reading_rows(statement: sa.Executable, keys: tuple[str, ...]) -> str:
    """A write's SQL for `events_append`: the statement once, over every row of `$1`.

    Written here, not by SQLAlchemy, which has no form of a statement over a JSON array of
    rows; only the shapes the projectors' statements compile to are accepted."""
    compiled = _compiled(statement, keys)

    def reading(placeholder: re.Match[str]) -> str:
        name, cast_to = placeholder[1], placeholder[2]
        if not cast_to:  # psycopg's dialect leaves some (booleans) to the driver
            cast_to = "::" + compiled.binds[name].type.compile(dialect=_NAMED)
        return f"(r->>'{name}'){cast_to}"

    sql = _PLACEHOLDER.sub(reading, compiled.string).replace("%%", "%")
    if isinstance(statement, sa.Insert):
        shape = _INSERT_VALUES.fullmatch(sql)
        if shape is None:
            raise TypeError(f"a projector's INSERT of an unexpected form: {sql}")
        return f"{shape[1]} SELECT {shape[2]} FROM {_ROWS}"
    joined = " USING " if isinstance(statement, sa.Delete) else " FROM "
    before, where, condition = sql.partition(" WHERE ")
    if " FROM " in before or " USING " in before or " RETURNING " in sql:
        raise TypeError(f"a projector's write of an unexpected form: {sql}")
    return f"{before}{joined}{_ROWS}{where}{condition}"


def _kept(statement: sa.Executable, parameters: Any) -> tuple[str, str]:
    """A kept write as `events_append` runs it: its SQL, and its rows as a JSON array."""
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    keys = tuple(rows[0])
    values = [_compiled(statement, keys).construct_params(row) for row in rows]
    return _reading_rows(statement, keys), _rows_encoder.encode(values).decode()


class _Refused(Exception):
    """The guess did not hold: the head and the versions as the database found them."""

    def __init__(self, head: Head, versions: dict[str, int]) -> None:
        self.head = head
        self.versions = versions


@dataclass(eq=False)  # each request is itself: compared by identity
class _Request:
    """One caller's append, waiting to go in a statement."""

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
        self._lock_timeout_ms = int(lock_timeout_ms)
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

    # --- the one-statement way ----------------------------------------------------------

    async def append(
        self, appends: Sequence[Append], *, actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        expected = expected_versions(appends)
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
        if self.guess is None:  # a process's first append: the head as it is now
            async with self._autocommit.connect() as conn:
                self.guess = _split(await _run(conn, _HEAD_AND_VERSIONS, []))[0]
        for _attempt in range(ATTEMPTS):
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
        # Refuted every time (other processes appending as fast as this one, for long):
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

    async def _kept_writes(
        self, conn: AsyncConnection, recorded: list[RecordedEvent]
    ) -> list[tuple[str, str]]:
        """The projectors' writes for `recorded` as `events_append` runs them, their reads
        made now."""
        if not self.projectors:
            return []

        def project(sync: sa.Connection) -> list[tuple[str, str]]:
            deferred = _DeferredWrites(sync)
            for projector in self.projectors:
                projector(cast(sa.Connection, deferred), recorded)
            return deferred.writes

        return await conn.run_sync(project)

    async def _send(self, batch: list[_Request], recorded: list[RecordedEvent], head: Head) -> None:
        """One statement: `events_append`, with the events and the projectors' writes."""
        expected = {s: v for request in batch for s, v in request.expected.items()}
        for attempt in (1, 2):
            conn = await self._autocommit.connect()
            try:
                writes = await self._kept_writes(conn, recorded)
                await _run(
                    conn,
                    _APPEND,
                    LOCK_KEY,
                    self._lock_timeout_ms,
                    head[0],
                    head[1],
                    list(expected),
                    list(expected.values()),
                    *_columns(recorded),
                    [sql for sql, _ in writes],
                    [rows for _, rows in writes],
                )
                return
            except sa.exc.DBAPIError as exc:
                found = exc.orig
                sqlstate, detail = getattr(found, "sqlstate", None), getattr(found, "detail", None)
                if sqlstate == _REFUSED and detail:
                    raise _refusal(detail) from None
                if sqlstate == _TAKEN and getattr(found, "constraint_name", None) in _LOG_KEYS:
                    # A writer that takes no lock of ours (a process of an older release,
                    # during an upgrade) got there first: refused, without a word of why.
                    now = await _run(conn, _HEAD_AND_VERSIONS, list(expected))
                    raise _Refused(*_split(now)) from None
                # A pooled connection that died unnoticed got nothing: once more.
                if not (attempt == 1 and conn.invalidated):
                    raise
            finally:
                await conn.close()

    async def close(self) -> None:
        pass  # nothing of its own: its connections are the engine's


def _refusal(detail: str) -> _Refused:
    found = msgspec.json.decode(detail)
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
