"""Benchmark: the served API and a full rebuild, each against a floor.

All on SQLite FILE databases in a temp directory, in one run:

1. API      100k facts (bench_seed's generator, loaded by `seeds.loader.load` through
            `open_store`, so the read model is built too) behind the real server:
            `timeline serve` as a subprocess (one worker, loopback, TIMELINE_SCHEDULER=off).
            A Python load generator (asyncio, CONNECTIONS keep-alive connections of a minimal
            HTTP/1.1 client, one loop each) runs fixed-time phases rotating `GET /api/v1/timeline?limit=50`,
            `GET /health` and the timeline page with a query parameter the route ignores and
            that differs on every request (`&miss=N`): the same page, never answered from the
            service's cache of answers by ETag (service/http/conditional.py), so it shows what
            building a page costs. Goals: timeline throughput >= 0.5x /health's; timeline
            p99 < 25 ms; the table holds the uncached page to the same bar. A last phase with
            one connection shows the timeline's latency without queueing.
2. REBUILD  `projections.timeline.rebuild(store)` of the 100k-event log against a raw scan of
            the same file (sqlite3 `SELECT * FROM events ORDER BY position`, every row fetched
            and its data column json-decoded). Goal: rebuild >= 10% of the scan's events/s.

Rounds alternate which side goes first; tables show medians (latencies: pooled over the
phases). Nothing fails on a missed goal: the table says "met" or "NOT met".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from projections import projection, timeline
from seeds import loader
from service import migrate
from service.wiring import open_store
from tests.factories import rebuild
from tests.served import Served

from . import bench_seed

N_FACTS = bench_seed.N_FACTS

# 1. API
CONNECTIONS = 16
PHASE_SECONDS = 10.0
PHASE_ROUNDS = 2  # per endpoint; order alternates between rounds
WARMUP_SECONDS = 2.0
UNLOADED_SECONDS = 5.0  # one connection, timeline only: latency without queueing (info)
TIMELINE_PATH = "/api/v1/timeline?limit=50"
MISS_PATH = "/api/v1/timeline?limit=50&miss={n}"  # a new URL each time: no cached answer
HEALTH_PATH = "/health"
ENDPOINTS = [TIMELINE_PATH, HEALTH_PATH, MISS_PATH]
GOAL_THROUGHPUT_RATIO = 0.5
GOAL_TIMELINE_P99_MS = 25.0
# 2. rebuild
REBUILD_ROUNDS = 2
GOAL_REBUILD_RATIO = 0.10


@dataclass
class Phase:
    path: str
    seconds: float
    latencies: list[float]  # seconds
    errors: int
    client_cpu: float  # fraction of one CPU
    server_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


@dataclass
class TableRow:
    name: str
    value: str
    reference: str = ""
    ratio: str = ""
    goal: str = ""
    status: str = ""


@dataclass
class Report:
    rows: list[TableRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _status(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- 1. the served API ---------------------------------------------------------------------


def _load_facts(jsonl: Path, db: Path) -> float:
    migrate.upgrade(_url(db))

    async def work() -> int:
        store = open_store(_url(db))
        try:
            await loader.load(store, [jsonl])
            return await store.head()
        finally:
            await store.engine.dispose()

    started = time.perf_counter()
    head = asyncio.run(work())
    elapsed = time.perf_counter() - started
    if head != N_FACTS:
        raise RuntimeError(f"loading the seed file gave head={head}, not {N_FACTS}")
    return elapsed


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or NaN where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(db: Path, log: Path) -> Served:
    """The service on `db` in a child process: one worker, no scheduler, not yet started."""
    return Served(_url(db), log, env={"TIMELINE_HOST": "127.0.0.1", "TIMELINE_WORKERS": "1"})


def _cpu_pressure_us() -> int | None:
    """Linux PSI: total microseconds some runnable task waited for a CPU (None if absent)."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first.rsplit("total=", 1)[1])


