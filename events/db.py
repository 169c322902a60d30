"""Engines for the two supported databases, with the settings each needs for the store."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

P = ParamSpec("P")
T = TypeVar("T")

# Connections taken with this execution option start their transaction with
# BEGIN IMMEDIATE on SQLite, so two writers queue on the database lock up front instead
# of failing with SQLITE_BUSY when a read transaction tries to become a write.
WRITE = {"timeline_write": True}

# How long a SQLite connection waits for another's write lock before SQLITE_BUSY.
BUSY_TIMEOUT_MS = 10_000

# The synchronous twin of each SQLite file engine (see `sqlite_twin`).
_twins: weakref.WeakKeyDictionary[sa.Engine, sa.Engine] = weakref.WeakKeyDictionary()


def async_url(url: str) -> sa.URL:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(
    url: str,
    *,
    null_pool: bool = False,
    sqlite_synchronous: str = "NORMAL",
    connect_timeout: float | None = None,
    statement_timeout: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine for the URL. In WAL mode, SQLite's synchronous=NORMAL loses no committed
    transaction on a process crash; only an OS crash or power cut can take back the last
    commits (FULL syncs the WAL on every commit instead, which bounds appends by the disk's
    flush rate). NORMAL is SQLite's own recommendation for WAL.

    On PostgreSQL, `connect_timeout` and `statement_timeout` (seconds) bound how long a
    connection attempt and each statement may wait for the server, so a server that
    accepts connections and never answers gives errors, not hung requests (asyncpg waits
    60 s to connect, and for ever for an answer, by default)."""
    if sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"unknown SQLite synchronous setting {sqlite_synchronous!r}")
    target = async_url(url)
    if null_pool:
        kwargs["poolclass"] = NullPool
    if target.get_backend_name() == "postgresql":
        connect_args = kwargs.setdefault("connect_args", {})
        if connect_timeout is not None:
            connect_args["timeout"] = connect_timeout
        if statement_timeout is not None:
            connect_args["command_timeout"] = statement_timeout
        engine = create_async_engine(target, **kwargs)
        _configure_postgres(engine.sync_engine)
        return engine
    engine = create_async_engine(target, **kwargs)
    _configure_sqlite(engine.sync_engine, sqlite_synchronous)
    if target.database not in (None, "", ":memory:"):
        twin = sa.create_engine(target.set(drivername="sqlite+pysqlite"))
        _configure_sqlite(twin, sqlite_synchronous)
        _twins[engine.sync_engine] = twin
        sa.event.listen(engine.sync_engine, "engine_disposed", lambda _: twin.dispose())
    return engine


def sqlite_twin(engine: AsyncEngine) -> sa.Engine | None:
    """A synchronous (pysqlite) engine on the same SQLite file, with the same settings.

    Through aiosqlite every statement is a hand-off to the driver's thread; the store runs
    a whole append on this twin in one hand-off, and short reads with no hand-off at all.
    None for in-memory databases and engines not made by `create_engine`.
    """
    return _twins.get(engine.sync_engine)


class Database:
    """An engine, and how read-model queries run on it.

    A query is a synchronous function of a SQLAlchemy connection (`query(conn, ...)`), so a
    read model's queries are plain functions that the store's projections and tests can
    call on any connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._twin = sqlite_twin(engine)
        # PostgreSQL: SQLAlchemy sends no BEGIN of its own, so a one-statement read is
        # one round trip.
        self._autocommit = (
            engine if is_sqlite(engine) else engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    async def run(
        self, query: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a short read, `query(conn, ...)`.

        On a SQLite file it runs right here on a connection of the synchronous twin, in one
        read transaction: in WAL mode a reader never waits for a writer, and a short read
        costs less than handing it to a driver thread. On PostgreSQL each of its statements
        is one round trip, in autocommit.
        """
        if self._twin is not None:
            with self._twin.connect() as conn:
                return query(conn, *args, **kwargs)
        async with self._autocommit.connect() as aconn:
            return await aconn.run_sync(query, *args, **kwargs)

    async def run_bulk(
        self, query: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`run` for thousands of rows: on SQLite in a thread, not to hold up the loop."""
        twin = self._twin
        if twin is None:
            return await self.run(query, *args, **kwargs)

        def in_thread() -> T:
            with twin.connect() as conn:
                return query(conn, *args, **kwargs)

        return await asyncio.to_thread(in_thread)


async def refuses_writes(engine: AsyncEngine) -> bool:
    """Whether the database refuses writes now: a read-only file, or a read-only server
    (`default_transaction_read_only`, a standby). Raises if it cannot be reached at all."""
    twin = sqlite_twin(engine)
    if twin is not None:
        return _sqlite_refuses_writes(twin)
    if is_sqlite(engine):
        return False  # in memory: always writable
    async with engine.connect() as conn:
        setting = await conn.exec_driver_sql("SELECT current_setting('transaction_read_only')")
        return setting.scalar() == "on"


def _sqlite_refuses_writes(twin: sa.Engine) -> bool:
    # SQLite opens a file it may not write read-only without a word (even BEGIN IMMEDIATE
    # succeeds), so try a write that changes nothing. Without waiting: a writer holding
    # the lock shows that writes work.
    pooled = twin.raw_connection()
    db = pooled.driver_connection
    assert db is not None  # a connection just taken from the pool is open
    try:
        db.execute("PRAGMA busy_timeout=0")
        try:
            db.execute("UPDATE events SET position = position WHERE 0")
        except sqlite3.OperationalError as exc:
            return exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY
        return False
    finally:
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        pooled.close()


def _configure_postgres(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # Instead of pool_pre_ping (three round trips per checkout with asyncpg): asyncpg
        # already knows a connection whose socket the server closed, as a restart does, and
        # raising DisconnectionError makes the pool replace it with a new one. A connection
        # that died silently fails its first statement; the store's writes retry that once.
        if dbapi_connection.driver_connection.is_closed():
            raise sa.exc.DisconnectionError("the server closed the connection")


def _configure_sqlite(engine: sa.Engine, synchronous: str) -> None:
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("timeline_write", False)
        cursor = conn.connection.cursor()  # DBAPI level: no statement machinery for a BEGIN
        cursor.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        cursor.close()
