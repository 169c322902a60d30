"""The seed loader, on both backends: the bundled files load right, and loading is idempotent."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import shutil
from pathlib import Path

import pytest
import yaml
from litestar.testing import TestClient

from events.decider import RetractFact
from events.handler import handle
from events.handler import load as load_fact
from events.model import FactRescheduled, FactRevised, FactStatusChanged
from events.store import EventStore
from projections import timeline
from seeds import loader
from service.http.app import create_app
from service.jobs import tasks as jobs
from service.settings import Settings
from service.wiring import open_store
from tests.factories import fact_data, read_model, rebuild, seeded_with_token


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


# --- a seed run never reverts what others appended ---------------------------------------

CONFERENCE = "fourth-central-asia-italy-foreign-ministers-conference-2026"  # spring 2026, planned
SUMMIT_2027 = "next-central-asia-italy-summit-kyrgyzstan-2027"
ITALY_FILE = "central-asia-italy-summit-2025.yaml"
AFTER_SPRING = dt.date(2026, 6, 15)


async def elapse_on(store: EventStore, day: dt.date) -> list[str]:
    report = await jobs.mark_all(store, await jobs.candidates(store, day), day)
    return report.marked


async def row(store: EventStore, fact_id: str) -> timeline.Row:
    found = await store.database.run(timeline.fact_row, fact_id)
    assert found is not None
    return found


@pytest.fixture
async def service_store(database_url: str):
    """The store as the service runs it: the read model (and SEQUENCE) kept in each append."""
    store = open_store(database_url)
    yield store
    await store.engine.dispose()


async def test_seed_after_the_scheduler_appends_nothing(service_store: EventStore, seed_copy):
    store, files = service_store, sorted(seed_copy.glob("*.yaml"))
    await loader.load(store, files)
    assert await elapse_on(store, AFTER_SPRING) == [CONFERENCE]
    head, sequence = await store.head(), (await row(store, CONFERENCE)).sequence

    report = await loader.load(store, files)
    assert (report.changed, report.events) == (0, 0)
    assert await store.head() == head
    assert await elapse_on(store, AFTER_SPRING) == []  # no ping-pong with the scheduler
    conference = await row(store, CONFERENCE)
    assert (conference.status, conference.sequence) == ("elapsed", sequence)

    # Editing another fact of the same file changes only that fact.
    edit(seed_copy / ITALY_FILE, SUMMIT_2027, date={"edtf": "2027-21"})
    await loader.load(store, files)
    assert [r.stream_id for r in await store.read_all(after=head)] == [f"fact-{SUMMIT_2027}"]
    assert (await row(store, CONFERENCE)).status == "elapsed"


async def test_a_log_of_the_old_loader_needs_no_migration(service_store: EventStore, seed_copy):
    """The old loader set the conference back to planned after each elapse; the log shows it."""
    store, files = service_store, sorted(seed_copy.glob("*.yaml"))
    await loader.load(store, files)
    for _ in range(2):
        await elapse_on(store, AFTER_SPRING)
        version = (await row(store, CONFERENCE)).version
        await store.append(
            f"fact-{CONFERENCE}",
            [FactStatusChanged(status="planned")],
            expected_version=version,
            actor=loader.ACTOR,
        )
    await elapse_on(store, AFTER_SPRING)
    head = await store.head()
    assert (await loader.load(store, files)).events == 0
    assert await store.head() == head
    assert (await row(store, CONFERENCE)).status == "elapsed"


def test_seed_after_an_api_edit_keeps_the_edit(database_url: str, seed_copy: Path):
    files = sorted(seed_copy.glob("*.yaml"))
    token = asyncio.run(seeded_with_token(database_url))
    store_of = functools.partial(open_store, database_url, null_pool=True)

    async def seed(**expect: int) -> None:
        store = store_of()
        try:
            report = await loader.load(store, files)
        finally:
            await store.engine.dispose()
        assert {k: getattr(report, k) for k in expect} == expect

    async def history() -> list[tuple[str, str]]:
        store = store_of()
        try:
            return [(r.type, r.actor) for r in await store.read_stream(f"fact-{SUMMIT_2027}")]
        finally:
            await store.engine.dispose()

    app = create_app(Settings(database_url=database_url, db_null_pool=True))
    url = f"/api/v1/facts/{SUMMIT_2027}"
    with TestClient(app) as client:

        def patch(version: int, body: dict) -> None:
            headers = {"Authorization": f"Bearer {token}", "If-Match": f'"{version}"'}
            assert client.patch(url, json=body, headers=headers).status_code == 200

        def current() -> dict:
            return client.get(url, params={"lang": "en"}).json()

        patch(1, {"title": {"en": "Summit in Bishkek"}})
        asyncio.run(seed(changed=0, events=0))
        assert current()["title"] == "Summit in Bishkek"

        # The file changes another field: only that change is appended; the edit stays.
        edit(seed_copy / ITALY_FILE, SUMMIT_2027, date={"edtf": "2027-21"})
        asyncio.run(seed(changed=1))
        assert asyncio.run(history())[2:] == [("FactRescheduled.v1", "seed")]
        assert (current()["title"], current()["date"]["edtf"]) == ("Summit in Bishkek", "2027-21")
        asyncio.run(seed(events=0))  # and the next run knows the file had its own title

        # The editor changes the date again: the unchanged file leaves it alone.
        patch(3, {"date": {"edtf": "2027-09"}})
        asyncio.run(seed(events=0))
        assert current()["date"]["edtf"] == "2027-09"

        # The file changes the field the editor changed: the file's new decision applies.
        content = yaml.safe_load((seed_copy / ITALY_FILE).read_text(encoding="utf-8"))
        (title,) = [f["title"] for f in content["facts"] if f["id"] == SUMMIT_2027]
        edit(seed_copy / ITALY_FILE, SUMMIT_2027, title={**title, "en": "Summit in Cholpon-Ata"})
        asyncio.run(seed(changed=1))
        assert asyncio.run(history())[-1] == ("FactRevised.v1", "seed")
        assert (current()["title"], current()["date"]["edtf"]) == (
            "Summit in Cholpon-Ata",
            "2027-09",
        )
        ru = client.get(url, params={"lang": "ru"}).json()["title"]
        assert ru == title["ru"]  # only the language the file changed
        asyncio.run(seed(events=0))

        async def log_checks() -> None:
            store = store_of()
            try:
                records = await store.read_stream(f"seed-file-{ITALY_FILE}")
                assert records and {r.type for r in records} == {"SeedFileLoaded.v1"}
                assert await store.verify() is None
                before = await read_model(store.engine)
                await rebuild(store)  # the projection skips the records' stream
                assert await read_model(store.engine) == before
            finally:
                await store.engine.dispose()

        asyncio.run(log_checks())


async def test_a_retracted_fact_stays_retracted(store: EventStore, seed_copy: Path):
    files = sorted(seed_copy.glob("*.yaml"))
    await loader.load(store, files)
    await handle(store, SUMMIT_2027, RetractFact(), actor="editor", reason="duplicate")
    head = await store.head()
    assert (await loader.load(store, files)).events == 0  # was refused whole before
    assert await store.head() == head

    edit(seed_copy / ITALY_FILE, SUMMIT_2027, date={"edtf": "2027-21"})
    with pytest.raises(loader.SeedError, match=f"{ITALY_FILE}: fact '{SUMMIT_2027}': .*retracted"):
        await loader.load(store, files)
    assert await store.head() == head
