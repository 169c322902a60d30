"""The schema exists only through Alembic: upgrade and downgrade work on both backends."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from events.db import create_engine
from service import migrate


def table_names(url: str) -> set[str]:
    async def names() -> set[str]:
        engine = create_engine(url, null_pool=True)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
        await engine.dispose()
        return found

    return asyncio.run(names())


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
