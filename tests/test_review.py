"""The review rules and the matching of proposals to stored facts: given / when / then, no database."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from events import decider, review
from events.dates import parse_edtf
from events.decider import ChangeFact, CiteSource, RecordFact
from events.documents import (
    Document,
    Evidence,
    Match,
    Proposal,
    ProposedFact,
    document_id,
    paragraphs,
)
from events.facts import DateInput, Fact, FactError, Place
from events.matching import relate, relation
from events.model import DocumentReceived, FactProposed, ProposalAccepted, ProposalRejected

DOCUMENT = Document(
    title="Пресс-релиз МИД",
    date=dt.date(2026, 3, 2),
    lang="ru",
    text="ТАШКЕНТ, 2 марта.\n\nПятый саммит «Центральная Азия – Китай» пройдет в Астане 3 июня 2026 года.",
)
PROPOSAL = Proposal(
    id="p1",
    fact=ProposedFact(
        title={"ru": "Пятый саммит «Центральная Азия – Китай»"},
        kind="summit",
        status="planned",
        date=DateInput(edtf="2026-06-03"),
        place=Place(name={"ru": "Астана", "en": "Astana"}, country="KZ"),
        participants=["CN", "KZ", "KG", "TJ", "TM", "UZ"],
    ),
    evidence=Evidence(
        paragraph=2,
        quote="Пятый саммит «Центральная Азия – Китай» пройдет в Астане 3 июня 2026 года.",
    ),
)


def received() -> review.DocumentState:
    events = review.decide(review.ReceiveDocument(DOCUMENT, [PROPOSAL]), None)
    state = review.fold(events, "d")
    assert state is not None
    return state


def stored(edtf: str, **changes: object) -> Fact:
    fields: dict[str, object] = {
        "id": "fifth-central-asia-china-summit-2026",
        "title": {
            "en": "Fifth Central Asia–China summit",
            "ru": "Пятый саммит «Центральная Азия – Китай»",
        },
        "summary": {"en": "A summit.", "ru": "Саммит."},
        "kind": "summit",
        "status": "planned",
        "date": DateInput(edtf=edtf),
        "place": Place(name={"en": "Astana", "ru": "Астана"}, country="KZ"),
        "participants": ["CN", "KZ", "KG", "TJ", "TM", "UZ"],
    }
    fields.update(changes)
    return Fact(**fields)  # type: ignore[arg-type]


# --- paragraphs and ids ---------------------------------------------------------------


def test_paragraphs_are_blocks_between_blank_lines() -> None:
    assert paragraphs("One\nstill one.\n\n  \nTwo.\r\n\r\nThree.") == [
        "One\nstill one.",
        "Two.",
        "Three.",
    ]


def test_a_text_without_blank_lines_has_its_lines_as_paragraphs() -> None:
    assert paragraphs("First.\nSecond.\nThird.") == ["First.", "Second.", "Third."]
    assert paragraphs("\nFirst.\n Second. \n\n") == ["First.", "Second."]


def test_the_same_text_and_date_is_the_same_document() -> None:
    again = Document(title="Another title", date=DOCUMENT.date, lang="ru", text=DOCUMENT.text)
    later = Document(title=DOCUMENT.title, date=dt.date(2026, 3, 3), lang="ru", text=DOCUMENT.text)
    assert document_id(again) == document_id(DOCUMENT)
    assert document_id(later) != document_id(DOCUMENT)


# --- decide ----------------------------------------------------------------------------


def test_receiving_a_document_records_it_and_each_proposal() -> None:
    events = review.decide(review.ReceiveDocument(DOCUMENT, [PROPOSAL]), None)
    assert events == [DocumentReceived(document=DOCUMENT), FactProposed(proposal=PROPOSAL)]


def test_a_document_is_received_once() -> None:
    with pytest.raises(review.DocumentAlreadyReceived):
        review.decide(review.ReceiveDocument(DOCUMENT, []), received())


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("lang", {"lang": "de"}),
        ("title", {"title": "  "}),
        ("title", {"title": "two\nlines"}),
        ("text", {"text": "\n\n"}),
        ("text", {"text": "bell \x07"}),
        ("url", {"url": "javascript:alert(1)"}),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(field: str, changes: dict[str, str]) -> None:
    bad = Document(**{**{f: getattr(DOCUMENT, f) for f in Document.__struct_fields__}, **changes})
    with pytest.raises(FactError) as refused:
        review.decide(review.ReceiveDocument(bad, []), None)
    assert refused.value.field == field


def test_accepting_then_rejecting_the_same_proposal_is_refused() -> None:
    state = received()
    events = review.decide(review.AcceptProposal("p1", "some-fact"), state)
    assert events == [ProposalAccepted(proposal_id="p1", fact_id="some-fact")]
    state = review.evolve(state, events[0], "d")
    assert state.state_of("p1") == "accepted"
    with pytest.raises(review.ProposalDecided):
        review.decide(review.AcceptProposal("p1", "some-fact"), state)
    with pytest.raises(review.ProposalDecided):
        review.decide(review.RejectProposal("p1", "duplicate"), state)


def test_a_rejection_needs_a_reason() -> None:
    with pytest.raises(FactError):
        review.decide(review.RejectProposal("p1", "   "), received())
    events = review.decide(review.RejectProposal("p1", " not an event "), received())
    assert events == [ProposalRejected(proposal_id="p1", reason="not an event")]


def test_an_unknown_proposal_or_document_is_not_found() -> None:
    with pytest.raises(review.ProposalNotFound):
        review.decide(review.AcceptProposal("p9", "x"), received())
    with pytest.raises(review.DocumentNotFound):
        review.decide(review.AcceptProposal("p1", "x"), None)


# --- what accepting does to the timeline -------------------------------------------------


def test_accepting_a_new_fact_records_it_citing_the_document() -> None:
    corrections = review.Corrections(
        id="fifth-central-asia-china-summit-2026",
        title={"en": "Fifth Central Asia–China summit"},
        summary={"en": "The fifth summit.", "ru": "Пятый саммит."},
    )
    (command,) = review.fact_commands(DOCUMENT, PROPOSAL, corrections, None)
    assert isinstance(command, RecordFact)
    fact = command.fact
    assert fact.title == {
        "ru": "Пятый саммит «Центральная Азия – Китай»",
        "en": "Fifth Central Asia–China summit",
    }
    assert fact.date.edtf == "2026-06-03"
    (source,) = fact.sources
    assert (source.title, source.date, source.locator) == (
        "Пресс-релиз МИД",
        dt.date(2026, 3, 2),
        "paragraph 2",
    )
    assert PROPOSAL.evidence.quote in (source.note or "")
    assert decider.decide(command, None)  # a fact the rules accept


def test_accepting_a_new_fact_without_what_the_text_lacks_is_refused_by_the_rules() -> None:
    (command,) = review.fact_commands(DOCUMENT, PROPOSAL, review.Corrections(id="x-2026"), None)
    with pytest.raises(FactError) as refused:
        decider.decide(command, None)
    assert refused.value.field == "title.en"


def test_accepting_a_refinement_reschedules_and_cites() -> None:
    state = decider.FactState(stored("2026-06"))
    commands = review.fact_commands(DOCUMENT, PROPOSAL, review.Corrections(), "refines")
    assert [type(c) for c in commands] == [ChangeFact, CiteSource]
    events = []
    for command in commands:
        new = decider.decide(command, state)
        state = decider.fold(new, state)
        events += new
    assert [type(e).__name__ for e in events] == ["FactRescheduled", "SourceCited"]
    assert state is not None and state.fact.date.edtf == "2026-06-03"


@pytest.mark.parametrize("relation", ["refines", "conflicts", "same"])
def test_a_correction_in_one_language_leaves_the_stored_fact_s_other_language(
    relation: str,
) -> None:
    """Correcting the English summary when accepting must not write the proposal's Russian
    quote over the stored Russian summary (nor a generated title over a stored one)."""
    state = decider.FactState(stored("2026-06-03" if relation == "same" else "2026-06"))
    # As the reader proposes: a generated English title, the quote as the Russian summary
    proposed = msgspec.structs.replace(
        PROPOSAL.fact,
        title={"en": "Fifth summit in Astana", "ru": "Пятый саммит «Центральная Азия – Китай»"},
        summary={"ru": PROPOSAL.evidence.quote},
    )
    proposal = msgspec.structs.replace(PROPOSAL, fact=proposed)
    corrections = review.Corrections(
        summary={"en": "The fifth summit, in Astana."}, title={"ru": "Пятый саммит в Астане"}
    )
    for command in review.fact_commands(DOCUMENT, proposal, corrections, relation):
        state = decider.fold(decider.decide(command, state), state)
    assert state is not None
    assert state.fact.summary == {"en": "The fifth summit, in Astana.", "ru": "Саммит."}
    assert state.fact.title == {
        "en": "Fifth Central Asia–China summit",
        "ru": "Пятый саммит в Астане",
    }


def test_accepting_the_same_fact_only_cites_the_document() -> None:
    commands = review.fact_commands(DOCUMENT, PROPOSAL, review.Corrections(), "same")
    assert [type(c) for c in commands] == [CiteSource]


# --- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proposed", "stored_edtf", "expected"),
    [
        ("2026-06-03", "2026-06-03", "same"),
        ("2026-06-03", "2026-06", "refines"),
        ("2018-03-15", "2018-03", "refines"),
        ("2026-06", "2026-06-03", "same"),  # less precise, consistent
        ("2026", "2026-21", "same"),
        ("2026-04-03", "2026-21", "refines"),
        ("2026-06-03", "2026-21", "conflicts"),  # spring is March to May
        ("2026-09-10", "2026-06", "conflicts"),
        ("2027", "2026", "conflicts"),
        ("2030", "../2035", "refines"),
        ("2036", "../2035", "conflicts"),
    ],
)
def test_relation_of_dates(proposed: str, stored_edtf: str, expected: str) -> None:
    assert relation(parse_edtf(proposed), parse_edtf(stored_edtf)) == expected


def test_the_same_summit_is_found_and_its_relation_named() -> None:
    others = [
        stored("2024", id="fourth-summit", title={"en": "Fourth Central Asia–China summit"}),
        stored("2026-06", id="c5-1", title={"en": "C5+1 summit"}, participants=["US"]),
        stored("2026-06"),
    ]
    assert relate(PROPOSAL.fact, others) == Match(
        fact_id="fifth-central-asia-china-summit-2026", relation="refines"
    )


@pytest.mark.parametrize(
    "other",
    [
        {"kind": "forum"},
        {"title": {"ru": "Шестой саммит «Центральная Азия – Китай»", "en": "Sixth summit"}},
        {"place": Place(name={"en": "Dushanbe", "ru": "Душанбе"}, country="TJ")},
        {"title": {"ru": "Саммит ШОС", "en": "SCO summit"}, "participants": ["RU", "IN"]},
        {  # another format's summit in the same city
            "title": {"en": "First Central Asia + Italy summit in Astana", "ru": "Саммит"},
            "participants": ["KZ", "KG", "TJ", "TM", "UZ", "IT"],
        },
    ],
)
def test_a_different_event_is_not_taken_for_the_same(other: dict[str, object]) -> None:
    assert relate(PROPOSAL.fact, [stored("2026-06", **other)]) is None
