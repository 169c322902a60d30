"""Benchmark: the iCalendar feeds and the TimelineJS export, side by side with /health.

The real server (`timeline serve`, one worker, loopback) on SQLite files in a temp
directory; the load generator is bench_api's minimal HTTP/1.1 client, CONNECTIONS
keep-alive connections, fixed-time phases whose order alternates between rounds; rates are
medians over the phases, latencies pooled. Ratios are to GET /health on the same server in
the same run. Nothing fails on a missed goal: the table says "met" or "NOT met".

1. SEED     the seed facts: /calendar.ics in English and Russian, `precision=any`, and the
            miss path (a query never asked before: a parameter the route ignores, new on
            every request, so no kept answer serves it). Goal (issue 18): each >= 1.0x
            /health. /health with the access log off (TIMELINE_ACCESS_LOG=off, a second
            server on the same database) is shown against /health with it on.
2. COLD     10,000 day-precision facts (bench_seed's generator, dates made exact) loaded in
            bulk, so no event is rendered yet: COLD_CONNECTIONS connections ask for the feed
            at once while as many poll /health; /health's p99 meanwhile against its p99 on
            an idle server (goal: the feed never blocks other requests), and the server's
            peak memory (VmHWM) after it.
3. 10K      the 10k feed repeated with `Accept-Encoding: gzip` (goal >= 0.5x /health); the
            10k feed never asked (events kept, the answer not), against bare `icalendar`
            building the same 10k events in this process (goal <= 0.1x); 304s on
            If-None-Match (goal >= 0.8x /health).
4. TLJS     the TimelineJS export of TLJS_FACTS-odd facts: the first request (builds every
            item), then repeated with gzip against /health (no goal in the issue; shown).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import icalendar
import msgspec

from events.dates import parse_edtf
from events.facts import Fact
from projections import calendar
from projections.items import page_url
from seeds import loader
from service import migrate
from service.wiring import open_store
from tests.served import Served

from . import bench_seed
from .bench_api import Connection, TableRow, _pct, _status, _table, served

N_FACTS = 10_000
CONNECTIONS = 16
PHASE_SECONDS = 5.0
PHASE_ROUNDS = 2
COLD_CONNECTIONS = 8
MISS_ROUNDS = 5
GOAL_SEED_RATIO = 1.0
GOAL_10K_GZIP_RATIO = 0.5
GOAL_MISS_RATIO = 0.1
GOAL_304_RATIO = 0.8
HEALTH = "/health"
GZIP = b"Accept-Encoding: gzip\r\n"
SEED_PATHS = {
    "seed feed, en": "/calendar.ics",
    "seed feed, ru": "/calendar.ics?lang=ru",
    "seed feed, precision=any, ru": "/calendar.ics?precision=any&lang=ru",
    "seed feed, miss path (never asked)": "/calendar.ics?precision=any&lang=ru&miss={n}",
}
FEED = "/calendar.ics"
TLJS = "/api/v1/timeline.timelinejs.json?to=2013-12-31"  # about 4,600 of the 10k facts


class Phase(msgspec.Struct):
    rate: float
    latencies: list[float]
    errors: int


def _write_facts(path: Path) -> list[Fact]:
    rng = random.Random(20251116)
    facts = []
    with path.open("w", encoding="utf-8") as out:
        for number in range(1, N_FACTS + 1):
            data = bench_seed._fact(rng, number)
            day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(365 * 30))
            edtf = day.isoformat()
            if rng.random() < 0.2:  # some multi-day meetings
                edtf += "/" + (day + dt.timedelta(days=rng.randint(1, 3))).isoformat()
            data["date"] = {"edtf": edtf}
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
            facts.append(msgspec.convert(data, Fact))
    return facts


def _load(url: str, paths: list[Path]) -> None:
    migrate.upgrade(url)

    async def work() -> None:
        store = open_store(url)
        try:
            await loader.load(store, paths)
        finally:
            await store.engine.dispose()

    asyncio.run(work())


def bare_icalendar(facts: list[Fact], base_url: str) -> bytes:
    """The reference: the same events made the plain way, one Calendar, one to_ical()."""
    stamp = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    cal = icalendar.Calendar.new(prodid=calendar.PRODID, uid="reference", name="reference")
    for fact in facts:
        bounds = parse_edtf(fact.date.edtf)
        assert bounds.start and bounds.end
        cal.add_component(
            icalendar.Event.new(
                uid=calendar.event_uid(fact.id, base_url),
                stamp=stamp,
                created=stamp,
                last_modified=stamp,
                sequence=0,
                summary=fact.title["en"],
                description=fact.summary["en"],
                location=fact.place.name["en"] if fact.place else None,
                categories=[fact.kind, *fact.tags],
                url=page_url(base_url, fact.id, "en"),
                status="CONFIRMED" if fact.status == "held" else "TENTATIVE",
                transparency="TRANSPARENT",
                start=bounds.start,
                end=bounds.end + dt.timedelta(days=1),
            )
        )
    return cal.to_ical()


def _peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _phase(pool: list[Connection], path: str, headers: bytes = b"", want: int = 200) -> Phase:
    latencies: list[float] = []
    errors = 0
    numbers = itertools.count()
    deadline = time.perf_counter() + PHASE_SECONDS

    async def loop(connection: Connection) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            url = path.format(n=next(numbers)) if "{n}" in path else path
            sent = time.perf_counter()
            status = await connection.get(url, headers)
            latencies.append(time.perf_counter() - sent)
            errors += status != want

    started = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in pool))
    return Phase(len(latencies) / (time.perf_counter() - started), latencies, errors)


async def _rounds(
    pool: list[Connection], sides: dict[str, tuple[str, bytes, int]]
) -> dict[str, list[Phase]]:
    """PHASE_ROUNDS of each side, the order reversed every other round."""
    results: dict[str, list[Phase]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(PHASE_ROUNDS):
        for name in names if r % 2 == 0 else names[::-1]:
            phase = await _phase(pool, *sides[name])
            results[name].append(phase)
            print(
                f"  round {r + 1} {name:<40} {phase.rate:8,.0f} req/s  p99 "
                f"{1000 * _pct(phase.latencies, 0.99):6.1f} ms  errors {phase.errors}",
                flush=True,
            )
    return results


def _rate(phases: list[Phase]) -> float:
    return statistics.median(p.rate for p in phases)


def _p99_ms(phases: list[Phase]) -> float:
    return 1000 * _pct([x for p in phases for x in p.latencies], 0.99)


def _against_health(
    name: str, phases: list[Phase], health: list[Phase], goal: float | None
) -> TableRow:
    ratio = _rate(phases) / _rate(health)
    return TableRow(
        name,
        f"{_rate(phases):,.0f} req/s (p99 {_p99_ms(phases):.1f} ms)",
        f"/health {_rate(health):,.0f} req/s",
        f"{ratio:.2f}x",
        f">= {goal:.1f}x" if goal is not None else "-",
        _status(ratio >= goal) if goal is not None else "(info)",
    )


async def _pool(server: Served, size: int = CONNECTIONS) -> list[Connection]:
    return [await Connection.open("127.0.0.1", server.port) for _ in range(size)]


async def _close(pool: list[Connection]) -> None:
    for connection in pool:
        await connection.close()


async def _seed(server: Served, quiet: Served, rows: list[TableRow]) -> None:
    pool = await _pool(server)
    try:
        for path in [*SEED_PATHS.values(), HEALTH]:  # warm up
            await _phase(pool, path)
        sides = {name: (path, b"", 200) for name, path in SEED_PATHS.items()}
        results = await _rounds(pool, {**sides, "health": (HEALTH, b"", 200)})
        quiet_results: dict[str, list[Phase]] = {"log on": [], "log off": []}
        for r in range(PHASE_ROUNDS):
            for name in ("log on", "log off") if r % 2 == 0 else ("log off", "log on"):
                # Opened for the phase: idle keep-alive connections are closed after 5 s.
                fresh = await _pool(server if name == "log on" else quiet)
                phase = await _phase(fresh, HEALTH)
                await _close(fresh)
                quiet_results[name].append(phase)
                print(f"  round {r + 1} /health, access {name:<24} {phase.rate:8,.0f} req/s")
    finally:
        await _close(pool)
    health = results["health"]
    rows += [_against_health(name, results[name], health, GOAL_SEED_RATIO) for name in sides]
    on, off = _rate(quiet_results["log on"]), _rate(quiet_results["log off"])
    rows.append(
        TableRow(
            "/health, access log off (TIMELINE_ACCESS_LOG=off)",
            f"{off:,.0f} req/s",
            f"log on {on:,.0f} req/s",
            f"{off / on:.2f}x",
            "-",
            "(info)",
        )
    )


async def _cold(server: Served, rows: list[TableRow]) -> None:
    """The first feed after a bulk load, asked by several at once, while /health is polled."""
    assert server.process is not None
    pool = await _pool(server, 2 * COLD_CONNECTIONS)
    try:
        idle = await _phase(pool[COLD_CONNECTIONS:], HEALTH)
        feeds_done = asyncio.Event()
        health: list[float] = []

        async def poll(connection: Connection) -> None:
            while not feeds_done.is_set():
                sent = time.perf_counter()
                await connection.get(HEALTH)
                health.append(time.perf_counter() - sent)

        async def ask(connection: Connection) -> float:
            sent = time.perf_counter()
            status = await connection.get(FEED, GZIP)
            assert status == 200, status
            return time.perf_counter() - sent

        started = time.perf_counter()
        polls = [asyncio.create_task(poll(c)) for c in pool[COLD_CONNECTIONS:]]
        feed_times = await asyncio.gather(*(ask(c) for c in pool[:COLD_CONNECTIONS]))
        feeds_done.set()
        await asyncio.gather(*polls)
        elapsed = time.perf_counter() - started
    finally:
        await _close(pool)
    peak = _peak_memory_mb(server.process.pid)
    print(
        f"  cold: {COLD_CONNECTIONS} feeds in {max(feed_times):.2f} s; /health answered "
        f"{len(health)} times meanwhile, p99 {1000 * _pct(health, 0.99):.1f} ms, max "
        f"{1000 * max(health):.1f} ms; server peak memory {peak:.0f} MB"
    )
    rows += [
        TableRow(
            f"/health p99 while {COLD_CONNECTIONS} ask the cold 10k feed",
            f"{1000 * _pct(health, 0.99):.1f} ms (max {1000 * max(health):.1f} ms, "
            f"{len(health) / elapsed:,.0f} req/s)",
            f"idle /health p99 {1000 * _pct(idle.latencies, 0.99):.1f} ms",
            "",
            "never blocked",
            "(see max)",
        ),
        TableRow(
            "cold 10k feed: first answer, rendering every event",
            f"{max(feed_times):.2f} s",
            f"server peak memory {peak:.0f} MB",
            "",
            "-",
            "(info)",
        ),
    ]


async def _repeated(server: Served, rows: list[TableRow]) -> None:
    pool = await _pool(server)
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=120) as check:
            # the gzipped feed's ETag: the 304 phase asks with gzip too, as calendar apps do
            etag = (await check.get(FEED, headers={"Accept-Encoding": "gzip"})).headers["etag"]
            first = time.perf_counter()
            (await check.get(TLJS)).raise_for_status()
            tljs_first = time.perf_counter() - first
        results = await _rounds(
            pool,
            {
                "10k feed, repeated, gzip": (FEED, GZIP, 200),
                "10k feed, 304": (FEED, GZIP + f"If-None-Match: {etag}\r\n".encode(), 304),
                "TimelineJS export, repeated, gzip": (TLJS, GZIP, 200),
                "health": (HEALTH, b"", 200),
            },
        )
    finally:
        await _close(pool)
    health = results["health"]
    rows += [
        _against_health(
            "10k feed repeated, gzip",
            results["10k feed, repeated, gzip"],
            health,
            GOAL_10K_GZIP_RATIO,
        ),
        _against_health(
            "10k feed, 304 on If-None-Match", results["10k feed, 304"], health, GOAL_304_RATIO
        ),
        _against_health(
            "TimelineJS export (~4,600 facts) repeated, gzip",
            results["TimelineJS export, repeated, gzip"],
            health,
            None,
        ),
        TableRow(
            "TimelineJS export (~4,600 facts), first answer", f"{tljs_first:.2f} s", "", "", "-"
        ),
    ]


def _miss_10k(server: Served, facts: list[Fact], rows: list[TableRow]) -> None:
    """The 10k feed never asked (events kept, not the answer) against bare icalendar."""
    ours, bare = [], []
    for r in range(MISS_ROUNDS):
        sides = ["ours", "bare"] if r % 2 == 0 else ["bare", "ours"]
        for side in sides:
            started = time.perf_counter()
            if side == "ours":
                response = httpx.get(f"{server.base}{FEED}?miss={r}", timeout=120)
                assert response.content.count(b"BEGIN:VEVENT") == N_FACTS
                ours.append(time.perf_counter() - started)
            else:
                assert bare_icalendar(facts, server.base).count(b"BEGIN:VEVENT") == N_FACTS
                bare.append(time.perf_counter() - started)
    ratio = statistics.median(ours) / statistics.median(bare)
    rows.append(
        TableRow(
            "10k feed never asked (events kept), identity",
            f"{statistics.median(ours):.3f} s",
            f"bare icalendar {statistics.median(bare):.2f} s",
            f"{ratio:.3f}x",
            f"<= {GOAL_MISS_RATIO}x",
            _status(ratio <= GOAL_MISS_RATIO),
        )
    )


def main() -> None:
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs; load average "
        + "/".join(f"{load:.2f}" for load in os.getloadavg())
        + " at start (other work on the machine skews the figures)"
    )
    rows: list[TableRow] = []
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as tmp:
        folder = Path(tmp)
        seed_db = folder / "seed.db"
        _load(f"sqlite:///{seed_db}", loader.default_paths())
        server, quiet = served(seed_db, folder / "seed.log"), served(seed_db, folder / "quiet.log")
        quiet.env["TIMELINE_ACCESS_LOG"] = "off"
        try:
            server.start()
            quiet.start()
            asyncio.run(_seed(server, quiet, rows))
        finally:
            server.stop()
            quiet.stop()

        jsonl, db = folder / "facts.jsonl", folder / "timeline.db"
        facts = _write_facts(jsonl)
        _load(f"sqlite:///{db}", [jsonl])
        server = served(db, folder / "server.log")
        try:
            server.start()
            asyncio.run(_cold(server, rows))
            asyncio.run(_repeated(server, rows))
            _miss_10k(server, facts, rows)
        finally:
            server.stop()
    print()
    print(_table(rows))


if __name__ == "__main__":
    main()
