"""When a plan's date passes with no news: the rule, and how it is recorded.

A fact still `planned` or `proposed` whose whole date window ended before today has
elapsed: its date passed and nobody recorded what happened. Only a closed end counts,
at the date's own precision: "March 2018" ends on 31 March, so it elapses from 1 April;
"from 2030" has no end and never elapses. An editor can still confirm, reschedule or
cancel an elapsed fact like any other.

`decide` is pure; `mark_elapsed` records its answer through the one command handler,
with the version the decision was made on, so a fact changed in between is left alone.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from events.decider import ChangeFact, FactNotFound, FactState
from events.facts import Fact
from events.handler import Outcome, handle
from events.model import Event, FactStatusChanged
from events.store import EventStore

ELAPSED = "elapsed"
PENDING = frozenset({"planned", "proposed"})  # statuses that wait for news
ACTOR = "scheduler"


class MarkElapsed(msgspec.Struct, frozen=True):
    today: dt.date  # in UTC


def elapses(fact: Fact, today: dt.date) -> bool:
    if fact.status not in PENDING:
        return False
    end = fact.bounds().end
    return end is not None and end < today


def decide(command: MarkElapsed, state: FactState | None) -> list[Event]:
    if state is None:
        raise FactNotFound("no such fact")
    if state.retracted or not elapses(state.fact, command.today):
        return []
    return [FactStatusChanged(status=ELAPSED)]


def reason(fact: Fact, today: dt.date) -> str:
    bounds = fact.bounds()
    return (
        f"its date ({bounds.label['en']}) ended on {bounds.end}, before {today}, "
        f"and no outcome was recorded"
    )


async def mark_elapsed(
    store: EventStore, state: FactState, version: int, today: dt.date
) -> Outcome | None:
    """Mark the fact elapsed if the rule says so; `state` is the fact as read at `version`.

    Raises ConcurrencyError if the fact's stream has moved past `version`.
    """
    if not decide(MarkElapsed(today), state):
        return None
    # The handler checks `version` against the stream, so it appends to exactly the state
    # decided on; the change it makes is the one event `decide` returned.
    return await handle(
        store,
        state.fact.id,
        ChangeFact(status=ELAPSED),
        actor=ACTOR,
        reason=reason(state.fact, today),
        expected_version=version,
    )
