"""The event store's contract: every backend (SQLite, PostgreSQL) passes this same suite."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.db import create_engine
from events.decider import ChangeFact, RecordFact, fold, stream_id
from events.facts import DateInput, visible
from events.handler import handle, load
from events.model import FactRecorded, FactRescheduled, FactStatusChanged
from events.store import (
    GENESIS_HASH,
    NO_STREAM,
    Append,
    ConcurrencyError,
    EventStore,
    chain_hash,
    format_instant,
    parse_instant,
    utc_now_text,
)
from service import migrate
from tests.factories import StepClock, make_fact, tamper

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def reschedule(edtf: str) -> FactRescheduled:
    return FactRescheduled(date=DateInput(edtf))


async def test_append_then_read_stream(store: EventStore):
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


async def test_the_store_sets_recorded_at_and_never_lets_it_run_backwards(database_url):
    clock = StepClock(START, step=-dt.timedelta(hours=1))  # a clock that runs backwards
    engine = create_engine(database_url)
    store = EventStore(engine, clock=clock)
    first = await store.append("s", [reschedule("2026")], actor="a")
    second = await store.append("s", [reschedule("2027")], actor="a")
    assert first[0].recorded_at == "2025-01-01T00:00:00.000000Z"
    assert second[0].recorded_at >= first[0].recorded_at
    await engine.dispose()


def test_the_default_clock_writes_instants_as_format_instant_does():
    for _ in range(3):
        before = format_instant(dt.datetime.now(dt.UTC))
        text = utc_now_text()
        after = format_instant(dt.datetime.now(dt.UTC))
        assert before <= text <= after
        assert format_instant(parse_instant(text)) == text
        time.sleep(0.6)  # into another second: the cached date and time are made anew


async def test_every_event_carries_a_hash_over_the_previous_one(store: EventStore):
    await store.append("s1", [reschedule("2026")], actor="a", reason="why")
    await store.append("s2", [reschedule("2027"), reschedule("2028")], actor="b")
    log = await store.read_all()
    previous = GENESIS_HASH
    for event in log:
        assert event.hash == chain_hash(previous, event)
        previous = event.hash
    assert log[0].reason == "why"
    assert await store.verify() is None


async def test_a_stale_expected_version_raises_and_writes_nothing(store: EventStore):
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    with pytest.raises(ConcurrencyError) as error:
        await store.append("s", [reschedule("2027"), reschedule("2028")], 0, actor="a")
    assert (error.value.expected, error.value.actual) == (0, 1)
    assert len(await store.read_stream("s")) == 1
    assert await store.head() == 1


async def test_no_stream_means_the_stream_must_not_exist(store: EventStore):
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    with pytest.raises(ConcurrencyError):
        await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")


async def test_append_many_is_all_or_nothing(store: EventStore):
    await store.append("taken", [reschedule("2026")], actor="a")
    with pytest.raises(ConcurrencyError):
        await store.append_many(
            [Append("new", [reschedule("2026")], NO_STREAM), Append("taken", [], NO_STREAM)],
            actor="a",
        )
    assert await store.read_stream("new") == []
    recorded = await store.append_many(
        [Append("new", [reschedule("2026")], NO_STREAM), Append("taken", [reschedule("2027")], 1)],
        actor="a",
    )
    assert [(r.stream_id, r.version, r.position) for r in recorded] == [
        ("new", 1, 2),
        ("taken", 2, 3),
    ]


async def test_read_stream_up_to_a_version_or_an_instant(database_url):
    engine = create_engine(database_url)
    store = EventStore(engine, clock=StepClock(START, dt.timedelta(days=1)))
    for year in ("2026", "2027", "2028"):
        await store.append("s", [reschedule(year)], actor="a")
    assert [r.event().date.edtf for r in await store.read_stream("s", up_to_version=2)] == [
        "2026",
        "2027",
    ]
    as_of = START + dt.timedelta(days=1, hours=12)
    assert [r.version for r in await store.read_stream("s", as_of=as_of)] == [1, 2]
    assert await store.read_stream("s", as_of=START - dt.timedelta(seconds=1)) == []
    await engine.dispose()


async def test_read_the_log_after_a_position(store: EventStore):
    for i in range(5):
        await store.append(f"s{i}", [reschedule("2026")], actor="a")
    assert [r.position for r in await store.read_all(after=2)] == [3, 4, 5]
    assert [r.position for r in await store.read_all(after=0, limit=2)] == [1, 2]
    assert [r.position async for r in store.iterate(after=1, batch=2)] == [2, 3, 4, 5]
    assert await store.read_all(after=5) == []


async def test_an_event_in_an_old_shape_is_upcast_when_read(store: EventStore):
    fact = make_fact("old")
    old_data = (
        '{"fact":{"id":"old","title":{"en":"Test summit","ru":"Тестовый саммит"},'
        '"summary":{"en":"Leaders met.","ru":"Лидеры встретились."},"kind":"summit",'
        '"status":"held","date":"2025-04-03/2025-04-04","place":{"name":{"en":"Samarkand",'
        '"ru":"Самарканд"},"country":"UZ"},"participants":["UZ","KZ","EU"],'
        '"tags":["central-asia-eu"],"sources":[{"title":"Joint declaration",'
        '"date":"2025-05-30","locator":"paragraph 7"}]}}'
    )
    async with store.write_transaction() as conn:
        row = dict(
            position=1,
            stream_id="fact-old",
            version=1,
            type="FactRecorded.v1",
            data=old_data,
            actor="prototype",
            reason=None,
            recorded_at=format_instant(START),
        )
        from events.store import RecordedEvent

        unhashed = RecordedEvent(**row, hash="")
        row["hash"] = chain_hash(GENESIS_HASH, unhashed)
        await conn.execute(
            sa.text(
                "INSERT INTO events (position, stream_id, version, type, data, actor, reason, "
                "recorded_at, hash) VALUES (:position, :stream_id, :version, :type, :data, :actor, "
                ":reason, :recorded_at, :hash)"
            ),
            row,
        )
    [stored] = await store.read_stream("fact-old")
    assert stored.event() == FactRecorded(fact=fact)
    assert await store.verify() is None


async def test_the_database_refuses_to_change_the_log(store: EventStore, backend: str):
    await store.append("s", [reschedule("2026")], actor="a")
    statements = ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"]
    if backend == "postgres":
        statements.append("TRUNCATE events")  # SQLite has none: its DELETE is refused above
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with store.engine.begin() as conn:
                await conn.execute(sa.text(statement))
    assert len(await store.read_all()) == 1


async def test_verify_finds_a_tampered_row(store: EventStore, backend: str):
    for i in range(4):
        await store.append(f"s{i}", [reschedule("2026")], actor="a")
    assert await store.verify() is None
    await tamper(store, backend, "UPDATE events SET actor = 'mallory' WHERE position = 3")
    broken = await store.verify()
    assert broken is not None and broken.position == 3


async def test_twenty_concurrent_appenders_one_wins(store: EventStore):
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


async def test_a_tailing_reader_sees_every_event_once_in_order(database_url: str):
    """Many writers at once; a reader following positions never skips or repeats one."""
    engine = create_engine(database_url, pool_size=12, max_overflow=0)
    store = EventStore(engine)
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
    await engine.dispose()


# --- command sequences: replaying the log gives the state the commands built ----------

changes = st.one_of(
    st.builds(lambda y: ChangeFact(date=DateInput(str(y))), st.integers(1990, 2040)),
    st.builds(
        lambda s: ChangeFact(status=s),
        st.sampled_from(["held", "planned", "proposed", "postponed", "cancelled"]),
    ),
    st.builds(
        lambda lang, text: ChangeFact(title={lang: text}),
        st.sampled_from(["en", "ru"]),
        st.text(
            st.characters(min_codepoint=32, max_codepoint=0x44F, exclude_categories=("Cc", "Cs")),
            min_size=1,
            max_size=20,
        ).filter(visible),  # a title the rules accept: one that shows something
    ),
    st.builds(
        lambda tags: ChangeFact(tags=tags),
        st.lists(st.sampled_from(["a", "b", "water", "energy"]), unique=True, max_size=3),
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(commands=st.lists(changes, max_size=8), n=st.integers(0, 10**9))
async def test_replay_of_command_sequences_gives_the_same_state(
    store: EventStore, commands: list[ChangeFact], n: int
):
    fact_id = f"fact-{n}"
    if (await load(store, fact_id))[0] is not None:
        return  # hypothesis reused the number in the same database
    outcome = await handle(store, fact_id, RecordFact(make_fact(fact_id)), actor="t")
    state = outcome.state
    for command in commands:
        outcome = await handle(store, fact_id, command, actor="t")
        state = outcome.state
    replayed = fold(r.event() for r in await store.read_stream(stream_id(fact_id)))
    assert replayed == state
    assert (await load(store, fact_id))[1] == outcome.version


async def test_a_racing_change_with_a_stale_version_loses(store: EventStore):
    await handle(store, "x", RecordFact(make_fact("x")), actor="t")
    await handle(store, "x", ChangeFact(status="planned"), actor="t", expected_version=1)
    with pytest.raises(ConcurrencyError):
        await handle(store, "x", ChangeFact(status="cancelled"), actor="t", expected_version=1)
    state, version = await load(store, "x")
    assert (state.fact.status, version) == ("planned", 2)
    assert isinstance((await store.read_stream("fact-x"))[-1].event(), FactStatusChanged)


async def test_the_verify_command_names_the_broken_event(
    store: EventStore, backend: str, database_url: str, monkeypatch
):
    from click.testing import CliRunner

    from service.cli import main

    for i in range(3):
        await store.append(f"s{i}", [reschedule("2026")], actor="a")
    await tamper(
        store, backend, 'UPDATE events SET data = \'{"date":{"edtf":"1999"}}\' WHERE position = 2'
    )
    monkeypatch.setenv("TIMELINE_DATABASE_URL", database_url)
    result = await asyncio.to_thread(CliRunner().invoke, main, ["verify"])
    assert result.exit_code == 1
    assert "position 2" in result.output and "stream s1" in result.output


# --- the fast paths: guesses, a second writer, lost connections ---------------------------


async def test_two_stores_taking_turns_keep_one_chain(database_url: str):
    """Each store guesses the head it appended after; the other one's appends prove it wrong."""
    engines = [create_engine(database_url), create_engine(database_url)]
    stores = [EventStore(engine) for engine in engines]
    for i in range(6):
        writer = stores[i % 2] if i < 4 else stores[0]
        await writer.append(f"s{i}", [reschedule("2026")], NO_STREAM, actor=f"w{i % 2}")
    await stores[1].append("s0", [reschedule("2027")], 1, actor="w1")
    with pytest.raises(ConcurrencyError) as error:
        await stores[0].append("s0", [reschedule("2028")], 1, actor="w0")
    assert (error.value.expected, error.value.actual) == (1, 2)
    assert [r.position for r in await stores[0].read_all()] == list(range(1, 8))
    assert await stores[1].verify() is None
    for engine in engines:
        await engine.dispose()


