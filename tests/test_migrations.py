"""The schema exists only through Alembic: upgrade and downgrade work on both backends."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from msgspec.structs import astuple

from events.db import create_engine
from events.facts import DateInput
from events.model import FactRescheduled
from events.store import EventStore
from service import migrate


def table_names(url: str) -> set[str]:
    async def names() -> set[str]:
        engine = create_engine(url, null_pool=True)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
        await engine.dispose()
        return found

    return asyncio.run(names())


def schema_drift(url: str) -> list[object]:
    """What Alembic finds different between the migrated database and the declared tables."""

    def compare(sync: sa.Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(sync), list(migrate.DECLARED))

    async def drift() -> list[object]:
        engine = create_engine(url, null_pool=True)
        async with engine.connect() as conn:
            found = await conn.run_sync(compare)
        await engine.dispose()
        return found

    return asyncio.run(drift())


def test_the_migrations_make_exactly_the_tables_the_code_declares(empty_database_url: str):
    migrate.upgrade(empty_database_url)
    assert schema_drift(empty_database_url) == []


def test_a_table_the_code_declares_but_no_migration_makes_is_found(empty_database_url: str):
    migrate.upgrade(empty_database_url)
    extra = sa.Table(
        "not_migrated", migrate.DECLARED[1], sa.Column("id", sa.Integer, primary_key=True)
    )
    try:
        assert [d[0] for d in schema_drift(empty_database_url)] == ["add_table"]  # type: ignore[index]
    finally:
        migrate.DECLARED[1].remove(extra)


def test_upgrade_downgrade_upgrade(empty_database_url: str):
    assert "events" not in table_names(empty_database_url)
    migrate.upgrade(empty_database_url)
    assert {"events", "alembic_version"} <= table_names(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    assert "events" not in table_names(empty_database_url)
    migrate.upgrade(empty_database_url)
    assert "events" in table_names(empty_database_url)


def test_upgrade_twice_is_harmless(empty_database_url: str):
    migrate.upgrade(empty_database_url)
    migrate.upgrade(empty_database_url)
    assert "events" in table_names(empty_database_url)


def test_the_log_survives_the_rebuild_of_its_table(empty_database_url: str):
    """0006 rebuilds the SQLite event table (and drops an index on both): no event changes."""
    url = empty_database_url

    async def append_and_read(count: int) -> list[tuple[object, ...]]:
        engine = create_engine(url, null_pool=True)
        store = EventStore(engine)
        for i in range(count):
            await store.append(f"s{i % 3}", [FactRescheduled(date=DateInput("2026"))], actor="a")
        assert await store.verify() is None
        log = [astuple(r) for r in await store.read_all(limit=None)]
        await engine.dispose()
        return log

    migrate.upgrade(url, "0005")
    before = asyncio.run(append_and_read(5))
    migrate.upgrade(url)
    after = asyncio.run(append_and_read(2))
    assert after[:5] == before and [row[0] for row in after] == list(range(1, 8))
    migrate.downgrade(url, "0005")
    assert asyncio.run(append_and_read(0)) == after
