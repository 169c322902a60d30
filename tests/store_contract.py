"""The event store's contract: one suite that every backend and mode passes.

`StoreContract` is subclassed once per backend and mode (tests/test_store_sqlite.py,
tests/test_store_postgres.py), like eventsourcing's recorder test cases: a subclass gives
the database's URL (`url`), its name (`backend`) and how the store is made (`projectors`,
`synchronous`). Tests that only make sense on one backend stay beside its subclasses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, ClassVar

import msgspec
import pytest
import sqlalchemy as sa

from events.db import create_engine
from events.facts import DateInput
from events.instants import Clock, format_instant, parse_instant, utc_now
from events.model import FactRecorded, FactRescheduled
from events.store import (
    GENESIS_HASH,
    NO_STREAM,
    Append,
    ConcurrencyError,
    EventStore,
    Projector,
    RecordedEvent,
    chain_hash,
)
from events.store.records import head_of, record
from events.tables import events as events_table
from tests.factories import StepClock, make_fact, tamper

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

MakeStore = Callable[..., EventStore]


def reschedule(edtf: str) -> FactRescheduled:
    return FactRescheduled(date=DateInput(edtf))


class StoreContract:
    backend: ClassVar[str]  # "sqlite" or "postgres": how `tamper` gets past the triggers
    projectors: ClassVar[Sequence[Projector]] = ()  # run in every append of every store
    synchronous: ClassVar[str] = "NORMAL"  # SQLite's setting (PostgreSQL ignores it)

    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError  # a freshly migrated database, from the subclass

    @pytest.fixture
    async def make_store(self, url: str) -> AsyncIterator[MakeStore]:
        """Stores on the database, made as the mode says, each with an engine of its own."""
        made: list[EventStore] = []

        def make(
            clock: Clock = utc_now, *, projectors: Sequence[Projector] = (), **options: Any
        ) -> EventStore:
            engine = create_engine(url, sqlite_synchronous=self.synchronous, **options)
            store = EventStore(engine, projectors=[*self.projectors, *projectors], clock=clock)
            made.append(store)
            return store

        yield make
        for store in made:
            await store.close()
            await store.engine.dispose()

    @pytest.fixture
    def store(self, make_store: MakeStore) -> EventStore:
        return make_store()

    # --- append and read ------------------------------------------------------------------

    async def test_append_then_read_stream(self, store: EventStore) -> None:
        fact = make_fact("a")
        recorded = await store.append(
            "fact-a", [FactRecorded(fact=fact), reschedule("2026")], NO_STREAM, actor="editor"
        )
        assert [(r.position, r.version) for r in recorded] == [(1, 1), (2, 2)]
        stream = await store.read_stream("fact-a")
        assert stream == recorded
        assert stream[0].event() == FactRecorded(fact=fact)
        assert stream[1].event() == reschedule("2026")
        assert {r.actor for r in stream} == {"editor"}
        assert await store.head() == 2

    async def test_read_the_log_after_a_position(self, store: EventStore) -> None:
        for i in range(5):
            await store.append(f"s{i}", [reschedule("2026")], actor="a")
        assert [r.position for r in await store.read_all(after=2)] == [3, 4, 5]
        assert [r.position for r in await store.read_all(after=0, limit=2)] == [1, 2]
        assert [r.position async for r in store.iterate(after=1, batch=2)] == [2, 3, 4, 5]
        assert await store.read_all(after=5) == []
        streams = await store.read_streams(["s1", "s3", "none"])
        assert {k: [r.position for r in v] for k, v in streams.items()} == {"s1": [2], "s3": [4]}
        assert await store.last_recorded() == (5, (await store.read_all(after=4))[0].recorded_at)

    # --- expected versions ----------------------------------------------------------------

    async def test_a_stale_expected_version_raises_and_writes_nothing(
        self, store: EventStore
    ) -> None:
        await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
        with pytest.raises(ConcurrencyError) as error:
            await store.append("s", [reschedule("2027"), reschedule("2028")], 0, actor="a")
        assert (error.value.expected, error.value.actual) == (0, 1)
        assert len(await store.read_stream("s")) == 1
        assert await store.head() == 1

    async def test_a_stream_behind_its_expected_version_is_refused(self, store: EventStore) -> None:
        """The guessed insert's guard: the version the caller expects must exist."""
        await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
        with pytest.raises(ConcurrencyError) as error:
            await store.append("s", [reschedule("2027")], 3, actor="a")
        assert (error.value.expected, error.value.actual) == (3, 1)
        await store.append("s", [reschedule("2027")], 1, actor="a")
        assert [r.version for r in await store.read_stream("s")] == [1, 2]
        assert await store.head() == 2 and await store.verify() is None

    async def test_no_stream_means_the_stream_must_not_exist(self, store: EventStore) -> None:
        await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
        with pytest.raises(ConcurrencyError):
            await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")

    async def test_no_expected_version_appends_wherever_the_stream_is(
        self, store: EventStore
    ) -> None:
        await store.append("s", [reschedule("2026")], actor="a")
        await store.append("s", [reschedule("2027")], actor="a")
        assert [r.version for r in await store.read_stream("s")] == [1, 2]

    # --- batches ----------------------------------------------------------------------------

    async def test_append_many_is_all_or_nothing(self, store: EventStore) -> None:
        await store.append("taken", [reschedule("2026")], actor="a")
        with pytest.raises(ConcurrencyError):
            await store.append_many(
                [Append("new", [reschedule("2026")], NO_STREAM), Append("taken", [], NO_STREAM)],
                actor="a",
            )
        assert await store.read_stream("new") == []
        recorded = await store.append_many(
            [
                Append("new", [reschedule("2026")], NO_STREAM),
                Append("taken", [reschedule("2027")], 1),
            ],
            actor="a",
        )
        assert [(r.stream_id, r.version, r.position) for r in recorded] == [
            ("new", 1, 2),
            ("taken", 2, 3),
        ]

    async def test_one_stream_twice_in_one_append_many(self, store: EventStore) -> None:
        await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
        recorded = await store.append_many(
            [Append("s", [reschedule("2027")], 1), Append("s", [reschedule("2028")])], actor="a"
        )
        assert [(r.version, r.position) for r in recorded] == [(2, 2), (3, 3)]
        with pytest.raises(ConcurrencyError):  # both expected versions are checked up front
            await store.append_many(
                [Append("s", [reschedule("2029")], 3), Append("s", [reschedule("2030")], 4)],
                actor="a",
            )
        assert await store.head() == 3 and await store.verify() is None

    async def test_a_batch_larger_than_one_statement(self, store: EventStore) -> None:
        await store.append("big", [reschedule("2026")], NO_STREAM, actor="a")  # a guess
        recorded = await store.append("big", [reschedule("2027")] * 1500, 1, actor="a")
        assert [r.version for r in recorded] == list(range(2, 1502))
        assert await store.head() == 1501 and await store.verify() is None

    # --- the chain --------------------------------------------------------------------------

    async def test_every_event_carries_a_hash_over_the_previous_one(
        self, store: EventStore
    ) -> None:
        await store.append("s1", [reschedule("2026")], actor="a", reason="why")
        await store.append("s2", [reschedule("2027"), reschedule("2028")], actor="b")
        log = await store.read_all()
        previous = GENESIS_HASH
        for event in log:
            assert event.hash == chain_hash(previous, event)
            previous = event.hash
        assert log[0].reason == "why"
        assert await store.verify() is None

    async def test_verify_finds_a_tampered_row(self, store: EventStore) -> None:
        for i in range(4):
            await store.append(f"s{i}", [reschedule("2026")], actor="a")
        assert await store.verify() is None
        await tamper(store, self.backend, "UPDATE events SET actor = 'mallory' WHERE position = 3")
        broken = await store.verify()
        assert broken is not None and broken.position == 3

    async def test_the_store_sets_recorded_at_and_never_lets_it_run_backwards(
        self, make_store: MakeStore
    ) -> None:
        store = make_store(StepClock(START, step=-dt.timedelta(hours=1)))  # runs backwards
        first = await store.append("s", [reschedule("2026")], actor="a")
        second = await store.append("s", [reschedule("2027")], actor="a")
        third = await store.append("s", [reschedule("2028")], 2, actor="a")
        assert first[0].recorded_at == "2025-01-01T00:00:00.000000Z"
        assert second[0].recorded_at >= first[0].recorded_at
        assert third[0].recorded_at >= second[0].recorded_at

    async def test_import_refuses_a_broken_chain(self, store: EventStore) -> None:
        await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
        [own] = await store.read_all()
        with pytest.raises(ValueError, match="does not follow position 1"):
            await store.import_events([own])  # its position is taken
        following = record(
            [Append("t", [reschedule("2027"), reschedule("2028")])],
            head_of([own]),
            {},
            actor="elsewhere",
            reason=None,
            now=format_instant(START),
        )
        doctored = [following[0], msgspec.structs.replace(following[1], actor="mallory")]
        with pytest.raises(ValueError, match="position 3 breaks the hash chain"):
            await store.import_events(doctored)
        assert await store.head() == 1  # not even the sound first event
        await store.import_events(following)
        assert await store.read_all() == [own, *following]
        assert await store.verify() is None
        await store.append("t", [reschedule("2029")], 2, actor="a")  # after the import
        assert await store.head() == 4 and await store.verify() is None

    # --- position_at ------------------------------------------------------------------------

    async def test_position_at_an_instant(self, make_store: MakeStore) -> None:
        """A binary search over positions: the last event recorded at or before the instant."""
        store = make_store(StepClock(START, dt.timedelta(minutes=10)))
        for i in range(13):  # several events share an instant when appended together
            await store.append(f"s{i}", [reschedule("2026")] * (1 + i % 3), NO_STREAM, actor="a")
        log = await store.read_all()
        instants = sorted({r.recorded_at for r in log})
        probes = [START - dt.timedelta(seconds=1)]
        for text in instants:
            at = parse_instant(text)
            probes += [at, at + dt.timedelta(minutes=5)]
        for probe in probes:
            expected = max(
                (r.position for r in log if r.recorded_at <= format_instant(probe)), default=0
            )
            assert await store.position_at(probe) == expected, probe

    # --- concurrency ------------------------------------------------------------------------

    async def test_twenty_concurrent_appenders_one_wins(self, store: EventStore) -> None:
        await store.append("contested", [reschedule("2026")], NO_STREAM, actor="a")

        async def attempt(i: int) -> str:
            try:
                await store.append("contested", [reschedule(str(2030 + i))], 1, actor=f"w{i}")
                return "won"
            except ConcurrencyError:
                return "lost"

        outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
        assert outcomes.count("won") == 1
        assert outcomes.count("lost") == 19
        stream = await store.read_stream("contested")
        assert [r.version for r in stream] == [1, 2]
        assert stream[1].actor == f"w{outcomes.index('won')}"
        assert await store.verify() is None

    async def test_a_tailing_reader_sees_every_event_once_in_order(
        self, make_store: MakeStore
    ) -> None:
        """Many writers at once; a reader following positions never skips or repeats one."""
        store = make_store(pool_size=12, max_overflow=0)
        writers, per_writer = 10, 15
        done = asyncio.Event()
        seen: list[int] = []

        async def write(w: int) -> None:
            for i in range(per_writer):
                await store.append(f"w{w}", [reschedule(str(2000 + i))], actor=f"w{w}")

        async def tail() -> None:
            after = 0
            while True:
                finished = done.is_set()
                for event in await store.read_all(after=after, limit=50):
                    seen.append(event.position)
                    after = event.position
                if finished and after == writers * per_writer:
                    return
                await asyncio.sleep(0)

        reader = asyncio.create_task(tail())
        await asyncio.gather(*(write(w) for w in range(writers)))
        done.set()
        await asyncio.wait_for(reader, 30)
        assert seen == list(range(1, writers * per_writer + 1))

    async def test_two_stores_taking_turns_keep_one_chain(self, make_store: MakeStore) -> None:
        """Each store guesses the head it appended after; the other one's appends prove it
        wrong."""
        stores = [make_store(), make_store()]
        for i in range(6):
            writer = stores[i % 2] if i < 4 else stores[0]
            await writer.append(f"s{i}", [reschedule("2026")], NO_STREAM, actor=f"w{i % 2}")
        await stores[1].append("s0", [reschedule("2027")], 1, actor="w1")
        with pytest.raises(ConcurrencyError) as error:
            await stores[0].append("s0", [reschedule("2028")], 1, actor="w0")
        assert (error.value.expected, error.value.actual) == (1, 2)
        assert [r.position for r in await stores[0].read_all()] == list(range(1, 8))
        assert await stores[1].verify() is None

    async def test_an_append_waits_for_another_writers_transaction(
        self, make_store: MakeStore
    ) -> None:
        """On SQLite the append can't take the lock on the loop, so it waits in the writer
        thread; on PostgreSQL it waits for the log's advisory lock."""
        holder, writer = make_store(), make_store()
        await writer.append("first", [reschedule("2026")], NO_STREAM, actor="w")  # a guess
        async with holder.write_transaction() as conn:
            log = await holder.read_all_in(conn)
            held = record(
                [Append("held", [reschedule("2026")], NO_STREAM)],
                head_of(log),
                {},
                actor="h",
                reason=None,
                now=format_instant(dt.datetime.now(dt.UTC)),
            )
            await conn.execute(events_table.insert(), [msgspec.structs.asdict(r) for r in held])
            waiting = asyncio.create_task(
                writer.append("waiting", [reschedule("2027")], NO_STREAM, actor="w")
            )
            await asyncio.sleep(0.3)
            assert not waiting.done()
        [recorded] = await asyncio.wait_for(waiting, 10)
        assert (recorded.stream_id, recorded.position) == ("waiting", 3)
        assert await writer.verify() is None

    # --- projectors -------------------------------------------------------------------------

    async def test_a_failing_projector_writes_nothing(self, make_store: MakeStore) -> None:
        projected: list[int] = []

        def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
            if any(r.stream_id == "bad" for r in recorded):
                raise RuntimeError("the projection refused it")
            conn.execute(sa.text("SELECT 1"))
            projected.extend(r.position for r in recorded)

        store = make_store(projectors=[project])
        await store.append("good", [reschedule("2026")], NO_STREAM, actor="a")
        with pytest.raises(RuntimeError, match="refused"):
            await store.append("bad", [reschedule("2026")], NO_STREAM, actor="a")
        await store.append("good", [reschedule("2027")], 1, actor="a")
        assert projected == [1, 2]
        assert [(r.stream_id, r.position) for r in await store.read_all()] == [
            ("good", 1),
            ("good", 2),
        ]

    async def test_projectors_see_every_append_and_import(self, make_store: MakeStore) -> None:
        projected: list[int] = []

        def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
            projected.extend(r.position for r in recorded)

        store = make_store(projectors=[project])
        await store.append("s", [reschedule("2026"), reschedule("2027")], actor="a")
        await store.append("s", [reschedule("2028")], 2, actor="a")
        following = record(
            [Append("t", [reschedule("2029")])],
            head_of(await store.read_all()),
            {},
            actor="elsewhere",
            reason=None,
            now=format_instant(START),
        )
        await store.import_events(following)
        assert projected == [1, 2, 3, 4]
