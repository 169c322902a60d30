"""The store with the service's decider, old event shapes and the log's triggers, on both
backends. The store's own contract is tests/store_contract.py, run per backend and mode by
tests/test_store_sqlite.py and tests/test_store_postgres.py."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.decider import ChangeFact, RecordFact, fold, stream_id
from events.facts import DateInput, visible
from events.handler import handle, load
from events.instants import format_instant
from events.model import FactRecorded, FactRescheduled, FactStatusChanged
from events.store import GENESIS_HASH, ConcurrencyError, EventStore, RecordedEvent, chain_hash
from tests.factories import make_fact, tamper

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def reschedule(edtf: str) -> FactRescheduled:
    return FactRescheduled(date=DateInput(edtf))


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
