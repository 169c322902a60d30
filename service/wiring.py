"""The store as the service uses it: with the read models projected in each append."""

from __future__ import annotations

from events.db import create_engine
from events.store import Clock, EventStore, utc_now
from projections import documents, timeline


def open_store(url: str, *, null_pool: bool = False, clock: Clock = utc_now) -> EventStore:
    return EventStore(
        create_engine(url, null_pool=null_pool),
        projectors=[timeline.project, documents.project],
        clock=clock,
    )
