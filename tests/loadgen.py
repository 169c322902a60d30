"""A load generator for the served API: a fixed number of connections for a fixed time.

Each connection loops over a mix of timeline reads and feed polls of Kazakhstan's facts
(half of the polls conditional, with the ETag of the previous one) and writes of new
facts, spread over the given servers. Used by tests/test_load.py (bounded, asserts no errors and no lost writes) and
by tests/benchmarks/bench_load.py (figures for README).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx

from tests.factories import fact_data

MIX = (("timeline", 0.6), ("feed", 0.25), ("write", 0.15))
EXPECTED = {"timeline": {200}, "feed": {200, 304}, "write": {201}}


@dataclass
class Result:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k, _ in MIX})
    errors: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def rate(self, kind: str | None = None) -> float:
        count = self.requests if kind is None else len(self.latencies[kind])
        return count / self.seconds if self.seconds else 0.0

    def p(self, q: float, kind: str | None = None) -> float:
        values = sorted(x for k, v in self.latencies.items() if kind in (None, k) for x in v)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _new_fact(fact_id: str) -> dict:
    # Not about Kazakhstan: the reads (country=KZ) stay the size of the seeds' share, as
    # polls of one feed would, instead of growing with every write of the run.
    return fact_data(fact_id, participants=["TR"], place=None)


async def run_load(
    bases: list[str],
    token: str,
    *,
    connections: int,
    seconds: float,
    seed: int = 7,
    rate: float | None = None,
) -> Result:
    """Each connection sends its next request as soon as the last is answered, or, given a
    `rate` (requests/s over all connections), on a fixed schedule: a request whose turn
    came while the last was still out is sent at once, and its latency counts from then."""
    result = Result()
    interval = connections / rate if rate else 0.0
    headers = {"Authorization": f"Bearer {token}"}
    kinds, weights = zip(*MIX, strict=True)

    async def connection(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        etag: str | None = None
        async with httpx.AsyncClient(base_url=bases[n % len(bases)], timeout=30) as client:
            i = 0
            turn = started + interval * n / connections  # the connections' turns interleave
            while time.perf_counter() < deadline:
                kind = rng.choices(kinds, weights)[0]
                i += 1
                if interval:
                    await asyncio.sleep(max(0.0, turn - time.perf_counter()))
                    turn += interval
                    if time.perf_counter() >= deadline:
                        break
                sent = time.perf_counter()
                try:
                    if kind == "timeline":
                        response = await client.get(
                            "/api/v1/timeline", params={"limit": 50, "country": "KZ"}
                        )
                    elif kind == "feed":
                        conditional = {"If-None-Match": etag} if etag and rng.random() < 0.5 else {}
                        response = await client.get(
                            "/calendar.ics", params={"country": "KZ"}, headers=conditional
                        )
                        etag = response.headers.get("etag", etag)
                    else:
                        fact_id = f"load-{seed}-{n}-{i}"
                        response = await client.post(
                            "/api/v1/facts", json=_new_fact(fact_id), headers=headers
                        )
                        if response.status_code == 201:
                            result.written.add(fact_id)
                except httpx.HTTPError as exc:
                    result.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                result.latencies[kind].append(time.perf_counter() - sent)
                if response.status_code not in EXPECTED[kind]:
                    result.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(connection(n) for n in range(connections)))
    result.seconds = time.perf_counter() - started
    return result
