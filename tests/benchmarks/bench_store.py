"""Store throughput vs the reference: our EventStore against the `eventsourcing` recorders.

Both sides do the same work on the same kind of database, in the same run:

- single appends: N appends of one event each, each to a new stream, one after another;
- batch of 100: appends of 100 events each, each to a new stream.

Ours is `EventStore.append(..., expected_version=NO_STREAM)` through `events.db.create_engine`
(SQLite: the store's own `sqlite3` connection, on the event loop at synchronous=NORMAL and in
its writer thread at FULL; PostgreSQL: asyncpg), one event loop per measurement, each event
encoded, timestamped and hashed into the chain inside the timed loop. The library's events
arrive already encoded (its mapper's work is not timed). The reference is the library's application recorder
(`insert_events`) on its own datastore (sqlite3 / psycopg 3). Every measurement gets a fresh
database: a SQLite file in a temp directory, or a PostgreSQL database
`timeline_bench_<random>` created on the server named by TIMELINE_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test) and dropped afterwards. Each side appends one event before the timing (connections
open then: ours opens its writers' at its first append). Rounds alternate which side goes
first; the table shows medians over the rounds.

Durability is the same on both sides of every row. SQLite is measured twice: at
synchronous=FULL (the library's default: a WAL sync on every commit, so both sides are
bound by the disk's flush rate) and at synchronous=NORMAL (ours: in WAL mode no committed
transaction is lost on a process crash, only on an OS crash or power cut), the library's
connections set to NORMAL by the same PRAGMA. Ours at NORMAL against the library at its
default FULL (the comparison the issue's first figures made) is printed for reference only.

Nothing here fails on a missed goal: the table says "met" or "NOT met".
"""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from sqlalchemy.engine import URL, make_url

from events import model
from events.db import create_engine
from events.facts import DateInput
from events.store import NO_STREAM, EventStore
from service import migrate

if TYPE_CHECKING:
    # Imported where used: it needs psycopg_pool, which may be missing (see main).
    from eventsourcing.postgres import PostgresApplicationRecorder

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROUNDS = 5
ACTOR = "bench"
# Ours over theirs, per backend. The issue sets them for single appends; batch rows are
# held to the same bar and reported alongside.
GOALS = {"sqlite": 1.5, "postgres": 1.0}
# Each measured backend: the database and, for SQLite, the synchronous setting of both sides.
BACKENDS = {"sqlite FULL": ("sqlite", "FULL"), "sqlite NORMAL": ("sqlite", "NORMAL")}


def _kind(backend: str) -> str:
    return BACKENDS.get(backend, (backend, None))[0]


SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


@dataclass(frozen=True)
class Workload:
    label: str
    appends: dict[str, int]  # per backend
    events_per_append: int


WORKLOADS = [
    Workload("single appends", {"sqlite": 2000, "postgres": 2000}, 1),
    Workload("batch of 100", {"sqlite": 50, "postgres": 50}, 100),
]
# One event appended before the timing on each side (see _run_ours).
WARM_UP = "fact-bench-warm-up"
WARM_UP_WORKLOAD = Workload("warm-up", {}, 1)


@dataclass
class Row:
    workload: Workload
    backend: str
    ours: list[float] = field(default_factory=list)  # events/second, one per round
    theirs: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.theirs)


# --- the work, prepared outside the timed loops ----------------------------------------------


def _event(i: int) -> model.FactRescheduled:
    return model.FactRescheduled(date=DateInput(str(1900 + i % 200)))


def _our_plan(workload: Workload, appends: int) -> list[tuple[str, list[model.Event]]]:
    n = workload.events_per_append
    return [(f"fact-bench-{a:06d}", [_event(a * n + i) for i in range(n)]) for a in range(appends)]


_TOPIC = f"{model.FactRescheduled.__module__}:{model.FactRescheduled.__qualname__}"


def _their_plan(workload: Workload, appends: int) -> list[list[StoredEvent]]:
    """The same events, as the library stores them: our event JSON is the state."""
    n = workload.events_per_append
    plan = []
    for a in range(appends):
        originator = uuid.uuid4()
        plan.append(
            [
                StoredEvent(
                    originator_id=originator,
                    originator_version=i + 1,
                    topic=_TOPIC,
                    state=model.encode(_event(a * n + i)).encode(),
                )
                for i in range(n)
            ]
        )
    return plan


# --- ours ----------------------------------------------------------------------------------