class Connection:
    """One keep-alive HTTP/1.1 connection that GETs and reads each body whole.

    A tenth of httpx's cost per request: with httpx the load generator saturated its core
    first (at ~550 req/s of 50 KB pages), so its own queueing set the latencies measured.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def get(self, path: str, headers: bytes = b"") -> int:
        """GET `path`, with `headers` (CRLF-ended lines) added to the request's own."""
        self.writer.write(b"GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n" % (path.encode(), headers))
        async with asyncio.timeout(30):
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None and head[9:12] == b"304":  # no body, no length
                return 304
            if length is None:
                raise RuntimeError(f"a response without Content-Length: {head[:200]!r}")
            await self.reader.readexactly(length)
        return int(head[9:12])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):  # the server may have closed it first
            await self.writer.wait_closed()


async def _phase(
    pool: list[Connection],
    path: str,
    seconds: float,
    server_pid: int,
    connections: int = CONNECTIONS,
) -> Phase:
    latencies: list[float] = []
    errors = 0
    deadline = 0.0

    numbers = itertools.count()

    async def loop(connection: Connection) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            url = path.format(n=next(numbers)) if "{n}" in path else path
            sent = time.perf_counter()
            status = await connection.get(url)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                errors += 1

    client_cpu0, server_cpu0 = time.process_time(), _cpu_seconds(server_pid)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(loop(connection) for connection in pool[:connections]))
    elapsed = time.perf_counter() - started
    return Phase(
        path=path,
        seconds=elapsed,
        latencies=latencies,
        errors=errors,
        client_cpu=(time.process_time() - client_cpu0) / elapsed,
        server_cpu=(_cpu_seconds(server_pid) - server_cpu0) / elapsed,
    )


async def _drive(server: Served) -> tuple[dict[str, list[Phase]], Phase, float | None]:
    async with httpx.AsyncClient(base_url=server.base, timeout=30.0) as check:
        # What the timeline answers: a full page of 50, uncached or not.
        for path in (TIMELINE_PATH, MISS_PATH.format(n="check")):
            page = (await check.get(path)).raise_for_status().json()
            if len(page["items"]) != 50 or not page["next_cursor"]:
                raise RuntimeError(f"unexpected timeline page: {len(page['items'])} items")
    client = [await Connection.open("127.0.0.1", server.port) for _ in range(CONNECTIONS)]
    try:
        for path in ENDPOINTS:  # warm up connections and caches
            await _phase(client, path, WARMUP_SECONDS, server.process.pid)
        phases: dict[str, list[Phase]] = {path: [] for path in ENDPOINTS}
        pressure0, started = _cpu_pressure_us(), time.perf_counter()
        for r in range(PHASE_ROUNDS):
            order = ENDPOINTS if r % 2 == 0 else ENDPOINTS[::-1]
            for path in order:
                phase = await _phase(client, path, PHASE_SECONDS, server.process.pid)
                phases[path].append(phase)
                print(
                    f"  api round {r + 1} {path:<37} {phase.rate:>8,.0f} req/s  "
                    f"p50 {1000 * _pct(phase.latencies, 0.5):6.2f} ms  "
                    f"p99 {1000 * _pct(phase.latencies, 0.99):6.2f} ms  "
                    f"errors {phase.errors}  CPU client {phase.client_cpu:4.0%} "
                    f"server {phase.server_cpu:4.0%}",
                    flush=True,
                )
        pressure1, elapsed = _cpu_pressure_us(), time.perf_counter() - started
        stalled = (
            None
            if pressure0 is None or pressure1 is None
            else (pressure1 - pressure0) / 1e6 / elapsed
        )
        unloaded = await _phase(client, TIMELINE_PATH, UNLOADED_SECONDS, server.process.pid, 1)
        print(
            f"  api 1 connection {TIMELINE_PATH:<28} {unloaded.rate:>8,.0f} req/s  "
            f"p50 {1000 * _pct(unloaded.latencies, 0.5):6.2f} ms  "
            f"p99 {1000 * _pct(unloaded.latencies, 0.99):6.2f} ms",
            flush=True,
        )
    finally:
        for connection in client:
            await connection.close()
    return phases, unloaded, stalled


