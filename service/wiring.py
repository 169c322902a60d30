"""The store as the service uses it: with the read models projected in each append."""

from __future__ import annotations

from typing import Any

from events.db import create_engine
from events.instants import Clock, utc_now
from events.store import EventStore
from projections import registry


def open_store(
    url: str, *, null_pool: bool = False, clock: Clock = utc_now, **engine_options: Any
) -> EventStore:
    """`engine_options` go to `events.db.create_engine` (timeouts, for instance)."""
    return EventStore(
        create_engine(url, null_pool=null_pool, **engine_options),
        projectors=registry.PROJECTORS,
        clock=clock,
    )