async def _run_ours(
    url: str, plan: list[tuple[str, list[model.Event]]], synchronous: str = "NORMAL"
) -> tuple[float, str]:
    engine = create_engine(url, sqlite_synchronous=synchronous)
    store = EventStore(engine)
    try:
        # Connect outside the timing: the store opens its writers' connections at its
        # first append, so one append of the warm-up stream, as the library's side does.
        await store.append(WARM_UP, [_event(0)], NO_STREAM, actor=ACTOR)
        started = time.perf_counter()
        for stream_id, events in plan:
            await store.append(stream_id, events, NO_STREAM, actor=ACTOR)
        elapsed = time.perf_counter() - started
        expected = 1 + sum(len(events) for _, events in plan)
        if await store.head() != expected:
            raise RuntimeError("our store did not record every event")
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
                sync = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
                settings = f"journal_mode={journal}, synchronous={SYNCHRONOUS.get(sync, sync)}"
            else:
                commit = (await conn.exec_driver_sql("SHOW synchronous_commit")).scalar()
                fsync = (await conn.exec_driver_sql("SHOW fsync")).scalar()
                settings = f"synchronous_commit={commit}, fsync={fsync}"
        return elapsed, settings
    finally:
        await store.close()
        await engine.dispose()


# --- theirs --------------------------------------------------------------------------------


def _run_theirs(
    recorder: SQLiteApplicationRecorder | PostgresApplicationRecorder,
    plan: list[list[StoredEvent]],
) -> float:
    recorder.create_table()
    # Connect outside the timing, and one insert, as ours' warm-up append.
    recorder.insert_events(_their_plan(WARM_UP_WORKLOAD, 1)[0])
    started = time.perf_counter()
    for stored_events in plan:
        recorder.insert_events(stored_events)
    elapsed = time.perf_counter() - started
    if recorder.max_notification_id() != 1 + sum(len(batch) for batch in plan):
        raise RuntimeError("eventsourcing did not record every event")
    return elapsed


def _theirs_sqlite(
    path: Path, plan: list[list[StoredEvent]], synchronous: str | None = None
) -> tuple[float, str]:
    """The library's SQLite recorder; `synchronous` set on each of its connections if given."""
    datastore = SQLiteDatastore(str(path))
    if synchronous is not None:
        create = datastore.pool._create_connection

        def create_with_setting() -> Any:
            connection = create()
            connection._sqlite_conn.execute(f"PRAGMA synchronous={synchronous}")
            return connection

        datastore.pool._create_connection = create_with_setting  # type: ignore[method-assign]
    try:
        elapsed = _run_theirs(SQLiteApplicationRecorder(datastore), plan)
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = cursor.fetchone()[0]
        return elapsed, f"journal_mode={journal}, synchronous={SYNCHRONOUS.get(sync, sync)}"
    finally:
        datastore.close()


def _postgres_reference_missing() -> str | None:
    """Why the library's PostgreSQL recorder can't be imported (it needs psycopg_pool)."""
    try:
        import eventsourcing.postgres  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


def _theirs_postgres(url: URL, plan: list[list[StoredEvent]]) -> tuple[float, str]:
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    datastore = PostgresDatastore(
        dbname=url.database or "",
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
    )
    try:
        elapsed = _run_theirs(PostgresApplicationRecorder(datastore), plan)
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("SHOW synchronous_commit")
            commit = cursor.fetchone()["synchronous_commit"]
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()["fsync"]
        return elapsed, f"synchronous_commit={commit}, fsync={fsync}"
    finally:
        datastore.close()


# --- databases -----------------------------------------------------------------------------


