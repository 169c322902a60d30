"""Replaying the log into a projection: one loop for every projection's rebuild and catch-up."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from events.store import EventStore, Projector, RecordedEvent
from projections.tables import checkpoints


async def checkpoint(conn: AsyncConnection, name: str) -> int:
    """The last log position the projection `name` has applied."""
    query = sa.select(checkpoints.c.position).where(checkpoints.c.name == name)
    return (await conn.execute(query)).scalar_one()


async def replay(
    store: EventStore, conn: AsyncConnection, project: Projector, after: int, batch: int
) -> int:
    """Apply the log after `after` to a projection, in `batch`es, in `conn`'s transaction."""
    count = 0
    while True:
        chunk: Sequence[RecordedEvent] = await store.read_all_in(conn, after, batch)
        if not chunk:
            return count
        await conn.run_sync(project, chunk)
        count += len(chunk)
        after = chunk[-1].position


async def catch_up(store: EventStore, name: str, project: Projector, batch: int = 5000) -> int:
    """Project whatever the log holds beyond the projection's checkpoint (after an upgrade)."""
    async with store.write_transaction() as conn:
        return await replay(store, conn, project, await checkpoint(conn, name), batch)