def _api(folder: Path, db: Path, report: Report) -> None:
    server = served(db, folder / "server.log")
    started = time.perf_counter()
    try:
        server.start()
        assert server.process is not None
        print(
            f"server pid {server.process.pid} on {server.base} answered /health after "
            f"{time.perf_counter() - started:.1f}s"
        )
        phases, unloaded, stalled = asyncio.run(_drive(server))
    finally:
        server.stop()
        print(f"server stopped (exit code {server.process and server.process.returncode})")

    def pooled(path: str) -> tuple[float, float, float, int, float, float]:
        runs = phases[path]
        latencies = [x for p in runs for x in p.latencies]
        rate = statistics.median(p.rate for p in runs)
        errors = sum(p.errors for p in runs)
        client = max(p.client_cpu for p in runs)
        server_cpu = max(p.server_cpu for p in runs)
        return (
            rate,
            _pct(latencies, 0.5) * 1000,
            _pct(latencies, 0.99) * 1000,
            errors,
            client,
            server_cpu,
        )

    t_rate, t_p50, t_p99, t_err, t_client, t_server = pooled(TIMELINE_PATH)
    h_rate, h_p50, h_p99, h_err, h_client, h_server = pooled(HEALTH_PATH)
    m_rate, m_p50, m_p99, m_err, m_client, m_server = pooled(MISS_PATH)
    ratio = t_rate / h_rate
    report.rows += [
        TableRow(
            f"1. GET timeline?limit=50, {CONNECTIONS} conns",
            f"{t_rate:,.0f} req/s",
            f"/health {h_rate:,.0f} req/s",
            f"{ratio:.2f}x",
            f">= {GOAL_THROUGHPUT_RATIO:.1f}x",
            _status(ratio >= GOAL_THROUGHPUT_RATIO),
        ),
        TableRow(
            f"1. GET timeline?limit=50 p99, {CONNECTIONS} conns",
            f"{t_p99:.1f} ms",
            f"/health p99 {h_p99:.1f} ms",
            "",
            f"< {GOAL_TIMELINE_P99_MS:.0f} ms",
            _status(t_p99 < GOAL_TIMELINE_P99_MS),
        ),
        TableRow(
            f"   GET timeline?limit=50 p50, {CONNECTIONS} conns",
            f"{t_p50:.1f} ms",
            f"/health p50 {h_p50:.1f} ms",
            "",
            "-",
            "(info)",
        ),
        TableRow(
            f"1. uncached timeline page, {CONNECTIONS} conns",
            f"{m_rate:,.0f} req/s",
            f"/health {h_rate:,.0f} req/s",
            f"{m_rate / h_rate:.2f}x",
            f">= {GOAL_THROUGHPUT_RATIO:.1f}x",
            _status(m_rate / h_rate >= GOAL_THROUGHPUT_RATIO),
        ),
        TableRow(
            f"1. uncached timeline page p99, {CONNECTIONS} conns",
            f"{m_p99:.1f} ms",
            f"p50 {m_p50:.1f} ms",
            "",
            f"< {GOAL_TIMELINE_P99_MS:.0f} ms",
            _status(m_p99 < GOAL_TIMELINE_P99_MS),
        ),
        TableRow(
            "   GET timeline?limit=50 p99, 1 conn",
            f"{_pct(unloaded.latencies, 0.99) * 1000:.1f} ms",
            f"p50 {_pct(unloaded.latencies, 0.5) * 1000:.1f} ms, {unloaded.rate:,.0f} req/s",
            "",
            "-",
            "(info)",
        ),
    ]
    report.notes.append(
        f"api: {CONNECTIONS} connections, {PHASE_ROUNDS} x {PHASE_SECONDS:.0f} s phases per endpoint "
        f"(throughput = median over phases, latency percentiles pooled); errors: timeline {t_err}, "
        f"uncached {m_err}, health {h_err}; uncached phases: CPU client {m_client:.0%} / server "
        f"{m_server:.0%}; peak CPU (share of one core) client {max(t_client, h_client):.0%}, "
        f"server {max(t_server, h_server):.0%} (timeline phases: client {t_client:.0%} / server "
        f"{t_server:.0%}; health phases: client {h_client:.0%} / server {h_server:.0%}); "
        + (
            f"CPU pressure during the measured phases: some task waited for a CPU "
            f"{stalled:.0%} of the time (other work on the machine)"
            if stalled is not None
            else "CPU pressure: n/a"
        )
    )
    if max(t_client, h_client) >= 0.85:
        report.notes.append(
            "api: the load generator itself used >= 85% of a core in some phase: with 2 CPUs "
            "shared by client and server, those phases' throughput is partly client-bound "
            "(latencies include client-side queueing); /health is the more affected, which "
            "flatters the timeline/health ratio."
        )


