"""Facts for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.facts import Fact
from events.store import EventStore
from projections import projection, registry
from projections.tables import checkpoints
from seeds import loader
from service.tokens import create_token
from service.wiring import open_store


def fact_data(fact_id: str = "test-summit", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": fact_id,
        "title": {"en": "Test summit", "ru": "Тестовый саммит"},
        "summary": {"en": "Leaders met.", "ru": "Лидеры встретились."},
        "kind": "summit",
        "status": "held",
        "date": {"edtf": "2025-04-03/2025-04-04"},
        "place": {"name": {"en": "Samarkand", "ru": "Самарканд"}, "country": "UZ"},
        "participants": ["UZ", "KZ", "EU"],
        "tags": ["central-asia-eu"],
        "sources": [
            {
                "title": "Joint declaration",
                "date": "2025-05-30",
                "locator": "paragraph 7",
            }
        ],
    }
    data.update(overrides)
    return data


def make_fact(fact_id: str = "test-summit", **overrides: Any) -> Fact:
    return msgspec.convert(fact_data(fact_id, **overrides), Fact)


class StepClock:
    """A controllable clock: returns `now` and moves it forward by `step` on each call."""

    def __init__(self, start: dt.datetime, step: dt.timedelta = dt.timedelta(seconds=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> dt.datetime:
        current = self.now
        self.now += self.step
        return current


async def seeded_with_token(url: str, name: str = "editor") -> str:
    """Load the bundled seeds into a migrated database and create a write token for NAME."""
    store = open_store(url, null_pool=True)
    try:
        await loader.load(store, loader.default_paths())
        return await create_token(store.engine, name)
    finally:
        await store.engine.dispose()


async def tamper(store: EventStore, backend: str, statement: str) -> None:
    """Change a stored row behind the store's back, switching the trigger off to do it."""
    async with store.engine.begin() as conn:
        if backend == "postgres":
            await conn.execute(sa.text("ALTER TABLE events DISABLE TRIGGER USER"))
            await conn.execute(sa.text(statement))
            await conn.execute(sa.text("ALTER TABLE events ENABLE TRIGGER USER"))
        else:
            await conn.execute(sa.text("DROP TRIGGER events_no_update"))
            await conn.execute(sa.text(statement))
            await conn.execute(
                sa.text(
                    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN "
                    "SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused'); END"
                )
            )


async def read_model(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projections' tables and checkpoints, in a stable order (to compare
    with a rebuild). Caches, filled on demand, are left out."""
    tables = [t for p in registry.ALL if p.project is not None for t in p.tables]
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in [*tables, checkpoints]:
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
    return out


async def rebuild(store: EventStore) -> int:
    return await projection.rebuild(store, registry.ALL)
