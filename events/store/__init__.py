"""The event store (events.store.store), its rows (records) and its backends' contract
(backend) with one module per database (sqlite, postgres)."""

from events.store.backend import Projector
from events.store.records import (
    ANY_VERSION,
    GENESIS_HASH,
    NO_STREAM,
    Append,
    ConcurrencyError,
    RecordedEvent,
    chain_hash,
)
from events.store.store import EventStore

__all__ = [
    "ANY_VERSION",
    "GENESIS_HASH",
    "NO_STREAM",
    "Append",
    "ConcurrencyError",
    "EventStore",
    "Projector",
    "RecordedEvent",
    "chain_hash",
]