class Postgres:
    """Creates and drops the throwaway databases on the benchmark server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql")

    def _conninfo(self, url: URL) -> str:
        return url.render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self._conninfo(self.url), autocommit=True, connect_timeout=5) as c:
            c.execute(sql)

    def server_version(self) -> str:
        with psycopg.connect(self._conninfo(self.url), autocommit=True, connect_timeout=5) as c:
            row = c.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"

    @contextmanager
    def fresh(self) -> Iterator[URL]:
        name = f"timeline_bench_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.url.set(database=name)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- measuring -----------------------------------------------------------------------------


def _measure_ours(backend: str, workload: Workload, tmp: Path, pg: Postgres | None):
    plan = _our_plan(workload, workload.appends[_kind(backend)])
    if backend in BACKENDS:
        url = f"sqlite:///{tmp / f'ours-{uuid.uuid4().hex[:8]}.db'}"
        migrate.upgrade(url)
        return asyncio.run(_run_ours(url, plan, BACKENDS[backend][1]))
    assert pg is not None
    with pg.fresh() as db:
        url = db.render_as_string(hide_password=False)
        migrate.upgrade(url)
        return asyncio.run(_run_ours(url, plan))


def _measure_theirs(backend: str, workload: Workload, tmp: Path, pg: Postgres | None):
    plan = _their_plan(workload, workload.appends[_kind(backend)])
    if backend in BACKENDS:
        path = tmp / f"theirs-{uuid.uuid4().hex[:8]}.db"
        return _theirs_sqlite(path, plan, BACKENDS[backend][1])
    assert pg is not None
    with pg.fresh() as db:
        return _theirs_postgres(db, plan)


def _measure(
    backend: str, workload: Workload, tmp: Path, pg: Postgres | None, settings: dict[str, str]
) -> Row:
    row = Row(workload, backend)
    events = workload.appends[_kind(backend)] * workload.events_per_append
    sides: dict[str, tuple[Callable[..., tuple[float, str]], list[float]]] = {
        "ours": (_measure_ours, row.ours),
        "eventsourcing": (_measure_theirs, row.theirs),
    }
    for r in range(ROUNDS):
        order = ["ours", "eventsourcing"] if r % 2 == 0 else ["eventsourcing", "ours"]
        for side in order:
            measure, rates = sides[side]
            elapsed, setting = measure(backend, workload, tmp, pg)
            rates.append(events / elapsed)
            settings[f"{backend} {side}"] = setting
            print(
                f"  {workload.label:<16} {backend:<13} round {r + 1} {side:<14}"
                f" {events / elapsed:>10,.0f} ev/s",
                flush=True,
            )
    return row


# --- report --------------------------------------------------------------------------------


def _machine(pg_version: str | None) -> str:
    return (
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {pg_version or 'n/a (not reachable)'}; load average "
        + "/".join(f"{load:.2f}" for load in os.getloadavg())
        + " at start (other work on the machine skews the figures)"
    )


def _libraries() -> str:
    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    return (
        f"ours: SQLAlchemy {v('sqlalchemy')} + aiosqlite {v('aiosqlite')} / asyncpg "
        f"{v('asyncpg')}; eventsourcing {v('eventsourcing')}: sqlite3 / psycopg {v('psycopg')}"
    )


def _table(rows: list[Row]) -> str:
    header = (
        f"{'workload':<21} {'backend':<15} {'ours ev/s':>10}   {'eventsourcing ev/s':>18}"
        f"   {'ratio':>6}   {'goal':<8} {'status'}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        goal = GOALS[_kind(row.backend)]
        status = "met" if row.ratio >= goal else "NOT met"
        lines.append(
            f"{row.workload.label:<21} {row.backend:<15} {statistics.median(row.ours):>10,.0f}"
            f"   {statistics.median(row.theirs):>18,.0f}   {row.ratio:>5.2f}x   "
            f">= {goal:.1f}x  {status}"
        )
    return "\n".join(lines)


def _mixed(rows: list[Row]) -> list[str]:
    """Ours at NORMAL over the library at its default FULL: not like for like, for reference."""
    lines = []
    for workload in WORKLOADS:
        found = {r.backend: r for r in rows if r.workload is workload}
        if "sqlite NORMAL" in found and "sqlite FULL" in found:
            ours = statistics.median(found["sqlite NORMAL"].ours)
            theirs = statistics.median(found["sqlite FULL"].theirs)
            lines.append(
                f"not like for like: {workload.label}, ours at synchronous=NORMAL {ours:,.0f} ev/s "
                f"over eventsourcing at its default FULL {theirs:,.0f} ev/s = {ours / theirs:.2f}x "
                "(measured in different rounds)"
            )
    return lines


def main() -> None:
    pg_url = os.environ.get("TIMELINE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    pg: Postgres | None = Postgres(pg_url)
    pg_version: str | None = None
    try:
        pg_version = pg.server_version()
    except psycopg.Error as exc:
        shown = make_url(pg_url).render_as_string(hide_password=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"PostgreSQL not reachable at {shown} ({reason}); running SQLite only.")
        pg = None
    if pg is not None and (missing := _postgres_reference_missing()):
        print(
            f"eventsourcing's PostgreSQL recorder can't be imported ({missing}): it needs "
            "psycopg_pool (`psycopg[pool]`, or `eventsourcing[postgres]`); running SQLite only."
        )
        pg = None
    backends = [*BACKENDS, *(["postgres"] if pg is not None else [])]

    print(_machine(pg_version))
    print(_libraries())
    print(f"median of {ROUNDS} rounds, alternating which side goes first; fresh database each")

    rows: list[Row] = []
    settings: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="timeline_bench_") as tmp:
        print(f"SQLite files in {tmp}")
        for backend in backends:
            for workload in WORKLOADS:
                rows.append(_measure(backend, workload, Path(tmp), pg, settings))

    print()
    print(_table(rows))
    print()
    for key in sorted(settings):
        print(f"durability, {key}: {settings[key]}")
    print("ratio = median ours / median eventsourcing; goals are per backend (see module doc)")
    for line in _mixed(rows):
        print(line)


if __name__ == "__main__":
    main()
