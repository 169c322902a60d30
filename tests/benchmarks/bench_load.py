"""Benchmark: mixed load on two service processes sharing one PostgreSQL database.

A fixed number of connections for a fixed time (tests/loadgen.py): 60% timeline reads
(`limit=50&country=KZ`), 25% feed polls (half conditional), 15% writes of new facts, spread
over both processes. Reports throughput and latency per kind, errors and lost writes (both
must be zero). Needs TIMELINE_TEST_POSTGRES_URL (a database it may create others from).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from service import migrate
from service.tokens import create_token
from service.wiring import open_store
from tests.loadgen import MIX, run_load
from tests.served import Served
from tests.test_faults import stored_fact_ids, timeline_cli

CONNECTIONS = 32
SECONDS = 30.0


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
        asyncio.run(store.engine.dispose())
        with tempfile.TemporaryDirectory() as tmp:
            services = [Served(url, Path(tmp) / f"server-{i}.log").start() for i in range(2)]
            try:
                result = asyncio.run(
                    run_load(
                        [s.base for s in services], token, connections=CONNECTIONS, seconds=SECONDS
                    )
                )
            finally:
                for service in services:
                    service.stop()
        lost = result.written - asyncio.run(stored_fact_ids(url))
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
        f"errors: {len(result.errors)}; writes acknowledged: {len(result.written)}; "
        f"lost: {len(lost)}"
    )
    for error in result.errors[:5]:
        print("  ", error)
