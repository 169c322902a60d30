"""The log's rows without a database: appends turned into recorded, hash-chained events,
and the chain checked.

Every event records its position, its stream's version, when it was recorded, and a
SHA-256 over the previous event's hash and everything it says: changing, removing or
reordering any event breaks every hash after it. A backend reads the head (the last
event's position, hash and instant) and the streams' versions under its write lock and
hands them to `record`; `chain_fault` is what `verify` and an import check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from events import model

GENESIS_HASH = "0" * 64  # the "previous hash" of the first event
ANY_VERSION = None  # expected_version that skips the check
NO_STREAM = 0  # expected_version of a stream that must not exist yet

# The last event's position, hash and instant; EMPTY_HEAD for an empty log.
Head = tuple[int, str, str]
EMPTY_HEAD: Head = (0, GENESIS_HASH, "")


class ConcurrencyError(Exception):
    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class RecordedEvent(msgspec.Struct, frozen=True):
    # The fields are in the event table's columns' order: astuple() is a row.
    position: int
    stream_id: str
    version: int
    type: str
    data: str
    actor: str
    reason: str | None
    recorded_at: str
    hash: str

    def event(self) -> model.Event:
        return model.decode(self.type, self.data)


# The event table's columns, in a row's order, for the backends' INSERTs.
COLUMNS = ", ".join(RecordedEvent.__struct_fields__)


class Append(msgspec.Struct, frozen=True):
    """Events for one stream, appended only if the stream is at `expected_version`."""

    stream_id: str
    events: Sequence[model.Event]
    expected_version: int | None = ANY_VERSION


_content = msgspec.json.Encoder()

# hashlib.sha256() looks the digest up in OpenSSL on every call (Python 3.11); a copy of a
# fresh one skips that, which is a good part of hashing an event.
_SHA256 = hashlib.sha256()


def _hash(previous: str, fields: tuple[Any, ...]) -> str:
    # fields: position, stream_id, version, type, data, actor, reason, recorded_at
    digest = _SHA256.copy()
    digest.update(previous.encode() + b"\n" + _content.encode(fields))
    return digest.hexdigest()


def chain_hash(previous: str, event: RecordedEvent) -> str:
    """SHA-256 over the previous event's hash and everything this event says."""
    return _hash(
        previous,
        (
            event.position,
            event.stream_id,
            event.version,
            event.type,
            event.data,
            event.actor,
            event.reason,
            event.recorded_at,
        ),
    )


def record(
    appends: Sequence[Append],
    head: Head,
    versions: dict[str, int],
    *,
    actor: str,
    reason: str | None,
    now: str,
) -> list[RecordedEvent]:
    """The events as recorded after `head`, once every expected version holds.

    `versions` holds the current version of each stream that has one (it is updated as
    the events are recorded); `now` is the instant to record, unless the head's is later.
    """
    for a in appends:
        actual = versions.get(a.stream_id, 0)
        if a.expected_version is not None and a.expected_version != actual:
            raise ConcurrencyError(a.stream_id, a.expected_version, actual)
    position, previous, last_instant = head
    # Time never runs backwards in the log, whatever the clocks of several processes say.
    recorded_at = max(now, last_instant)
    recorded: list[RecordedEvent] = []
    for a in appends:
        stream_id = a.stream_id
        version = versions.get(stream_id, 0)
        for event in a.events:
            position += 1
            version += 1
            kind, data = model.type_name(event), model.encode(event)
            fields = (position, stream_id, version, kind, data, actor, reason, recorded_at)
            previous = _hash(previous, fields)
            recorded.append(RecordedEvent(*fields, previous))
        versions[stream_id] = version
    return recorded


def expected_versions(appends: Sequence[Append]) -> dict[str, int] | None:
    """The version each append expects, if each expects one, has events to record and names
    a stream of its own: what an append needs to be tried on a guessed head (see
    events.store.backend). None otherwise."""
    expected: dict[str, int] = {}
    for a in appends:
        if not a.events or a.expected_version is None or a.stream_id in expected:
            return None
        expected[a.stream_id] = a.expected_version
    return expected


def head_of(recorded: Sequence[RecordedEvent]) -> Head:
    last = recorded[-1]
    return (last.position, last.hash, last.recorded_at)


def chain_fault(position: int, previous: str, event: RecordedEvent) -> str | None:
    """Why `event` cannot follow the one at `position` whose hash is `previous`, or None."""
    if event.position != position + 1:
        return f"event at position {event.position} does not follow position {position}"
    if chain_hash(previous, event) != event.hash:
        return f"event at position {event.position} breaks the hash chain"
    return None


def check_chain(head: Head, recorded: Iterable[RecordedEvent]) -> None:
    """Raise ValueError unless `recorded` continues the chain after `head`."""
    position, previous, _ = head
    for event in recorded:
        fault = chain_fault(position, previous, event)
        if fault is not None:
            raise ValueError(fault)
        position, previous = event.position, event.hash
