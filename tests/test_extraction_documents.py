"""Whole documents through seeds.extraction.extract: every dated fact, and the seed facts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from events.dates import parse_edtf
from events.facts import (
    KINDS,
    STATUSES,
    validate_country,
    validate_participants,
)
from seeds.extraction import extract

DOCUMENTS = Path(__file__).parent / "data" / "documents"
SEEDS = Path(__file__).parent.parent / "seeds"
OWN = sorted(DOCUMENTS.glob("*.txt"))


def _expected(path: Path) -> dict:
    return yaml.safe_load(path.with_suffix(".yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", OWN, ids=[p.stem for p in OWN])
def test_every_dated_fact_of_a_document_is_proposed_and_nothing_else(path: Path) -> None:
    expected = _expected(path)
    document = extract(
        path.read_text(encoding="utf-8"), lang=expected["lang"], document_date=expected["date"]
    )
    got = [
        (
            p.date.edtf,
            p.kind,
            p.status,
            p.place.country if p.place else None,
            bool(p.inferred),
        )
        for p in document.proposals
    ]
    want = [
        (f["edtf"], f["kind"], f["status"], f["place"], f["inferred"]) for f in expected["facts"]
    ]
    assert got == want


@pytest.mark.parametrize("path", OWN, ids=[p.stem for p in OWN])
def test_proposals_obey_the_fact_rules_and_quote_their_paragraph(path: Path) -> None:
    expected = _expected(path)
    document = extract(
        path.read_text(encoding="utf-8"), lang=expected["lang"], document_date=expected["date"]
    )
    for proposal in document.proposals:
        assert proposal.kind in KINDS
        assert proposal.status in STATUSES
        validate_participants(proposal.participants)
        if proposal.place and proposal.place.country:
            validate_country("place.country", proposal.place.country)
        paragraph = document.paragraphs[proposal.evidence.paragraph - 1]
        assert proposal.evidence.quote in paragraph
        assert expected["lang"] in proposal.title
        for field in proposal.generated:
            assert field.startswith("title.") and field[6:] in proposal.title
        msgspec.json.encode(proposal)  # serialisable as the API will send it


def test_a_date_completed_from_the_document_says_so() -> None:
    text = "ТАШКЕНТ, 12 марта — Агентство. Форум пройдет в Ташкенте 3 и 4 апреля."
    (proposal,) = extract(text, lang="ru", document_date=dt.date(2026, 3, 12)).proposals
    assert proposal.date.edtf == "2026-04-03/2026-04-04"
    assert proposal.inferred == ["year from the document's date"]
    assert proposal.label["en"] == "3–4 April 2026"
    assert proposal.bounds == {"start": "2026-04-03", "end": "2026-04-04", "precision": "day"}


def test_statistics_and_durations_are_not_facts() -> None:
    text = (
        "Товарооборот в 2024 году вырос на 20%. Отношения развиваются более 30 лет.\n\n"
        "Trade grew 20% in 2024. Relations have deepened for the past decade."
    )
    assert extract(text, lang="ru", document_date=dt.date(2025, 1, 1)).proposals == []
    assert extract(text, lang="en", document_date=dt.date(2025, 1, 1)).proposals == []


def test_places_in_any_case_resolve_to_a_name_and_country() -> None:
    text = (
        "Саммит состоялся 5 мая 2025 года в туркменском городе Аваза. "
        "Встреча прошла 6 мая 2025 года в столице Казахстана."
    )
    proposals = extract(text, lang="ru", document_date=dt.date(2025, 5, 7)).proposals
    assert [(p.place.name["en"], p.place.country) for p in proposals if p.place] == [
        ("Avaza", "TM"),
        ("Astana", "KZ"),
    ]
    assert "city: the capital of the country the text names" in proposals[1].inferred


def _seed_pairs() -> list[tuple[Path, dict]]:
    pairs = []
    for seed in sorted(SEEDS.glob("*.yaml")):
        data = yaml.safe_load(seed.read_text(encoding="utf-8"))
        source = DOCUMENTS / "seed-sources" / f"{seed.stem}.txt"
        pairs.append((source, data))
    return pairs


@pytest.mark.parametrize(("source", "seed"), _seed_pairs(), ids=lambda v: getattr(v, "stem", ""))
def test_the_seed_documents_yield_every_seed_facts_date(source: Path, seed: dict) -> None:
    text = source.read_text(encoding="utf-8")
    assert text.splitlines()[0] == seed["document"]["title"]  # the seed file's own document
    document = extract(text, lang="ru", document_date=seed["document"]["date"])
    proposed = [p.date.edtf for p in document.proposals]
    for fact in seed["facts"]:
        assert fact["date"]["edtf"] in proposed, fact["id"]
    # kind and place as the seed editor read them, but for two the text words otherwise:
    # the Astana summit is called «встрече» (a meeting) in its sentence, and the next
    # summit's host is said only as «провести у себя» (to host it at home)
    differ = set()
    for fact in seed["facts"]:
        place = fact.get("place", {}).get("country")
        if not any(
            p.date.edtf == fact["date"]["edtf"]
            and p.kind == fact["kind"]
            and (p.place.country if p.place else None) == place
            for p in document.proposals
        ):
            differ.add(fact["id"])
    assert differ <= {
        "first-central-asia-italy-summit-2025",
        "next-central-asia-italy-summit-kyrgyzstan-2027",
    }


_PIECES = [
    "30 мая 2025 года",
    "3-4 апреля",
    "с 30 декабря по 2 января",
    "31 апреля 2025 года",
    "в феврале–январе",
    "к 2026 году",
    "до конца года",
    "зимой 2025 года",
    "в первом квартале",
    "саммит",
    "встреча состоялась",
    "пройдет",
    "в Астане",
    "в столице Казахстана",
    "Круглый стол",
    "The summit was held",
    "on Thursday, February 29",
    "December 31–1",
    "in Q4 9999",
    "by the end of the year",
    "ТАШКЕНТ, 16 ноября — Sputnik.",
    "«",
    ",",
    ".",
    "\n",
    "\n\n",
    " ",
]


@given(
    st.lists(st.sampled_from(_PIECES) | st.text(max_size=8), max_size=25),
    st.sampled_from(["ru", "en"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31)),
)
@settings(max_examples=100, deadline=None)
def test_any_text_gives_valid_proposals_or_none(pieces, lang, document_date) -> None:
    text = " ".join(pieces)
    document = extract(text, lang=lang, document_date=document_date)
    for proposal in document.proposals:
        assert parse_edtf(proposal.date.edtf).edtf == proposal.date.edtf
        assert proposal.kind in KINDS and proposal.status in STATUSES
        validate_participants(proposal.participants)
        assert proposal.evidence.quote in document.paragraphs[proposal.evidence.paragraph - 1]
