"""The store on PostgreSQL: the contract in each mode, and what only PostgreSQL does."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from events.db import create_engine
from events.store import NO_STREAM, EventStore
from projections import documents, timeline
from tests.store_contract import StoreContract, reschedule


class TestPostgres(StoreContract):
    """Without projectors: the guarded one-statement insert after the lock."""

    backend = "postgres"

    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url


class TestPostgresWithProjectors(TestPostgres):
    """The service's store: the read models projected in each append's transaction."""

    projectors = (timeline.project, documents.project)


async def test_appends_survive_connections_the_server_closed(postgres_url: str):
    """What a PostgreSQL restart does to a pool: no pre-ping, yet no error for the caller."""
    engine = create_engine(postgres_url, pool_size=2)
    store = EventStore(engine)
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    await store.head()
    admin = create_engine(postgres_url, null_pool=True)
    async with admin.connect() as conn:
        await conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    await asyncio.sleep(0.2)  # let the event loop see the closed sockets
    await store.append("s", [reschedule("2027")], 1, actor="a")
    assert await store.head() == 2
    assert await store.verify() is None
    await engine.dispose()


async def test_a_held_lock_times_out_as_an_operational_error(postgres_url: str):
    engine = create_engine(postgres_url)
    store = EventStore(engine, lock_timeout_ms=200)
    async with store.write_transaction():
        other = create_engine(postgres_url, null_pool=True)
        with pytest.raises(sa.exc.OperationalError):  # the API answers 503 to it
            await EventStore(other, lock_timeout_ms=200).append(
                "s", [reschedule("2026")], actor="a"
            )
        await other.dispose()
    await store.append("s", [reschedule("2026")], actor="a")  # the store still works
    assert await store.head() == 1
    await engine.dispose()
