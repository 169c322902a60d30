"""The seed files: every fact in `seeds/*.yaml` obeys the fact rules, and key facts say
what their source documents say (dates at the stated precision, statuses, participants).

Pure: no database. Each file is read the way the loader reads it: the document header's
title and date are copied into every source of every fact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from events.facts import Fact, validate_fact

SEED_DIR = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILES = sorted(SEED_DIR.glob("*.yaml"))


def _load(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(content, dict), f"{path.name}: expected a mapping"
    document = content["document"]
    facts = content["facts"]
    assert isinstance(facts, list) and facts, f"{path.name}: expected a non-empty list `facts`"
    return document, facts


def _with_document(raw: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    sources = [
        {"title": document["title"], "date": document["date"], **source}
        for source in raw.get("sources", [])
    ]
    return {**raw, "sources": sources}


def _facts(path: Path) -> list[Fact]:
    document, raws = _load(path)
    return [msgspec.convert(_with_document(raw, document), Fact) for raw in raws]


@pytest.fixture(scope="module")
def facts_by_id() -> dict[str, Fact]:
    return {fact.id: fact for path in SEED_FILES for fact in _facts(path)}


def test_seed_files_exist() -> None:
    names = {path.name for path in SEED_FILES}
    assert "central-asia-italy-summit-2025.yaml" in names
    assert "seventh-consultative-meeting-2025.yaml" in names


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_document_header(path: Path) -> None:
    document, _ = _load(path)
    assert set(document) <= {"title", "date", "note", "url"}
    assert isinstance(document["title"], str) and document["title"].strip()
    assert isinstance(document["date"], dt.date)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_every_fact_is_valid(path: Path) -> None:
    document, raws = _load(path)
    for raw in raws:
        fact = msgspec.convert(_with_document(raw, document), Fact)
        validate_fact(fact)
        assert fact.sources, f"{fact.id}: cites no source"
        for source in fact.sources:
            assert source.title == document["title"]
            assert source.date == document["date"]
            assert source.locator


def test_ids_unique_across_files() -> None:
    ids = [fact.id for path in SEED_FILES for fact in _facts(path)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates


def test_border_treaty(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["kyrgyzstan-tajikistan-state-border-treaty-2025"]
    assert fact.date.edtf == "2025-03-13"
    assert fact.kind == "treaty"
    assert fact.status == "held"
    assert set(fact.participants) == {"KG", "TJ"}
    assert fact.place is None


def test_first_central_asia_italy_summit(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["first-central-asia-italy-summit-2025"]
    assert fact.date.edtf == "2025-05-30"
    assert fact.status == "held"
    assert fact.place is not None and fact.place.country == "KZ"
    assert set(fact.participants) == {"KZ", "KG", "TJ", "TM", "UZ", "IT"}


def test_samarkand_summit(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["first-central-asia-eu-summit-2025"]
    assert fact.date.edtf == "2025-04-03/2025-04-04"
    assert fact.status == "held"
    assert fact.place is not None and fact.place.name["en"] == "Samarkand"
    assert "EU" in fact.participants


def test_first_consultative_meeting(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["first-consultative-meeting-central-asia-2018"]
    assert fact.date.edtf == "2018-03"
    assert fact.status == "held"
    assert fact.place is not None and fact.place.name["en"] == "Astana"
    # The city is inferred from "the capital of Kazakhstan": a source note must say so.
    assert any(source.note for source in fact.sources)


def test_seventh_consultative_meeting(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["seventh-consultative-meeting-central-asia-2025"]
    assert fact.date.edtf == "2025-11-16"
    assert fact.status == "held"
    assert set(fact.participants) == {"UZ", "KZ", "KG", "TJ", "TM", "AZ"}
    # The year is not in the report: a source note must say it is inferred.
    assert any(source.note and "2025" in source.note for source in fact.sources)


def test_foreign_ministers_conference_spring_2026(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["fourth-central-asia-italy-foreign-ministers-conference-2026"]
    assert fact.date.edtf == "2026-21"
    assert fact.status == "planned"
    assert fact.kind == "conference"
    assert fact.place is not None and fact.place.country == "IT"


def test_next_summit_2027(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["next-central-asia-italy-summit-kyrgyzstan-2027"]
    assert fact.date.edtf == "2027"
    assert fact.status == "planned"
    assert fact.place is not None and fact.place.country == "KG"


def test_roundtables_proposed(facts_by_id: dict[str, Fact]) -> None:
    water = facts_by_id["central-asia-italy-water-hydropower-roundtable-2026"]
    assert water.date.edtf == "[..2026]"
    assert water.status == "proposed"
    assert water.kind == "roundtable"
    energy = facts_by_id["central-asia-italy-energy-cooperation-roundtable-2027"]
    assert energy.date.edtf == "2027"
    assert energy.status == "proposed"


def test_programme_until_2035(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["central-asia-trade-economic-cooperation-programme-2035"]
    assert fact.date.edtf == "../2035"
    assert fact.status == "proposed"
    assert fact.kind == "programme"
    assert fact.place is None


def test_un_general_assembly_initiative(facts_by_id: dict[str, Fact]) -> None:
    fact = facts_by_id["mirziyoyev-un-general-assembly-consultative-meetings-initiative-2017"]
    assert fact.date.edtf == "2017-09"
    assert fact.kind == "initiative"
    assert set(fact.participants) == {"UZ", "UN"}
    assert fact.place is not None and fact.place.country == "US"
