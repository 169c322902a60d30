"""Export, import and verify: the log moves between databases byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from events.db import create_engine
from events.decider import ChangeFact, RecordFact, RetractFact
from events.facts import DateInput
from events.handler import handle
from events.store import EventStore
from events.transfer import TransferError, export_file, import_file
from projections import timeline
from seeds import loader
from service import migrate
from service.cli import main
from service.wiring import open_store
from tests.factories import make_fact, read_model, rebuild


async def some_history(store: EventStore) -> None:
    for name in ("alpha", "beta", "gamma"):
        await handle(store, name, RecordFact(make_fact(name)), actor="editor")
    await handle(store, "alpha", ChangeFact(date=DateInput("2026-21")), actor="e", reason="moved")
    await handle(store, "beta", ChangeFact(title={"ru": "Новое «название»"}), actor="e")
    await handle(store, "gamma", RetractFact(), actor="e", reason="duplicate")


async def test_export_import_export_is_byte_identical(store: EventStore, tmp_path: Path):
    await some_history(store)
    first = tmp_path / "first.jsonl"
    assert await export_file(store, first) == 6

    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    migrate.upgrade(target_url)
    engine = create_engine(target_url)
    copy = EventStore(engine)
    assert await import_file(copy, first) == 6
    second = tmp_path / "second.jsonl"
    await export_file(copy, second)
    assert first.read_bytes() == second.read_bytes()
    assert await copy.read_all() == await store.read_all()
    assert await copy.verify() is None
    await engine.dispose()


async def test_import_into_a_log_it_does_not_continue_is_refused(store: EventStore, tmp_path):
    await some_history(store)
    path = tmp_path / "log.jsonl"
    await export_file(store, path)
    with pytest.raises(TransferError, match="does not follow"):
        await import_file(store, path)
    assert await store.head() == 6


async def test_a_doctored_export_is_refused_whole(store: EventStore, tmp_path: Path):
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    migrate.upgrade(source_url)
    engine = create_engine(source_url)
    source = EventStore(engine)
    await some_history(source)
    path = tmp_path / "log.jsonl"
    await export_file(source, path)
    await engine.dispose()
    path.write_text(path.read_text().replace('"actor":"e"', '"actor":"mallory"', 1))
    with pytest.raises(TransferError, match="breaks the hash chain"):
        await import_file(store, path)
    assert await store.head() == 0


def test_cli_export_import_verify(database_url: str, tmp_path: Path, monkeypatch):
    import asyncio

    async def fill() -> None:
        engine = create_engine(database_url)
        await some_history(EventStore(engine))
        await engine.dispose()

    asyncio.run(fill())
    runner = CliRunner()
    monkeypatch.setenv("TIMELINE_DATABASE_URL", database_url)
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 0, result.output
    assert "6 events" in result.output
    export = tmp_path / "export.jsonl"
    assert runner.invoke(main, ["export", str(export)]).exit_code == 0

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("TIMELINE_DATABASE_URL", empty)
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(main, ["import", str(export)])
    assert result.exit_code == 0, result.output
    again = tmp_path / "again.jsonl"
    runner.invoke(main, ["export", str(again)])
    assert again.read_bytes() == export.read_bytes()


async def test_a_log_with_seed_records_moves_and_replays(database_url: str, tmp_path: Path):
    """`SeedFileLoaded` records (seeds/loader.py) travel like any event; projections skip them."""
    source = open_store(database_url)
    await loader.load(source, loader.default_paths())
    fact_id = "next-central-asia-italy-summit-kyrgyzstan-2027"
    await handle(source, fact_id, ChangeFact(title={"en": "Edited"}), actor="editor")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in loader.default_paths():
        text = path.read_text(encoding="utf-8")
        (seeds / path.name).write_text(text.replace('edtf: "2027"', 'edtf: "2027-21"'))
    await loader.load(source, sorted(seeds.glob("*.yaml")))
    log = await source.read_all(limit=None)
    assert "SeedFileLoaded.v1" in {r.type for r in log}
    exported = tmp_path / "log.jsonl"
    await export_file(source, exported)
    await source.engine.dispose()

    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    migrate.upgrade(target_url)
    copy = open_store(target_url)
    assert await import_file(copy, exported) == len(log)
    assert await copy.verify() is None
    assert await copy.read_all(limit=None) == log
    imported = await read_model(copy.engine)
    await rebuild(copy)
    assert await read_model(copy.engine) == imported
    row = await copy.database.run(timeline.fact_row, fact_id)
    assert row is not None and row.fact().title["en"] == "Edited"
    assert row.fact().date.edtf == "2027-21"
    await copy.engine.dispose()