async def test_a_stream_behind_its_expected_version_is_refused(store: EventStore):
    """The guessed insert's guard: the version the caller expects must exist."""
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    with pytest.raises(ConcurrencyError) as error:
        await store.append("s", [reschedule("2027")], 3, actor="a")
    assert (error.value.expected, error.value.actual) == (3, 1)
    await store.append("s", [reschedule("2027")], 1, actor="a")
    assert [r.version for r in await store.read_stream("s")] == [1, 2]
    assert await store.head() == 2 and await store.verify() is None


async def test_an_append_waits_for_another_writers_transaction(database_url: str):
    """On SQLite the append can't take the lock on the loop, so it waits in the writer thread."""
    engines = [create_engine(database_url), create_engine(database_url)]
    holder, writer = EventStore(engines[0]), EventStore(engines[1])
    await writer.append("first", [reschedule("2026")], NO_STREAM, actor="w")  # a guess to use
    async with holder.write_transaction() as conn:
        await holder.append_in(conn, [Append("held", [reschedule("2026")], NO_STREAM)], actor="h")
        waiting = asyncio.create_task(
            writer.append("waiting", [reschedule("2027")], NO_STREAM, actor="w")
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
    [recorded] = await asyncio.wait_for(waiting, 10)
    assert (recorded.stream_id, recorded.position) == ("waiting", 3)
    assert await writer.verify() is None
    for engine in engines:
        await engine.dispose()


async def test_sqlite_checkpoints_keep_the_wal_small(tmp_path, monkeypatch):
    """The loop's writer runs no checkpoint; the writer thread does, so the WAL is reused."""
    from events.store import _SqliteWriting

    monkeypatch.setattr(_SqliteWriting, "CHECKPOINT_AFTER", 50)
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    store = EventStore(engine)
    for i in range(600):  # about two WAL frames (8 KB) each
        await store.append(f"s{i}", [reschedule("2026")], NO_STREAM, actor="a")
    # Never checkpointed, the WAL would hold every commit: about 5 MB.
    assert (tmp_path / "wal.db-wal").stat().st_size < 1_500_000
    assert await store.head() == 600 and await store.verify() is None
    await engine.dispose()


async def test_a_failing_projector_writes_nothing(database_url: str):
    projected: list[int] = []

    def project(conn: sa.Connection, recorded) -> None:
        if any(r.stream_id == "bad" for r in recorded):
            raise RuntimeError("the projection refused it")
        conn.execute(sa.text("SELECT 1"))
        projected.extend(r.position for r in recorded)

    engine = create_engine(database_url)
    store = EventStore(engine, projectors=[project])
    await store.append("good", [reschedule("2026")], NO_STREAM, actor="a")
    with pytest.raises(RuntimeError, match="refused"):
        await store.append("bad", [reschedule("2026")], NO_STREAM, actor="a")
    await store.append("good", [reschedule("2027")], 1, actor="a")
    assert projected == [1, 2]
    assert [(r.stream_id, r.position) for r in await store.read_all()] == [
        ("good", 1),
        ("good", 2),
    ]
    await engine.dispose()


async def test_position_at_an_instant(database_url: str):
    """A binary search over positions: the last event recorded at or before the instant."""
    engine = create_engine(database_url)
    store = EventStore(engine, clock=StepClock(START, dt.timedelta(minutes=10)))
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
    await engine.dispose()


async def test_one_stream_twice_in_one_append_many(store: EventStore):
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


async def test_an_async_projector_still_runs_in_the_append(database_url: str):
    seen: list[int] = []

    async def project(conn, recorded) -> None:
        seen.extend(r.position for r in recorded)
        await conn.execute(sa.text("SELECT 1"))

    engine = create_engine(database_url)
    store = EventStore(engine, projectors=[project])
    await store.append("s", [reschedule("2026"), reschedule("2027")], actor="a")
    assert seen == [1, 2]
    await engine.dispose()


async def test_appends_survive_connections_the_server_closed(postgres_url: str):
    """What a PostgreSQL restart does to a pool: no pre-ping, yet no error for the caller."""
    engine = create_engine(postgres_url, pool_size=2)
    store = EventStore(engine)
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    await store.head()
    admin = create_engine(postgres_url, null_pool=True)
    async with admin.connect() as conn:
        await conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    await asyncio.sleep(0.2)  # let the event loop see the closed sockets
    await store.append("s", [reschedule("2027")], 1, actor="a")
    assert await store.head() == 2
    assert await store.verify() is None
    await engine.dispose()


async def test_a_held_lock_times_out_as_an_operational_error(postgres_url: str):
    engine = create_engine(postgres_url)
    store = EventStore(engine, lock_timeout_ms=200)
    async with store.write_transaction():
        other = create_engine(postgres_url, null_pool=True)
        with pytest.raises(sa.exc.OperationalError):  # the API answers 503 to it
            await EventStore(other, lock_timeout_ms=200).append(
                "s", [reschedule("2026")], actor="a"
            )
        await other.dispose()
    await store.append("s", [reschedule("2026")], actor="a")  # the store still works
    assert await store.head() == 1
    await engine.dispose()
