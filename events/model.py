"""Event types: one msgspec Struct per domain change, each with a versioned type name.

The store keeps the type name in its own column and the Struct's fields as JSON.
When a type's shape changes, the new Struct gets a new version and the old name gets
an upcaster that turns the old JSON into the new shape, so the log is never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from events.documents import Document, Proposal
from events.facts import DateInput, Fact, LangMap, Place, Source


class Event(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Base of every domain event; subclasses are registered by `type_name`."""


class FactRecorded(Event):
    fact: Fact


class FactRevised(Event):
    """Text or descriptive fields changed; only the fields present changed.

    Language maps carry only the languages that changed.
    """

    title: LangMap | UnsetType = UNSET
    summary: LangMap | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    place: Place | UnsetType | None = UNSET
    participants: list[str] | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    sources: list[Source] | UnsetType = UNSET


class FactRescheduled(Event):
    date: DateInput


class FactStatusChanged(Event):
    status: str


class FactRetracted(Event):
    pass


class SourceCited(Event):
    source: Source


class DocumentReceived(Event):
    """An editor brought in a document; the proposals read from it follow."""

    document: Document


class FactProposed(Event):
    proposal: Proposal


class ProposalAccepted(Event):
    proposal_id: str
    fact_id: str  # the fact it recorded or changed


class ProposalRejected(Event):
    proposal_id: str
    reason: str


class SeedFileLoaded(Event):
    """What a seed file said about these facts when it was loaded (seeds/loader.py).

    Kept in a stream of its own per file, not in the facts' streams: no fact changes.
    """

    file: str
    facts: list[Fact]


EVENT_TYPES: dict[str, type[Event]] = {
    "FactRecorded.v2": FactRecorded,
    "FactRevised.v1": FactRevised,
    "FactRescheduled.v1": FactRescheduled,
    "FactStatusChanged.v1": FactStatusChanged,
    "FactRetracted.v1": FactRetracted,
    "SourceCited.v1": SourceCited,
    "DocumentReceived.v1": DocumentReceived,
    "FactProposed.v1": FactProposed,
    "ProposalAccepted.v1": ProposalAccepted,
    "ProposalRejected.v1": ProposalRejected,
    "SeedFileLoaded.v1": SeedFileLoaded,
}
TYPE_NAMES: dict[type[Event], str] = {cls: name for name, cls in EVENT_TYPES.items()}


def _fact_recorded_v1_to_v2(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # v1 (the first prototype's shape) kept the fact's date as a bare EDTF string.
    fact = dict(data["fact"])
    if isinstance(fact.get("date"), str):
        fact["date"] = {"edtf": fact["date"]}
    return "FactRecorded.v2", {**data, "fact": fact}


UPCASTERS: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "FactRecorded.v1": _fact_recorded_v1_to_v2,
}

_encoder = msgspec.json.Encoder()
_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


class UnknownEventType(ValueError):
    pass


def type_name(event: Event) -> str:
    return TYPE_NAMES[type(event)]


def encode(event: Event) -> str:
    return _encoder.encode(event).decode()


def decode(name: str, data: str | bytes) -> Event:
    """Decode a stored event, upcasting older shapes to the current type."""
    decoder = _decoders.get(name)
    if decoder is not None:
        return decoder.decode(data)
    if name not in UPCASTERS:
        raise UnknownEventType(name)
    raw: dict[str, Any] = msgspec.json.decode(data)
    while name in UPCASTERS:
        name, raw = UPCASTERS[name](raw)
    if name not in EVENT_TYPES:
        raise UnknownEventType(name)
    return msgspec.convert(raw, EVENT_TYPES[name])
