"""The store on a SQLite file: the contract in each mode, and what only SQLite does."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

from events.db import create_engine
from events.store import NO_STREAM, EventStore, RecordedEvent
from events.store import sqlite as sqlite_backend
from projections import documents, timeline
from service import migrate
from tests.store_contract import StoreContract, reschedule


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'timeline.db'}"
    migrate.upgrade(url)
    return url


class TestSqlite(StoreContract):
    """At synchronous=NORMAL, without projectors: appends on the loop, guessed in one
    statement."""

    backend = "sqlite"

    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return _migrated(tmp_path)


class TestSqliteWithProjectors(TestSqlite):
    """The service's store: each append in BEGIN IMMEDIATE with the read models."""

    projectors = (timeline.project, documents.project)


class TestSqliteFull(TestSqlite):
    """synchronous=FULL: every append in the writer thread (each commit flushes)."""

    synchronous = "FULL"


@pytest.mark.parametrize(
    ("synchronous", "setting", "thread"),
    [("NORMAL", 1, "MainThread"), ("FULL", 2, "event-store-writer")],
)
async def test_appends_run_on_the_loop_at_normal_and_in_the_thread_at_full(
    tmp_path: Path, synchronous: str, setting: int, thread: str
):
    threads: list[str] = []

    def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
        threads.append(threading.current_thread().name)

    engine = create_engine(_migrated(tmp_path), sqlite_synchronous=synchronous)
    store = EventStore(engine, projectors=[project])
    for _ in range(3):
        await store.append("s", [reschedule("2026")], actor="a")
    assert [name.split("_")[0] for name in threads] == [thread] * 3
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == setting
    await store.close()
    await engine.dispose()


def _checkpoints_given_time(monkeypatch) -> None:
    """The writer thread runs each checkpoint it is asked for before the loop's next append,
    as it does when the loop has requests to wait for: how soon it gets the GIL from a loop
    doing nothing but append is up to the machine (a busy one starved it for 400 appends)."""
    committed_here = sqlite_backend._Writers.committed_here

    def given_time(writers: sqlite_backend._Writers) -> None:
        committed_here(writers)
        if writers.checkpointing is not None:
            writers.checkpointing.result()

    monkeypatch.setattr(sqlite_backend._Writers, "committed_here", given_time)


async def test_sqlite_checkpoints_keep_the_wal_small(tmp_path, monkeypatch):
    """The loop's writer runs no checkpoint; the writer thread does, so the WAL is reused."""
    monkeypatch.setattr(sqlite_backend._Writers, "CHECKPOINT_AFTER", 50)
    monkeypatch.setattr(sqlite_backend._Writers, "WAL_FRAMES_MAX", 100)
    _checkpoints_given_time(monkeypatch)
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    store = EventStore(engine)
    for i in range(600):  # about two WAL frames (8 KB) each
        await store.append(f"s{i}", [reschedule("2026")], NO_STREAM, actor="a")
    # Never checkpointed, the WAL would hold every commit: about 5 MB. Past 100 frames, the
    # next append and a checkpoint go to the thread, and the WAL starts again.
    assert (tmp_path / "wal.db-wal").stat().st_size < 1_500_000
    assert await store.head() == 600 and await store.verify() is None
    await store.close()
    await engine.dispose()


