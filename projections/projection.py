"""What every projection is, and the one rebuild and catch-up that serve them all.

A projection is a read model of the log: its tables, and (unless it is a cache filled on
demand) a projector the store runs in each append's transaction, which records the last
position applied as the projection's checkpoint. A new projection is one module that
declares its `Projection`, one migration that makes its tables, and one line in
`projections.registry`; its checkpoint row is made here, by the first catch-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from events.store import EventStore, Projector, RecordedEvent
from projections.tables import checkpoints


@dataclass(frozen=True)
class Projection:
    name: str
    tables: tuple[sa.Table, ...]  # emptied by a reset, in this order (children first)
    # Applies appended events in the append's transaction; None for a cache that is filled
    # when asked and only emptied by a rebuild (it has no checkpoint).
    project: Projector | None = None


def advance(name: str) -> sa.Update:
    """The statement that records `position` as the projection's last applied one.

    Built once by each projector: building a statement per append costs more than running it.
    """
    return (
        checkpoints.update()
        .where(checkpoints.c.name == name)
        .values(position=sa.bindparam("position", type_=sa.BigInteger))
    )


async def checkpoint(conn: AsyncConnection, name: str) -> int:
    """The last log position the projection `name` has applied (0 before its first catch-up)."""
    query = sa.select(checkpoints.c.position).where(checkpoints.c.name == name)
    return (await conn.execute(query)).scalar() or 0


async def _reset(conn: AsyncConnection, projection: Projection) -> None:
    for table in projection.tables:
        await conn.execute(table.delete())
    if projection.project is not None:
        await _set_checkpoint(conn, projection.name, 0)


async def _set_checkpoint(conn: AsyncConnection, name: str, position: int) -> None:
    updated = await conn.execute(
        checkpoints.update().where(checkpoints.c.name == name).values(position=position)
    )
    if not updated.rowcount:
        await conn.execute(checkpoints.insert().values(name=name, position=position))


async def _replay(
    store: EventStore,
    conn: AsyncConnection,
    projectors: Sequence[Projector],
    after: int,
    batch: int,
) -> int:
    """Apply the log after `after` to projectors, in `batch`es, in `conn`'s transaction."""
    count = 0
    while True:
        chunk: Sequence[RecordedEvent] = await store.read_all_in(conn, after, batch)
        if not chunk:
            return count
        for project in projectors:
            await conn.run_sync(project, chunk)
        count += len(chunk)
        after = chunk[-1].position


async def rebuild(store: EventStore, projections: Sequence[Projection], batch: int = 5000) -> int:
    """Throw the projections' tables away and replay the whole log into them, in one
    transaction (readers see the old read model until it commits); the events replayed."""
    async with store.write_transaction() as conn:
        for projection in projections:
            await _reset(conn, projection)
        projectors = [p.project for p in projections if p.project is not None]
        return await _replay(store, conn, projectors, 0, batch) if projectors else 0


async def catch_up(store: EventStore, projections: Sequence[Projection], batch: int = 5000) -> int:
    """Project whatever the log holds beyond each projection's checkpoint (after an upgrade,
    or for a projection new to this database); the events applied, summed over projections."""
    count = 0
    async with store.write_transaction() as conn:
        for projection in projections:
            if projection.project is None:
                continue
            after = await checkpoint(conn, projection.name)
            if after == 0:
                await _set_checkpoint(conn, projection.name, 0)  # a new projection's row
            count += await _replay(store, conn, [projection.project], after, batch)
    return count
