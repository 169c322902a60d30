"""What changed between two versions of a fact, in words (pure: no HTTP)."""

from __future__ import annotations

import msgspec

from events.dates import parse_edtf
from events.decider import (
    FactState,
    evolve,
)
from events.facts import (
    Fact,
)
from events.store import RecordedEvent
from projections.vocabulary import event_word, participant_name
from service.http.workspace.words import LANG, STATUS_WORDS

# --- differences between versions, in words ----------------------------------------------


def describe(name: str, fact: Fact | None) -> str:
    if fact is None:
        return ""
    if name.startswith(("title.", "summary.")):
        field, lang = name.split(".")
        return getattr(fact, field).get(lang, "")
    if name == "date":
        bounds = parse_edtf(fact.date.edtf)
        return f"{bounds.label[LANG]} ({bounds.edtf})"
    if name == "status":
        return STATUS_WORDS.get(fact.status, fact.status)
    if name == "place":
        if fact.place is None:
            return ""
        place = fact.place.name.get(LANG) or next(iter(fact.place.name.values()), "")
        return (
            f"{place}, {participant_name(fact.place.country, LANG)}"
            if fact.place.country
            else place
        )
    if name == "participants":
        return ", ".join(participant_name(code, LANG) for code in fact.participants)
    if name == "tags":
        return ", ".join(fact.tags)
    if name == "sources":
        return "; ".join(f"{s.title} ({s.date.isoformat()})" for s in fact.sources)
    return str(getattr(fact, name))


# The fields' names as the forms, the error summaries and the differences show them.
LABELS = {
    "id": "Fact id (a slug)",
    "title.en": "Title (English)",
    "title.ru": "Title (Russian)",
    "summary.en": "Summary (English)",
    "summary.ru": "Summary (Russian)",
    "kind": "Kind",
    "status": "Status",
    "date.edtf": "Date (EDTF)",
    "place.name.en": "Place (English)",
    "place.name.ru": "Place (Russian)",
    "place.country": "Place's country (ISO code)",
    "participants": "Participants",
    "tags": "Tags",
    "reason": "Reason",
    "retract-reason": "Why retract it",
    "token": "Write token",
    "title": "Title",
    "date": "Date of the document",
    "lang": "Language",
    "url": "Address (URL), if it has one",
    "text": "Text",
    "file": "…or upload a .txt file",
}
DIFF_FIELDS = [
    *((name, LABELS[name]) for name in ("title.en", "title.ru", "summary.en", "summary.ru")),
    ("kind", "Kind"),
    ("status", "Status"),
    ("date", "Date"),
    ("place", "Place"),
    ("participants", "Participants"),
    ("tags", "Tags"),
    ("sources", "Sources"),
]


def differences(before: Fact | None, after: Fact | None) -> list[dict[str, str]]:
    out = []
    for name, label in DIFF_FIELDS:
        old, new = describe(name, before), describe(name, after)
        if old != new:
            out.append({"field": label, "before": old, "after": new})
    return out


class Version(msgspec.Struct):
    event: RecordedEvent
    what: str
    fact: Fact | None
    changes: list[dict[str, str]]


def versions(recorded: list[RecordedEvent]) -> list[Version]:
    """Each event of a fact with the difference it made to the fact."""
    out = []
    state: FactState | None = None
    for r in recorded:
        before = state.fact if state else None
        state = evolve(state, r.event())
        after = None if state is None or state.retracted else state.fact
        out.append(Version(r, event_word(r.type, LANG), after, differences(before, after)))
    return out
