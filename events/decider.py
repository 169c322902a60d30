"""The fact's rules as pure functions: decide(command, state) -> events, evolve(state, event).

Nothing here touches a database or a clock; the handler loads a stream, folds it with
`evolve`, asks `decide` and appends what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from msgspec import UNSET, UnsetType

from events.facts import (
    MAX_SUMMARY,
    MAX_TITLE,
    DateInput,
    Fact,
    FactError,
    LangMap,
    Place,
    Source,
    validate_date,
    validate_fact,
    validate_kind,
    validate_langmap,
    validate_participants,
    validate_place,
    validate_sources,
    validate_status,
    validate_tags,
)
from events.model import (
    Event,
    FactRecorded,
    FactRescheduled,
    FactRetracted,
    FactRevised,
    FactStatusChanged,
    SourceCited,
)


class DomainError(Exception):
    """A command the rules refuse."""


class FactNotFound(DomainError):
    pass


class FactAlreadyExists(DomainError):
    pass


class FactIsRetracted(DomainError):
    pass


class FactState(msgspec.Struct, frozen=True):
    fact: Fact
    retracted: bool = False


# --- commands ---------------------------------------------------------------------------


class RecordFact(msgspec.Struct, frozen=True):
    fact: Fact


class ChangeFact(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Set some fields of a fact; a language map sets only the languages it names."""

    title: LangMap | UnsetType = UNSET
    summary: LangMap | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    status: str | UnsetType = UNSET
    date: DateInput | UnsetType = UNSET
    place: Place | UnsetType | None = UNSET
    participants: list[str] | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    sources: list[Source] | UnsetType = UNSET


class RetractFact(msgspec.Struct, frozen=True):
    pass


class CiteSource(msgspec.Struct, frozen=True):
    source: Source


Command = RecordFact | ChangeFact | RetractFact | CiteSource


# --- decide -----------------------------------------------------------------------------


def decide(command: Command, state: FactState | None) -> list[Event]:
    if isinstance(command, RecordFact):
        if state is not None:
            raise FactAlreadyExists(f"a fact with id {command.fact.id!r} already exists")
        validate_fact(command.fact)
        # The date as a change records it (stripped): "2025\n" parses, but is no text to keep.
        edtf = command.fact.date.edtf.strip()
        fact = msgspec.structs.replace(command.fact, date=DateInput(edtf=edtf))
        return [FactRecorded(fact=fact)]
    if state is None:
        raise FactNotFound("no such fact")
    if state.retracted:
        raise FactIsRetracted(f"fact {state.fact.id!r} was retracted")
    if isinstance(command, RetractFact):
        return [FactRetracted()]
    if isinstance(command, CiteSource):
        validate_sources([*state.fact.sources, command.source])
        if command.source in state.fact.sources:
            return []
        return [SourceCited(source=command.source)]
    return _decide_change(command, state.fact)


def _merged(old: LangMap, new: LangMap) -> LangMap:
    return {**old, **new}


def _decide_change(change: ChangeFact, fact: Fact) -> list[Event]:
    events: list[Event] = []
    revised: dict[str, object] = {}
    for field, limit, lines in (("title", MAX_TITLE, False), ("summary", MAX_SUMMARY, True)):
        value = getattr(change, field)
        if value is UNSET:
            continue
        current = getattr(fact, field)
        changed = {lang: text for lang, text in value.items() if current.get(lang) != text}
        if changed:
            validate_langmap(field, changed, limit, complete=False, lines=lines)
            revised[field] = changed
    if change.kind is not UNSET and change.kind != fact.kind:
        validate_kind(change.kind)
        revised["kind"] = change.kind
    if change.place is not UNSET and change.place != fact.place:
        validate_place(change.place)
        revised["place"] = change.place
    if change.participants is not UNSET and change.participants != fact.participants:
        validate_participants(change.participants)
        revised["participants"] = change.participants
    if change.tags is not UNSET and change.tags != fact.tags:
        validate_tags(change.tags)
        revised["tags"] = change.tags
    if change.sources is not UNSET and change.sources != fact.sources:
        validate_sources(change.sources)
        revised["sources"] = change.sources
    if change.date is not UNSET and change.date.edtf.strip() != fact.date.edtf:
        validate_date(change.date)
        events.append(FactRescheduled(date=DateInput(edtf=change.date.edtf.strip())))
    if change.status is not UNSET and change.status != fact.status:
        validate_status(change.status)
        events.append(FactStatusChanged(status=change.status))
    elif change.status is UNSET and fact.status == "elapsed" and events:
        # A new date for a plan whose date had passed is news: the plan stands again.
        events.append(FactStatusChanged(status="planned"))
    if revised:
        events.insert(0, FactRevised(**revised))  # type: ignore[arg-type]
    return events


# --- evolve -----------------------------------------------------------------------------


def evolve(state: FactState | None, event: Event) -> FactState | None:
    if isinstance(event, FactRecorded):
        return FactState(fact=event.fact)
    if state is None:
        raise DomainError(f"{type(event).__name__} before FactRecorded")
    fact = state.fact
    if isinstance(event, FactRevised):
        changes: dict[str, object] = {}
        for field in ("title", "summary"):
            value = getattr(event, field)
            if value is not UNSET:
                changes[field] = _merged(getattr(fact, field), value)
        for field in ("kind", "place", "participants", "tags", "sources"):
            value = getattr(event, field)
            if value is not UNSET:
                changes[field] = value
        return FactState(fact=msgspec.structs.replace(fact, **changes))
    if isinstance(event, FactRescheduled):
        return FactState(fact=msgspec.structs.replace(fact, date=event.date))
    if isinstance(event, FactStatusChanged):
        return FactState(fact=msgspec.structs.replace(fact, status=event.status))
    if isinstance(event, SourceCited):
        return FactState(fact=msgspec.structs.replace(fact, sources=[*fact.sources, event.source]))
    if isinstance(event, FactRetracted):
        return FactState(fact=fact, retracted=True)
    raise DomainError(f"unknown event {type(event).__name__}")


def fold(events: Iterable[Event], state: FactState | None = None) -> FactState | None:
    for event in events:
        state = evolve(state, event)
    return state


def change_to_match(fact: Fact) -> ChangeFact:
    """The change that makes a stored fact equal `fact` (used when a seed file is edited)."""
    return ChangeFact(
        title=fact.title,
        summary=fact.summary,
        kind=fact.kind,
        status=fact.status,
        date=fact.date,
        place=fact.place,
        participants=fact.participants,
        tags=fact.tags,
        sources=fact.sources,
    )


STREAM_PREFIX = "fact-"  # every fact's events are the stream "fact-<id>"


def stream_id(fact_id: str) -> str:
    return STREAM_PREFIX + fact_id


__all__ = [
    "ChangeFact",
    "CiteSource",
    "Command",
    "DomainError",
    "FactAlreadyExists",
    "FactError",
    "FactIsRetracted",
    "FactNotFound",
    "FactState",
    "RecordFact",
    "RetractFact",
    "change_to_match",
    "decide",
    "evolve",
    "fold",
    "stream_id",
]