# --- 2. rebuild against a raw scan ----------------------------------------------------------


def _time_rebuild(db: Path) -> float:
    async def work() -> float:
        store = open_store(_url(db))
        try:
            head = await store.head()  # connect outside the timing
            started = time.perf_counter()
            count = await rebuild(store)
            elapsed = time.perf_counter() - started
            async with store.engine.connect() as conn:
                position = await projection.checkpoint(conn, timeline.NAME)
            if count != head or position != head:
                raise RuntimeError(
                    f"rebuild replayed {count} events, checkpoint {position}, head {head}"
                )
            return elapsed
        finally:
            await store.engine.dispose()

    return asyncio.run(work())


def _time_raw_scan(db: Path) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT * FROM events ORDER BY position").fetchall()
        data = [json.loads(row[4]) for row in rows]
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    if len(data) != N_FACTS:
        raise RuntimeError(f"raw scan read {len(data)} events, not {N_FACTS}")
    return elapsed


def _rebuild(db: Path, report: Report) -> None:
    ours: list[float] = []
    raw: list[float] = []
    for r in range(REBUILD_ROUNDS):
        order = ["rebuild", "raw"] if r % 2 == 0 else ["raw", "rebuild"]
        for side in order:
            if side == "rebuild":
                ours.append(N_FACTS / _time_rebuild(db))
            else:
                raw.append(N_FACTS / _time_raw_scan(db))
        print(
            f"  rebuild round {r + 1}: rebuild {ours[-1]:>9,.0f} ev/s, raw scan {raw[-1]:>9,.0f} ev/s",
            flush=True,
        )
    ratio = statistics.median(ours) / statistics.median(raw)
    report.rows.append(
        TableRow(
            f"2. rebuild of {N_FACTS // 1000}k events",
            f"{statistics.median(ours):,.0f} ev/s",
            f"raw scan {statistics.median(raw):,.0f} ev/s",
            f"{ratio:.3f}x",
            f">= {GOAL_REBUILD_RATIO:.2f}x",
            _status(ratio >= GOAL_REBUILD_RATIO),
        )
    )


# --- report --------------------------------------------------------------------------------


def _table(rows: list[TableRow]) -> str:
    headers = TableRow("measurement", "ours", "reference", "ratio", "goal", "status")
    widths = [
        max(len(getattr(row, name)) for row in [headers, *rows])
        for name in ("name", "value", "reference", "ratio", "goal", "status")
    ]

    def line(row: TableRow) -> str:
        cells = [row.name, row.value, row.reference, row.ratio, row.goal, row.status]
        aligned = [
            cell.ljust(width) if i in (0, 2, 4, 5) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(aligned).rstrip()

    header = line(headers)
    return "\n".join([header, "-" * len(header), *(line(row) for row in rows)])


def main() -> None:
    total = time.perf_counter()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; load average "
        + "/".join(f"{load:.2f}" for load in os.getloadavg())
        + " at start (other work on the machine skews the figures)"
    )
    report = Report()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        folder = Path(tmp)
        jsonl = folder / "bench-facts.jsonl"
        db = folder / "api.db"
        started = time.perf_counter()
        bench_seed.write_facts(jsonl, N_FACTS)
        print(f"generated {N_FACTS:,} facts in {time.perf_counter() - started:.1f}s")
        loaded = _load_facts(jsonl, db)
        print(
            f"loaded them with seeds.loader.load(open_store(url)) in {loaded:.1f}s "
            f"({N_FACTS / loaded:,.0f} facts/s, projection included); "
            f"database {db.stat().st_size / 1e6:.0f} MB"
        )
        _api(folder, db, report)
        _rebuild(db, report)

    print()
    print(_table(report.rows))
    print()
    for note in report.notes:
        print(note)
    print(
        "load average at end "
        + "/".join(f"{load:.2f}" for load in os.getloadavg())
        + f"; bench_api took {time.perf_counter() - total:.0f} s"
    )
