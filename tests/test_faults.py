"""Faults: processes killed with SIGKILL mid-work, and PostgreSQL restarted under a service.

Afterwards nothing partial is stored, every write that got a 2xx is there, the hash chain
verifies, and the read model equals a rebuild.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from events.db import create_engine
from events.store.postgres import LOCK_KEY
from service.tokens import create_token
from service.wiring import open_store
from tests.benchmarks import bench_seed
from tests.conftest import _admin_conninfo
from tests.factories import fact_data, read_model, rebuild, seeded_with_token
from tests.served import ROOT, Served, free_port

SEED_FACTS = 20_000
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)


def timeline_cli(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TIMELINE_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def read_model_equals_rebuild(url: str) -> bool:
    store = open_store(url, null_pool=True)
    try:
        before = await read_model(store.engine)
        await rebuild(store)
        return before == await read_model(store.engine)
    finally:
        await store.engine.dispose()


async def stored_fact_ids(url: str) -> set[str]:
    store = open_store(url, null_pool=True)
    try:
        return {r.stream_id.removeprefix("fact-") for r in await store.read_all(0, 1_000_000)}
    finally:
        await store.engine.dispose()


def assert_consistent(url: str) -> None:
    verified = timeline_cli("verify", url=url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert asyncio.run(read_model_equals_rebuild(url))


# --- kill -9 in the middle of a bulk seed -----------------------------------------------


def _appending(url: str) -> bool:
    """Whether a seed's transaction is writing to the log now."""
    if url.startswith("sqlite"):
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 1_000_000
    with psycopg.connect(url, autocommit=True) as conn:
        held = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND (classid::bigint << 32) + objid::bigint = %s",
            (LOCK_KEY,),
        ).fetchone()
    return bool(held and held[0])


def test_kill_9_during_a_bulk_seed_stores_all_of_a_file_or_none(database_url: str, tmp_path: Path):
    big = tmp_path / "big.jsonl"
    bench_seed.write_facts(big, SEED_FACTS)
    env = {**os.environ, "TIMELINE_DATABASE_URL": database_url}
    seeding = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "seed", str(big)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not _appending(database_url):  # kill it in the middle of its transaction
        assert seeding.poll() is None, "the seed finished before it could be killed"
        assert time.monotonic() < deadline, "the seed never started appending"
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.3))
    seeding.send_signal(signal.SIGKILL)
    seeding.wait(timeout=10)
    # PostgreSQL finishes (and commits, or not) a statement whose client died while it ran.
    while database_url.startswith("postgresql") and _appending(database_url):
        assert time.monotonic() < deadline, "the dead seed's transaction never ended"
        time.sleep(0.05)

    # One file is one transaction: none of it (all of it only if the kill came between the
    # commit and the exit).
    assert len(asyncio.run(stored_fact_ids(database_url))) in (0, SEED_FACTS)
    assert_consistent(database_url)
    again = timeline_cli("seed", url=database_url)  # the store takes writes again
    assert again.returncode == 0, again.stderr
    assert len(asyncio.run(stored_fact_ids(database_url))) in (15, SEED_FACTS + 15)
    assert_consistent(database_url)


# --- kill -9 in the middle of a burst of concurrent API writes ----------------------------


def test_kill_9_during_concurrent_writes_loses_no_acknowledged_write(
    database_url: str, tmp_path: Path
):
    store = open_store(database_url, null_pool=True)
    token = asyncio.run(create_token(store.engine, "burst"))
    asyncio.run(store.engine.dispose())
    service = Served(database_url, tmp_path / "server.log").start()
    acknowledged: set[str] = set()
    attempted: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=service.base, timeout=10) as client:
            for i in range(100_000):
                if stop.is_set():
                    return
                fact_id = f"burst-{n}-{i}"
                with lock:
                    attempted.add(fact_id)
                try:
                    response = client.post(
                        "/api/v1/facts", json=fact_data(fact_id), headers=headers
                    )
                except httpx.HTTPError:
                    return  # the server died under us
                if response.status_code == 201:
                    with lock:
                        acknowledged.add(fact_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        # Kill once enough writes are in (however loaded the machine), at a random moment.
        deadline = time.monotonic() + 60
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.uniform(0.0, 1.0))
        service.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        service.stop()
    assert len(acknowledged) > 10, "too few writes before the kill to prove anything"

    stored = asyncio.run(stored_fact_ids(database_url))
    assert acknowledged <= stored, f"lost acknowledged writes: {sorted(acknowledged - stored)[:5]}"
    assert stored - {f for f in stored if f.startswith("burst-")} == set()
    assert stored <= attempted
    assert_consistent(database_url)

    restarted = Served(database_url, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=restarted.base, timeout=10) as client:
            for fact_id in sorted(stored)[:50]:
                fact = client.get(f"/api/v1/facts/{fact_id}").json()
                assert fact["title"] == "Test summit" and fact["version"] == 1
    finally:
        restarted.stop()


