"""The one command handler: load a fact's stream, decide, append with the expected version."""

from __future__ import annotations

import msgspec

from events.decider import Command, FactState, decide, fold, stream_id
from events.facts import validate_reason
from events.store import ConcurrencyError, EventStore, RecordedEvent


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
    state, version = await load(store, fact_id)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyError(stream_id(fact_id), expected_version, version)
    new_events = decide(command, state)
    if not new_events:
        return Outcome(state, version, [])
    recorded = await store.append(
        stream_id(fact_id), new_events, expected_version=version, actor=actor, reason=reason
    )
    return Outcome(fold(new_events, state), recorded[-1].version, recorded)