async def test_after_a_checkpoint_leaves_a_long_wal_the_next_append_goes_to_the_thread(
    tmp_path, monkeypatch
):
    """Appends beside every checkpoint would never let the WAL start again: once one finds
    it past WAL_FRAMES_MAX, the next append runs in the thread, with a checkpoint after it."""
    monkeypatch.setattr(sqlite_backend._Writers, "CHECKPOINT_AFTER", 10)
    monkeypatch.setattr(sqlite_backend._Writers, "WAL_FRAMES_MAX", 5)  # ten appends pass it
    _checkpoints_given_time(monkeypatch)
    checkpoints_after: list[int] = []
    checkpoint_if_due = sqlite_backend._Writers.checkpoint_if_due

    def counted(writers: sqlite_backend._Writers) -> None:
        if writers.wal_too_long:
            checkpoints_after.append(len(threads))
        checkpoint_if_due(writers)

    monkeypatch.setattr(sqlite_backend._Writers, "checkpoint_if_due", counted)
    threads: list[str] = []

    def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
        threads.append(threading.current_thread().name.split("_")[0])

    engine = create_engine(_migrated(tmp_path))
    store = EventStore(engine, projectors=[project])
    for i in range(12):
        await store.append(f"s{i}", [reschedule("2026")], NO_STREAM, actor="a")
    await store.close()
    loop, thread = "MainThread", "event-store-writer"
    assert threads == [loop] * 10 + [thread, loop]
    assert checkpoints_after == [11]  # the long WAL's checkpoint, after the thread's append
    await engine.dispose()


async def test_appends_stay_on_the_loop_while_the_thread_checkpoints(tmp_path, monkeypatch):
    """A due checkpoint holds up no append: it runs in the thread beside them."""
    monkeypatch.setattr(sqlite_backend._Writers, "CHECKPOINT_AFTER", 5)
    checkpoints: list[str] = []
    checkpoint = sqlite_backend._Writers._checkpoint_beside_appends

    def counted(writers: sqlite_backend._Writers) -> None:
        checkpoints.append(threading.current_thread().name)
        checkpoint(writers)

    monkeypatch.setattr(sqlite_backend._Writers, "_checkpoint_beside_appends", counted)
    threads: list[str] = []

    def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
        threads.append(threading.current_thread().name)

    engine = create_engine(_migrated(tmp_path))
    store = EventStore(engine, projectors=[project])
    for i in range(40):
        await store.append(f"s{i}", [reschedule("2026")], NO_STREAM, actor="a")
    await store.close()  # after the thread's last checkpoint
    assert threads == ["MainThread"] * 40
    assert checkpoints and {name.split("_")[0] for name in checkpoints} == {"event-store-writer"}
    assert await store.head() == 40 and await store.verify() is None
    await engine.dispose()


async def test_a_store_dropped_while_its_thread_checkpoints(tmp_path, monkeypatch):
    """The garbage collector closes a dropped store's writers, but the thread's connection
    only after its checkpoint (closing a connection in use crashed the process)."""
    monkeypatch.setattr(sqlite_backend._Writers, "CHECKPOINT_AFTER", 5)
    checkpoint = sqlite_backend._Writers._checkpoint_beside_appends
    started = threading.Event()
    failures: list[Exception] = []

    def slow(writers: sqlite_backend._Writers) -> None:
        started.set()
        time.sleep(0.05)  # still running when the store is collected
        try:
            checkpoint(writers)
        except Exception as exc:
            failures.append(exc)

    monkeypatch.setattr(sqlite_backend._Writers, "_checkpoint_beside_appends", slow)
    engine = create_engine(_migrated(tmp_path))
    for round_ in range(3):
        started.clear()
        store = EventStore(engine)
        for i in range(5):
            await store.append(f"s{round_}-{i}", [reschedule("2026")], NO_STREAM, actor="a")
        assert started.wait(5)
        del store
        gc.collect()
    await asyncio.sleep(0.3)  # the threads' last checkpoints and closes
    assert failures == []
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("SELECT count(*) FROM events")).scalar() == 15
    await engine.dispose()


async def test_a_closed_store_opens_its_writers_again(tmp_path: Path):
    engine = create_engine(_migrated(tmp_path))
    store = EventStore(engine)
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    await store.close()
    await store.close()  # twice is harmless
    await store.append("s", [reschedule("2027")], 1, actor="a")
    assert await store.head() == 2
    await store.close()
    await engine.dispose()


def test_the_store_needs_a_file():
    with pytest.raises(ValueError, match="SQLite file"):
        EventStore(create_engine("sqlite:///:memory:"))
