"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from litestar import Litestar, get
from litestar.datastructures import State

from events.db import create_engine
from events.store import EventStore
from service.settings import Settings


class Health(msgspec.Struct):
    status: str
    database: str
    last_position: int | None


@get("/health", summary="Service health: database reachable and the log's last position")
async def health(state: State) -> Health:
    store: EventStore = state.store
    try:
        position = await store.head()
    except Exception:  # the database is down or unreachable: say so, don't fail
        return Health(status="degraded", database="unreachable", last_position=None)
    return Health(status="ok", database="reachable", last_position=position)


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, null_pool=settings.db_null_pool)
        app.state.store = EventStore(engine)
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(
        route_handlers=[health],
        lifespan=[lifespan],
        state=State({"settings": settings}),
    )


def app_from_env() -> Litestar:
    """Entry point for the ASGI server (`timeline serve`)."""
    return create_app(Settings.from_env())
