"""What a database must do to hold the log: the contract each backend module fulfils.

Appends are serialised (SQLite: its write lock; PostgreSQL: an advisory lock every writer
takes), so positions are gapless and commit in order: a reader following positions can
never skip an event that commits later with a lower position. Under that lock each event
gets its position, its `recorded_at` and its hash over the previous event's hash.

Why a head must be known at all: the hash chain is computed here, in the client, so the
writer must know the previous event's hash (and position and instant) before it can send
a row. Message DB avoids this by not hashing: its write function numbers the row in the
database. The exact way reads the head and the streams' versions under the lock, then
inserts: two statements at least. Mostly an append is cheaper: the backend guesses the
head (the last one this store saw) and the versions (the ones the caller expects) and
sends one insert that holds only if the guesses do; a wrong guess costs that statement,
then the exact way runs. A guess is never trusted, only tried, so a stale one (another
process appended, or two of this store's own threads raced to record theirs) is safe.

Reads need no contract: they are the same SQL on both backends (events.store.store), run
by events.db.Database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from events.store.records import Append, Head, RecordedEvent, head_of

# A projector applies appended events to a read model in the append's transaction. It
# reads with SELECTs and uses no result of its writes, and it may be run for an attempt
# that is then refused and made again (PostgreSQL runs it before taking the lock, and
# sends its writes after the insert: events.store.postgres).
Projector = Callable[[sa.Connection, Sequence[RecordedEvent]], None]


class Backend(ABC):
    """Appends, imports and write transactions on one kind of database."""

    def __init__(self, projectors: Sequence[Projector], now: Callable[[], str]) -> None:
        self.projectors = tuple(projectors)
        self.now = now  # the instant to record, as text
        # The head this store last saw, the guess of the next append (see the module doc).
        # Written after each commit from whichever thread made it: one reference to an
        # immutable tuple, so a reader sees some head this store saw, maybe not the latest.
        self.guess: Head | None = None

    @abstractmethod
    async def append(
        self, appends: Sequence[Append], *, actor: str, reason: str | None
    ) -> list[RecordedEvent]:
        """Record and project the appends in one transaction: all of them, or nothing.

        Raises ConcurrencyError if a stream is not at the version its append expects."""

    @abstractmethod
    async def import_events(self, recorded: Sequence[RecordedEvent]) -> None:
        """Insert and project events exactly as recorded elsewhere (positions, instants,
        hashes), after the head; ValueError, and nothing written, unless they continue
        its chain."""

    @abstractmethod
    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction holding the append lock (a projection's rebuild runs in one)."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the backend opened of its own (the engine is its owner's)."""

    def seen(self, recorded: list[RecordedEvent]) -> list[RecordedEvent]:
        """The appended events, their last one kept as the next guess."""
        if recorded:
            self.guess = head_of(recorded)
        return recorded