# --- PostgreSQL restarted under a running service -----------------------------------------


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, so restarting it disturbs nobody else."""

    def __init__(self) -> None:
        assert PG_BIN is not None, "PostgreSQL server binaries not found"
        self.dir = Path(tempfile.mkdtemp(prefix="timeline-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(
            PG_BIN / "initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"
        )

    def _as_postgres(self, *command: object) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, command)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log", "-w",
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    if os.geteuid() != 0 or PG_BIN is None:
        if os.environ.get("TIMELINE_REQUIRE_POSTGRES") == "1":
            pytest.fail("the PostgreSQL restart test needs root and the server binaries")
        pytest.skip("needs root and PostgreSQL server binaries to run a private cluster")
    cluster = PrivateCluster()
    cluster.start()
    yield cluster
    cluster.remove()


def test_postgres_restart_gets_quick_503s_then_the_service_reconnects(
    private_postgres: PrivateCluster, tmp_path: Path
):
    url = private_postgres.url
    assert timeline_cli("db", "upgrade", url=url).returncode == 0
    assert timeline_cli("seed", url=url).returncode == 0
    engine = create_engine(url, null_pool=True)
    token = asyncio.run(create_token(engine, "editor"))
    asyncio.run(engine.dispose())
    headers = {"Authorization": f"Bearer {token}"}
    service = Served(url, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=service.base, timeout=15) as client:
            assert client.get("/api/v1/timeline").status_code == 200
            private_postgres.stop()
            # During the outage: a problem at once, not a hang (the client gives up at 15 s).
            for path in (
                "/api/v1/timeline",
                "/calendar.ics",
                "/api/v1/facts/first-central-asia-eu-summit-2025",
            ):
                response = client.get(path)
                assert response.status_code == 503, (path, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
            refused = client.post("/api/v1/facts", json=fact_data("during-outage"), headers=headers)
            assert refused.status_code == 503, refused.text
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["database"] == "unreachable"

            private_postgres.start()
            deadline = time.monotonic() + 30
            while client.get("/api/v1/timeline").status_code != 200:
                assert time.monotonic() < deadline, "the service did not reconnect"
                time.sleep(0.2)
            created = client.post("/api/v1/facts", json=fact_data("after-outage"), headers=headers)
            assert created.status_code == 201, created.text
            assert client.get("/api/v1/facts/during-outage").status_code == 404
            assert client.get("/health").json()["status"] == "ok"
    finally:
        service.stop()
    assert_consistent(url)


# --- a database that refuses writes -------------------------------------------------------


def _read_only_url(database_url: str, backend: str) -> str:
    """The database, made read-only for the service: a read-only SQLite file (as a file
    the service's user may not write is opened), a PostgreSQL database whose transactions
    are read-only (as on a standby)."""
    if backend == "sqlite":
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    name = make_url(database_url).database
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    return database_url


def test_a_read_only_database_gives_503_on_writes_and_health_says_so(
    backend: str, database_url: str, tmp_path: Path
):
    token = asyncio.run(seeded_with_token(database_url))
    headers = {"Authorization": f"Bearer {token}"}
    url = _read_only_url(database_url, backend)
    service = Served(url, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=service.base, timeout=15) as client:
            health = client.get("/health").json()
            assert health["status"] == "degraded" and health["database"] == "reachable"
            assert health["writes"] == "failing"
            created = client.post("/api/v1/facts", json=fact_data("refused"), headers=headers)
            assert created.status_code == 503, created.text
            assert created.headers["content-type"].startswith("application/problem+json")
            assert "read-only" in created.json()["detail"]
            assert created.headers["retry-after"]
            fact_id = "first-central-asia-eu-summit-2025"
            changed = client.patch(
                f"/api/v1/facts/{fact_id}",
                json={"title": {"en": "Changed"}},
                headers={**headers, "If-Match": '"1"'},
            )
            assert changed.status_code == 503, changed.text
            # Reads go on as before.
            assert client.get(f"/api/v1/facts/{fact_id}").status_code == 200
            assert len(client.get("/api/v1/timeline").json()["items"]) == 15
    finally:
        service.stop()
    assert "refused" not in asyncio.run(stored_fact_ids(database_url))


# --- a PostgreSQL server that accepts connections and never answers -----------------------


class Blackhole:
    """A TCP relay to PostgreSQL that can go silent: it keeps accepting connections and
    holding them open, but passes nothing on, as a hung server or a dropped route does."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.silent = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.sockets.append(client)
            if self.silent.is_set():
                continue  # accepted, and never answered
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets.append(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if self.silent.is_set():
                continue  # swallowed
            try:
                sink.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def test_a_postgres_that_never_answers_gets_quick_503s_not_hung_requests(
    postgres_url: str, tmp_path: Path
):
    token = asyncio.run(seeded_with_token(postgres_url))
    headers = {"Authorization": f"Bearer {token}"}
    real = make_url(postgres_url)
    relay = Blackhole(real.port or 5432)
    url = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    env = {"TIMELINE_DB_CONNECT_TIMEOUT_SECONDS": "1", "TIMELINE_DB_STATEMENT_TIMEOUT_SECONDS": "2"}
    service = Served(url, tmp_path / "server.log", env=env).start()
    try:
        # The client waits 15 s, far longer than the timeouts: a hung request fails here.
        with httpx.Client(base_url=service.base, timeout=15) as client:
            assert client.get("/api/v1/timeline").status_code == 200  # pooled connections
            relay.silent.set()
            for path in ("/api/v1/timeline?q=eu", "/api/v1/facts/no-such-fact", "/calendar.ics"):
                response = client.get(path)
                assert response.status_code == 503, (path, response.text)
                assert response.headers["content-type"].startswith("application/problem+json")
            refused = client.post("/api/v1/facts", json=fact_data("unanswered"), headers=headers)
            assert refused.status_code == 503, refused.text
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["database"] == "unreachable"
    finally:
        service.stop()
        relay.close()
    assert "unanswered" not in asyncio.run(stored_fact_ids(postgres_url))
