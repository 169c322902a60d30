"""The one command handler: load a fact's stream, decide, append with the expected version."""

from __future__ import annotations

import msgspec

from events.decider import (
    Command,
    FactAlreadyExists,
    FactState,
    RecordFact,
    decide,
    fold,
    stream_id,
)
from events.facts import validate_reason
from events.store import NO_STREAM, ConcurrencyError, EventStore, RecordedEvent


class Outcome(msgspec.Struct, frozen=True):
    state: FactState | None
    version: int
    recorded: list[RecordedEvent]


async def load(store: EventStore, fact_id: str) -> tuple[FactState | None, int]:
    recorded = await store.read_stream(stream_id(fact_id))
    state = fold(r.event() for r in recorded)
    return state, (recorded[-1].version if recorded else 0)


async def handle(
    store: EventStore,
    fact_id: str,
    command: Command,
    *,
    actor: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Outcome:
    """Apply a command to a fact. `expected_version` is the caller's If-Match, if any."""
    validate_reason(reason)
    # A new fact's stream must not exist yet: the append checks that itself, so it is not
    # read first (one round trip less for every fact recorded).
    new = isinstance(command, RecordFact) and expected_version in (None, NO_STREAM)
    state, version = (None, NO_STREAM) if new else await load(store, fact_id)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyError(stream_id(fact_id), expected_version, version)
    new_events = decide(command, state)
    if not new_events:
        return Outcome(state, version, [])
    try:
        recorded = await store.append(
            stream_id(fact_id), new_events, expected_version=version, actor=actor, reason=reason
        )
    except ConcurrencyError:
        if new:
            raise FactAlreadyExists(f"a fact with id {fact_id!r} already exists") from None
        raise
    return Outcome(fold(new_events, state), recorded[-1].version, recorded)
