"""Engines for the two supported databases, with the settings each needs for the store."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

# Connections taken with this execution option start their transaction with
# BEGIN IMMEDIATE on SQLite, so two writers queue on the database lock up front instead
# of failing with SQLITE_BUSY when a read transaction tries to become a write.
WRITE = {"timeline_write": True}


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


def create_engine(url: str, *, null_pool: bool = False, **kwargs: Any) -> AsyncEngine:
    target = async_url(url)
    if null_pool:
        kwargs["poolclass"] = NullPool
    if target.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_async_engine(target, **kwargs)
        return engine
    engine = create_async_engine(target, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        # In WAL mode NORMAL loses no committed transaction on a process crash; only an
        # OS crash or power cut can take back the last commits. That is SQLite's own
        # recommendation for WAL and what makes single appends fast.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("timeline_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
