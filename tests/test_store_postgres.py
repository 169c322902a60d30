"""The store on PostgreSQL: the contract in each mode, and what only PostgreSQL does."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import psycopg
import pytest
import sqlalchemy as sa

from events.db import create_engine
from events.instants import format_instant, utc_now
from events.model import FactRecorded
from events.store import NO_STREAM, Append, ConcurrencyError, EventStore
from events.store.records import head_of, record
from projections import documents, timeline
from service.jobs import election
from tests.factories import make_fact, read_model, rebuild
from tests.store_contract import StoreContract, reschedule


class TestPostgres(StoreContract):
    """Without projectors: the guarded one-statement insert after the lock."""

    backend = "postgres"

    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url


class TestPostgresWithProjectors(TestPostgres):
    """The service's store: the read models projected in each append's transaction."""

    projectors = (timeline.project, documents.project)


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


# --- the append in one statement -------------------------------------------------------------------


async def test_appends_made_at_once_go_in_one_statement_and_fail_alone(postgres_url: str):
    """Appends queued while none is in flight go together; the one whose expected version
    is stale fails by itself, and the others are made."""
    engine = create_engine(postgres_url)
    store = EventStore(engine, projectors=[timeline.project, documents.project])
    await store.append("a", [reschedule("2026")], NO_STREAM, actor="a")  # a guess
    await store.append("a", [reschedule("2027")], 1, actor="a")

    async def attempt(stream: str, expected: int) -> str:
        try:
            await store.append(stream, [reschedule("2030")], expected, actor="w")
            return "made"
        except ConcurrencyError as error:
            return f"conflict at {error.actual}"

    outcomes = await asyncio.gather(
        *(attempt(f"n{i}", NO_STREAM) for i in range(10)), attempt("a", 1)
    )
    assert outcomes == ["made"] * 10 + ["conflict at 2"]
    log = await store.read_all()
    assert [r.position for r in log] == list(range(1, 13))
    assert await store.verify() is None
    # The ten were made in one transaction (the refused statement left nothing).
    assert await _transactions_of(engine, after=2) == 1
    await store.close()
    await engine.dispose()


async def _transactions_of(engine: Any, after: int) -> int:
    """How many transactions wrote the events after a position (each row's xmin)."""
    async with engine.connect() as conn:
        query = "SELECT count(DISTINCT xmin::text) FROM events WHERE position > :after"
        return int((await conn.execute(sa.text(query), {"after": after})).scalar_one())


async def test_two_processes_appending_at_once_keep_one_gapless_chain(postgres_url: str):
    """Two stores (as two service processes) each with many appenders: each refutes the
    other's guesses all the time, yet every append is made once, in one chain, and the
    read model is what a rebuild makes of the log."""
    engines = [create_engine(postgres_url) for _ in range(2)]
    stores = [EventStore(e, projectors=[timeline.project, documents.project]) for e in engines]
    fact_count, changes = 40, 3

    async def write(store: EventStore, fact_id: str) -> None:
        await store.append(
            f"fact-{fact_id}", [FactRecorded(fact=make_fact(fact_id))], NO_STREAM, actor="w"
        )
        for version in range(1, changes + 1):
            await store.append(
                f"fact-{fact_id}", [reschedule(str(2026 + version))], version, actor="w"
            )

    await asyncio.gather(*(write(stores[i % 2], f"f{i}") for i in range(fact_count)))
    log = await stores[0].read_all(limit=None)
    assert [r.position for r in log] == list(range(1, fact_count * (changes + 1) + 1))
    assert await stores[1].verify() is None
    projected = await read_model(engines[0])
    await rebuild(stores[0])
    assert await read_model(engines[0]) == projected
    for store, engine in zip(stores, engines, strict=True):
        await store.close()
        await engine.dispose()


async def test_a_held_lock_times_out_on_the_one_statement_path_too(postgres_url: str):
    engine = create_engine(postgres_url)
    store = EventStore(engine, lock_timeout_ms=200)
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")  # now it has a guess
    async with store.write_transaction():
        with pytest.raises(sa.exc.OperationalError):  # the API answers 503 to it
            await store.append("s", [reschedule("2027")], 1, actor="a")
    await store.append("s", [reschedule("2027")], 1, actor="a")  # and still works
    assert [r.version for r in await store.read_stream("s")] == [1, 2]
    await store.close()
    await engine.dispose()


async def test_a_writer_that_takes_no_lock_of_ours_is_waited_for_then_followed(
    postgres_url: str,
):
    """A process of an older release (it locks the table, not our advisory lock) inserts
    the next position while an append is on its way: the append fails on the
    position's key, learns the head and goes after it."""
    engine = create_engine(postgres_url)
    store = EventStore(engine)
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")
    other = await psycopg.AsyncConnection.connect(postgres_url)  # in a transaction
    [row] = record(
        [Append("older", [reschedule("2026")], NO_STREAM)],
        head_of(await store.read_all()),
        {},
        actor="older release",
        reason=None,
        now=format_instant(utc_now()),
    )
    await other.execute(
        "INSERT INTO events (position, stream_id, version, type, data, actor, reason, "
        "recorded_at, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        list(msgspec.structs.astuple(row)),
    )
    waiting = asyncio.create_task(store.append("s", [reschedule("2027")], 1, actor="a"))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # on the position the other transaction holds
    await other.commit()
    [recorded] = await asyncio.wait_for(waiting, 10)
    assert (recorded.position, recorded.version) == (3, 2)
    assert await store.verify() is None
    await other.close()
    await store.close()
    await engine.dispose()


async def test_appends_do_not_wait_for_the_scheduler_s_election_lock(postgres_url: str):
    """The runner of the scheduled jobs holds an advisory lock for its life: not the log's."""
    runner = await psycopg.AsyncConnection.connect(postgres_url, autocommit=True)
    await runner.execute("SELECT pg_advisory_lock(%s)", (election.LOCK_KEY,))
    engine = create_engine(postgres_url)
    store = EventStore(engine, lock_timeout_ms=200)
    await store.append("s", [reschedule("2026")], NO_STREAM, actor="a")  # the exact way
    await store.append("s", [reschedule("2027")], 1, actor="a")  # the one-statement way
    assert await store.head() == 2
    await runner.close()
    await store.close()
    await engine.dispose()
