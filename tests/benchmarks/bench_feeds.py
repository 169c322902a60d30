"""Benchmark: the iCalendar feed of 10,000 facts, against bare icalendar and /health.

On a SQLite file database in a temp directory, in one run:

1. FEED     10k day-precision facts (bench_seed's generator, dates made exact) behind the
            real server (`timeline serve`, one worker). The first request renders and keeps
            every VEVENT (shown, not a goal); then GET /calendar.ics, which no cache answers
            (the service keeps rendered events, never whole responses), is timed against
            bare `icalendar` building and serialising a Calendar of the same 10k events in
            this process. Goal: the served feed in <= 0.1x bare icalendar's time.
2. 304      fixed-time phases of conditional GETs of the feed (If-None-Match: its ETag)
            alternating with GET /health, 16 connections. Goal: >= 0.8x /health's rate.
3. MEMORY   peak Python memory (tracemalloc) of `projections.calendar.feed` producing the
            10k feed in this process, from kept events and from nothing.

Rounds alternate which side goes first; medians are shown. Nothing fails on a missed goal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx
import icalendar
import msgspec

from events.dates import parse_edtf
from events.db import create_engine
from events.facts import Fact
from projections import calendar
from projections.items import page_url
from seeds import loader
from service import migrate
from service.wiring import open_store
from tests.served import Served

from . import bench_seed
from .bench_api import _pct, served

N_FACTS = 10_000
FEED_ROUNDS = 5
CONNECTIONS = 16
PHASE_SECONDS = 8.0
PHASE_ROUNDS = 2
GOAL_FEED_RATIO = 0.1
GOAL_304_RATIO = 0.8
FEED_PATH = "/calendar.ics"
HEALTH_PATH = "/health"


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


def _load(jsonl: Path, url: str) -> None:
    migrate.upgrade(url)

    async def work() -> None:
        store = open_store(url)
        try:
            await loader.load(store, [jsonl])
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


def _time_reference(facts: list[Fact], base_url: str) -> tuple[float, int]:
    started = time.perf_counter()
    body = bare_icalendar(facts, base_url)
    return time.perf_counter() - started, body.count(b"BEGIN:VEVENT")


def _time_served(server: Served) -> tuple[float, int]:
    started = time.perf_counter()
    response = httpx.get(server.base + FEED_PATH, timeout=120.0)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.content.count(b"BEGIN:VEVENT")


async def _phase(client: httpx.AsyncClient, path: str, headers: dict[str, str], want: int):
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + PHASE_SECONDS

    async def loop() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - sent)
            errors += response.status_code != want

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(CONNECTIONS)))
    return len(latencies) / (time.perf_counter() - started), latencies, errors


async def _conditional(server: Served) -> dict[str, list[tuple[float, list[float], int]]]:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=30.0) as client:
        etag = (await client.get(FEED_PATH)).raise_for_status().headers["etag"]
        sides = {
            "304": (FEED_PATH, {"If-None-Match": etag}, 304),
            "health": (HEALTH_PATH, {}, 200),
        }
        results: dict[str, list[tuple[float, list[float], int]]] = {"304": [], "health": []}
        for r in range(PHASE_ROUNDS):
            order = ["304", "health"] if r % 2 == 0 else ["health", "304"]
            for side in order:
                path, headers, want = sides[side]
                result = await _phase(client, path, headers, want)
                results[side].append(result)
                print(
                    f"  round {r + 1} {side:<6} {result[0]:8,.0f} req/s  "
                    f"p99 {1000 * _pct(result[1], 0.99):6.1f} ms  errors {result[2]}",
                    flush=True,
                )
    return results


def _memory(url: str, base_url: str) -> tuple[float, float]:
    query = calendar.FeedQuery()

    async def produce(clear: bool) -> int:
        engine = create_engine(url)
        try:
            if clear:
                async with engine.begin() as conn:
                    await conn.execute(calendar.events.delete())
            tracemalloc.start()
            body, _ = await calendar.feed(engine, query, base_url, N_FACTS)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            del body
            return peak
        finally:
            await engine.dispose()

    kept = asyncio.run(produce(clear=False))
    cold = asyncio.run(produce(clear=True))
    return kept / 2**20, cold / 2**20


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as tmp:
        folder = Path(tmp)
        jsonl, db = folder / "facts.jsonl", folder / "timeline.db"
        url = f"sqlite:///{db}"
        facts = _write_facts(jsonl)
        _load(jsonl, url)
        server = served(db, folder / "server.log")
        try:
            server.start()
            base_url = server.base
            first, count = _time_served(server)
            print(f"first request (renders and keeps {count} events): {first:.2f} s")
            if count != N_FACTS:
                raise RuntimeError(f"the feed holds {count} events, not {N_FACTS}")
            ours, theirs = [], []
            for r in range(FEED_ROUNDS):
                sides = [("ours", ours), ("bare", theirs)]
                for name, times in sides if r % 2 == 0 else reversed(sides):
                    if name == "ours":
                        seconds, n = _time_served(server)
                    else:
                        seconds, n = _time_reference(facts, base_url)
                    assert n == N_FACTS, (name, n)
                    times.append(seconds)
                    print(f"  round {r + 1} {name:<5} {seconds:6.3f} s", flush=True)
            conditional = asyncio.run(_conditional(server))
        finally:
            server.stop()
        kept_mb, cold_mb = _memory(url, base_url)

    ours_s, bare_s = statistics.median(ours), statistics.median(theirs)
    ratio = ours_s / bare_s
    rate_304 = statistics.median(r[0] for r in conditional["304"])
    rate_health = statistics.median(r[0] for r in conditional["health"])
    p99_304 = 1000 * _pct([x for r in conditional["304"] for x in r[1]], 0.99)
    errors = sum(r[2] for side in conditional.values() for r in side)
    print()
    print("| measurement | ours | reference | ratio | goal |")
    print("|---|---|---|---|---|")
    print(
        f"| 10k-event feed, served, no cached response | {ours_s:.3f} s | bare icalendar "
        f"{bare_s:.2f} s | {ratio:.3f}× | ≤ {GOAL_FEED_RATIO}× — "
        f"{'met' if ratio <= GOAL_FEED_RATIO else 'NOT met'} |"
    )
    print(f"| first request, rendering every event | {first:.2f} s | | | |")
    ratio_304 = rate_304 / rate_health
    print(
        f"| 304 on If-None-Match ({CONNECTIONS} connections) | {rate_304:,.0f} req/s "
        f"(p99 {p99_304:.1f} ms) | /health {rate_health:,.0f} req/s | {ratio_304:.2f}× | "
        f"≥ {GOAL_304_RATIO}× — {'met' if ratio_304 >= GOAL_304_RATIO else 'NOT met'} |"
    )
    print(
        f"| peak memory making the 10k feed (kept events / none kept) | "
        f"{kept_mb:.1f} MiB / {cold_mb:.1f} MiB | | | |"
    )
    print(f"errors in the load phases: {errors}")
