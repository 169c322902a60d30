"""The log in PostgreSQL: appends under an EXCLUSIVE lock, straight on asyncpg.

An append is one transaction: BEGIN, SET LOCAL lock_timeout and LOCK TABLE in one round
trip, then (with a guess, see events.store.backend) one guarded INSERT that answers with
the head and versions it checked, or (without one, or after a wrong guess) the head and
versions read and the INSERT sent; the projectors; COMMIT. The store's own statements go
to asyncpg directly, without SQLAlchemy's work per statement; projectors run on
SQLAlchemy's connection over the same asyncpg connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from msgspec.structs import astuple
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.store.backend import Backend, Projector
from events.store.records import (
    COLUMNS,
    EMPTY_HEAD,
    GENESIS_HASH,
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
# The same insert, made only if the log's head is the one guessed ($12, $13) and each
# stream ($10) at its expected version ($11); it answers like _HEAD_AND_VERSIONS (as
# things were before it), plus a row of how many events it inserted.
_GUARDED_INSERT = f"""
WITH head AS (
    SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1
), current AS (
    SELECT stream_id, max(version) AS version FROM events
    WHERE stream_id = ANY($10::text[]) GROUP BY stream_id
), inserted AS (
    INSERT INTO events ({COLUMNS}) {_UNNEST}
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

# Errors that mean "the database can't serve this now" (and so a 503), not a bug.
_UNAVAILABLE = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.LockNotAvailableError,
)


def _split(rows: Sequence[Sequence[Any]]) -> tuple[Head, dict[str, int]]:
    """The head and the versions out of _HEAD_AND_VERSIONS' (or _GUARDED_INSERT's) rows."""
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


async def _run(conn: AsyncConnection, sql: str, *args: Any) -> list[Any]:
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
            "LOCK TABLE events IN EXCLUSIVE MODE"
        )

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

    async def append(
        self, appends: Sequence[Append], *, actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        async with self._locked() as conn:
            guess = self.guess
            expected = expected_versions(appends) if guess is not None else None
            if expected is None:
                stream_ids = [a.stream_id for a in appends]
                head, versions = _split(await _run(conn, _HEAD_AND_VERSIONS, stream_ids))
            else:
                assert guess is not None
                recorded = record(
                    appends, guess, dict(expected), actor=actor, reason=reason, now=self.now()
                )
                rows = await _run(
                    conn,
                    _GUARDED_INSERT,
                    *_columns(recorded),
                    list(expected),
                    list(expected.values()),
                    guess[0],
                    guess[1],
                )
                head, versions = _split(rows)
                held = head[:2] == guess[:2] and all(
                    versions.get(stream_id, 0) == v for stream_id, v in expected.items()
                )
                if held:
                    assert rows[-1][3] == len(recorded)
                    await self._project(conn, recorded)
                    return self.seen(recorded)
            # The exact way, with the head and versions as they are.
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

    async def close(self) -> None:
        pass  # nothing of its own: its connections are the engine's


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
