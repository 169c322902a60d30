"""The seed loader, on both backends: the bundled files load right, and loading is idempotent."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml

from events.handler import load as load_fact
from events.model import FactRescheduled, FactRevised
from events.store import EventStore
from seeds import loader
from tests.factories import fact_data


async def fact(store: EventStore, fact_id: str):
    state, _ = await load_fact(store, fact_id)
    assert state is not None, f"{fact_id} was not loaded"
    return state.fact


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """An editable copy of the bundled seed files."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for path in loader.default_paths():
        shutil.copy(path, folder / path.name)
    return folder


async def test_the_bundled_files_load(store: EventStore):
    report = await loader.load(store, loader.default_paths())
    assert report.files == 2
    assert report.recorded == report.facts >= 15
    assert await store.head() == report.events
    assert await store.verify() is None
    log = await store.read_all()
    assert {e.actor for e in log} == {"seed"}


async def test_specific_facts_come_out_right(store: EventStore):
    await loader.load(store, loader.default_paths())

    treaty = await fact(store, "kyrgyzstan-tajikistan-state-border-treaty-2025")
    bounds = treaty.bounds()
    assert (bounds.start, bounds.end, bounds.precision) == (
        dt.date(2025, 3, 13),
        dt.date(2025, 3, 13),
        "day",
    )
    assert treaty.kind == "treaty" and treaty.status == "held"
    assert set(treaty.participants) == {"KG", "TJ"}
    assert treaty.place is None  # the text names no place: none is invented

    samarkand = await fact(store, "first-central-asia-eu-summit-2025")
    bounds = samarkand.bounds()
    assert (bounds.start, bounds.end, bounds.precision) == (
        dt.date(2025, 4, 3),
        dt.date(2025, 4, 4),
        "day",
    )
    assert bounds.label == {"en": "3–4 April 2025", "ru": "3–4 апреля 2025"}
    assert samarkand.place.country == "UZ" and samarkand.place.name["en"] == "Samarkand"
    assert "EU" in samarkand.participants

    first = await fact(store, "first-consultative-meeting-central-asia-2018")
    bounds = first.bounds()
    assert (bounds.start, bounds.end, bounds.precision) == (
        dt.date(2018, 3, 1),
        dt.date(2018, 3, 31),
        "month",
    )
    assert first.place.country == "KZ"
    assert first.sources[0].note  # the city is inferred from "the capital of Kazakhstan"

    ministers = await fact(store, "fourth-central-asia-italy-foreign-ministers-conference-2026")
    assert (ministers.bounds().precision, ministers.status) == ("season", "planned")
    assert ministers.bounds().label["en"] == "spring 2026"
    assert ministers.place.country == "IT"

    summit_2027 = await fact(store, "next-central-asia-italy-summit-kyrgyzstan-2027")
    assert (summit_2027.bounds().precision, summit_2027.status) == ("year", "planned")
    assert summit_2027.place.country == "KG"

    water = await fact(store, "central-asia-italy-water-hydropower-roundtable-2026")
    assert (water.bounds().precision, water.bounds().start, water.status) == (
        "by",
        None,
        "proposed",
    )
    assert water.bounds().end == dt.date(2026, 12, 31)

    programme = await fact(store, "central-asia-trade-economic-cooperation-programme-2035")
    assert (programme.bounds().precision, programme.bounds().label["en"]) == ("until", "until 2035")

    tashkent = await fact(store, "seventh-consultative-meeting-central-asia-2025")
    assert tashkent.date.edtf == "2025-11-16"
    assert "AZ" in tashkent.participants
    assert any("inferred" in (s.note or "") for s in tashkent.sources)
    assert tashkent.sources[0].title.startswith("Седьмая Консультативная встреча")


async def test_a_second_run_appends_nothing(store: EventStore):
    await loader.load(store, loader.default_paths())
    head = await store.head()
    report = await loader.load(store, loader.default_paths())
    assert (report.recorded, report.changed, report.events) == (0, 0, 0)
    assert await store.head() == head


def edit(path: Path, fact_id: str, **changes) -> None:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in content["facts"]:
        if item["id"] == fact_id:
            item.update(changes)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


async def test_an_edited_date_becomes_a_reschedule(store: EventStore, seed_copy: Path):
    files = sorted(seed_copy.glob("*.yaml"))
    await loader.load(store, files)
    target = seed_copy / "central-asia-italy-summit-2025.yaml"
    edit(target, "next-central-asia-italy-summit-kyrgyzstan-2027", date={"edtf": "2027-21"})
    report = await loader.load(store, files)
    assert (report.changed, report.events) == (1, 1)
    stream = await store.read_stream("fact-next-central-asia-italy-summit-kyrgyzstan-2027")
    assert [r.version for r in stream] == [1, 2]
    assert stream[-1].event() == FactRescheduled(date=stream[-1].event().date)
    assert stream[-1].event().date.edtf == "2027-21"
    assert (await loader.load(store, files)).events == 0


async def test_edited_text_becomes_a_revision(store: EventStore, seed_copy: Path):
    files = sorted(seed_copy.glob("*.yaml"))
    await loader.load(store, files)
    target = seed_copy / "seventh-consultative-meeting-2025.yaml"
    title = {
        "en": "Seventh Consultative Meeting, Tashkent",
        "ru": "Седьмая Консультативная встреча",
    }
    edit(target, "seventh-consultative-meeting-central-asia-2025", title=title)
    await loader.load(store, files)
    last = (await store.read_stream("fact-seventh-consultative-meeting-central-asia-2025"))[-1]
    assert isinstance(last.event(), FactRevised)
    assert (await fact(store, "seventh-consultative-meeting-central-asia-2025")).title == title


async def test_a_broken_file_stores_nothing(store: EventStore, seed_copy: Path):
    target = seed_copy / "central-asia-italy-summit-2025.yaml"
    edit(target, "first-central-asia-eu-summit-2025", participants=["UZ", "XX"])
    with pytest.raises(loader.SeedError) as error:
        await loader.load(store, sorted(seed_copy.glob("*.yaml")))
    message = str(error.value)
    assert "central-asia-italy-summit-2025.yaml" in message
    assert "first-central-asia-eu-summit-2025" in message
    assert "participants[1]" in message
    assert await store.head() == 0


async def test_an_impossible_date_names_the_field(store: EventStore, seed_copy: Path):
    target = seed_copy / "seventh-consultative-meeting-2025.yaml"
    edit(target, "first-consultative-meeting-central-asia-2018", date={"edtf": "2018-02-30"})
    with pytest.raises(loader.SeedError, match=r"first-consultative-meeting.*date\.edtf"):
        await loader.load(store, [target])
    assert await store.head() == 0


async def test_json_lines_bulk_load(store: EventStore, tmp_path: Path):
    path = tmp_path / "bulk.jsonl"
    lines = [json.dumps(fact_data(f"bulk-{i}", date={"edtf": f"{2000 + i}"})) for i in range(50)]
    path.write_text("\n".join(lines) + "\n")
    report = await loader.load(store, [path])
    assert (report.recorded, report.events) == (50, 50)
    assert (await fact(store, "bulk-7")).date.edtf == "2007"
    assert (await loader.load(store, [path])).events == 0

    lines[10] = lines[10].replace('"kind": "summit"', '"kind": "picnic"')
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(loader.SeedError, match=r"broken.jsonl: fact 'bulk-10': kind"):
        await loader.load(store, [broken])
