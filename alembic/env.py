"""Async Alembic environment: the URL comes from the caller or TIMELINE_DATABASE_URL."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from events.db import create_engine
from service.migrate import DECLARED

DEFAULT_DATABASE_URL = "sqlite:///timeline.db"

config = context.config


def database_url() -> str:
    return config.attributes.get("url") or os.environ.get(
        "TIMELINE_DATABASE_URL", DEFAULT_DATABASE_URL
    )


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=list(DECLARED), transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_engine(database_url(), null_pool=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())
