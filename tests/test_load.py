"""A bounded load test: two service processes on one PostgreSQL database, reads, feed polls
and writes at once. No errors, no lost writes; the figures are in `make bench` (bench_load)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from service.tokens import create_token
from service.wiring import open_store
from tests.loadgen import run_load
from tests.served import Served
from tests.test_faults import assert_consistent, stored_fact_ids, timeline_cli


def test_two_processes_under_mixed_load_lose_nothing(postgres_url: str, tmp_path: Path):
    assert timeline_cli("seed", url=postgres_url).returncode == 0
    store = open_store(postgres_url, null_pool=True)
    token = asyncio.run(create_token(store.engine, "load"))
    asyncio.run(store.engine.dispose())
    services = [Served(postgres_url, tmp_path / f"server-{i}.log").start() for i in range(2)]
    try:
        result = asyncio.run(run_load([s.base for s in services], token, connections=16, seconds=6))
    finally:
        for service in services:
            service.stop()
    assert result.errors == []
    assert all(result.latencies[kind] for kind in ("timeline", "feed", "write"))
    assert len(result.written) > 10
    stored = asyncio.run(stored_fact_ids(postgres_url))
    assert result.written <= stored, "acknowledged writes are missing"
    assert_consistent(postgres_url)
