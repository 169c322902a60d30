"""Benchmark: mixed load on two service processes sharing one PostgreSQL database.

A fixed number of connections for a fixed time (tests/loadgen.py): 60% timeline reads
(`limit=50&country=KZ`), 25% feed polls (half conditional), 15% writes of new facts, spread
over both processes. Reports throughput and latency per kind, errors and lost writes (both
must be zero). Needs TIMELINE_TEST_POSTGRES_URL (a database it may create others from).

Then a light phase, LIGHT_CONNECTIONS connections on the same servers, measuring how idle
the CPUs stayed (/proc/stat): the stand-in here for "a machine with cores to spare",
where a write waits for no other request's CPU time (goal: write p99 < 100 ms).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from events.store.postgres import LOCK_KEY
from service import migrate
from service.tokens import create_token
from service.wiring import open_store
from tests.loadgen import MIX, run_load
from tests.served import Served
from tests.test_faults import stored_fact_ids, timeline_cli

CONNECTIONS = 32
SECONDS = 30.0
LIGHT_CONNECTIONS = 8
LIGHT_RATE = 60.0  # requests/s over both processes: a seventh of what they serve at most
GOAL_SPARE_WRITE_P99 = 0.100
SAMPLE_EVERY = 0.002  # seconds between looks at whether a writer holds the log's lock

_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND (classid::bigint << 32) + objid::bigint = %s"
)


class LockSampler(threading.Thread):
    """Looks every SAMPLE_EVERY seconds whether a writer holds the log's lock: the share of
    looks that find it held is the share of the run it was held (its utilisation)."""

    def __init__(self, conninfo: str) -> None:
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.looks = self.held = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stopping.is_set():
                row = conn.execute(_HELD, (LOCK_KEY,)).fetchone()
                self.looks += 1
                self.held += bool(row and row[0])
                time.sleep(SAMPLE_EVERY)

    @property
    def utilisation(self) -> float:
        return self.held / self.looks if self.looks else 0.0


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot (Linux)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; without guest time


def _transactions_after(conninfo: str, position: int) -> int:
    """How many transactions wrote the log after `position` (each row's xmin says)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM events WHERE position > %s", (position,)
        ).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    admin = os.environ.get("TIMELINE_TEST_POSTGRES_URL")
    if not admin:
        print("skipped: set TIMELINE_TEST_POSTGRES_URL")
        return
    name = f"timeline_bench_load_{uuid.uuid4().hex[:8]}"
    conninfo = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        assert timeline_cli("seed", url=url).returncode == 0
        store = open_store(url, null_pool=True)
        token = asyncio.run(create_token(store.engine, "load"))
        seeded = asyncio.run(store.head())
        asyncio.run(store.engine.dispose())
        db_conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        sampler = LockSampler(db_conninfo)
        with tempfile.TemporaryDirectory() as tmp:
            services = [Served(url, Path(tmp) / f"server-{i}.log").start() for i in range(2)]
            try:
                sampler.start()
                bases = [s.base for s in services]
                result = asyncio.run(
                    run_load(bases, token, connections=CONNECTIONS, seconds=SECONDS)
                )
                sampler.stopping.set()
                sampler.join()
                transactions = _transactions_after(db_conninfo, seeded)
                idle_before, total_before = _cpu_times()
                light = asyncio.run(
                    run_load(
                        bases,
                        token,
                        connections=LIGHT_CONNECTIONS,
                        seconds=SECONDS,
                        seed=8,
                        rate=LIGHT_RATE,
                    )
                )
                idle_after, total_after = _cpu_times()
            finally:
                sampler.stopping.set()
                for service in services:
                    service.stop()
        lost = (result.written | light.written) - asyncio.run(stored_fact_ids(url))
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"two processes, {CONNECTIONS} connections, {SECONDS:.0f} s on loopback")
    print("| requests | req/s | p50 | p99 |")
    print("|---|---|---|---|")
    for kind, _ in MIX:
        print(
            f"| {kind} | {result.rate(kind):,.0f} | {1000 * result.p(0.5, kind):.1f} ms | "
            f"{1000 * result.p(0.99, kind):.1f} ms |"
        )
    print(
        f"| all | {result.rate():,.0f} | {1000 * result.p(0.5):.1f} ms | "
        f"{1000 * result.p(0.99):.1f} ms |"
    )
    print(
        f"errors: {len(result.errors) + len(light.errors)}; writes acknowledged: "
        f"{len(result.written | light.written)} (both phases); lost: {len(lost)}"
    )
    held = sampler.utilisation * result.seconds
    writes = len(result.written)
    print(
        f"log lock: held {100 * sampler.utilisation:.1f}% of the run ({sampler.looks:,} looks); "
        f"{transactions:,} transactions wrote the log, holding it "
        f"{1000 * held / max(transactions, 1):.2f} ms each on average; "
        f"ceiling at this hold time {writes / held if held else float('inf'):,.0f} writes/s"
    )
    timeline_p99, write_p99 = result.p(0.99, "timeline"), result.p(0.99, "write")
    print(f"write p99 / timeline p99: {write_p99 / timeline_p99:.2f} (goal <= 1.5)")
    idle = (idle_after - idle_before) / max(total_after - total_before, 1)
    write_p99 = light.p(0.99, "write")
    print(
        f"light phase, {LIGHT_CONNECTIONS} connections paced to {LIGHT_RATE:.0f} req/s, "
        f"{SECONDS:.0f} s: CPUs {100 * idle:.0f}% "
        f"idle; {light.rate():,.0f} req/s; timeline p50 / p99 "
        f"{1000 * light.p(0.5, 'timeline'):.1f} / {1000 * light.p(0.99, 'timeline'):.1f} ms; "
        f"write {light.rate('write'):,.0f}/s, p50 / p99 {1000 * light.p(0.5, 'write'):.1f} / "
        f"{1000 * write_p99:.1f} ms (goal < {1000 * GOAL_SPARE_WRITE_P99:.0f} ms: "
        + ("met" if write_p99 < GOAL_SPARE_WRITE_P99 else "NOT met")
        + f"); {len(light.latencies['write'])} writes, the slowest "
        + ", ".join(f"{1000 * x:.0f}" for x in sorted(light.latencies["write"])[-5:])
        + " ms"
    )
    for error in (result.errors + light.errors)[:5]:
        print("  ", error)
