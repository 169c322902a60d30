"""Several service processes on one PostgreSQL database, as deployed with --workers or
on several machines: concurrent writes through both, nothing lost, read model consistent."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from projections import timeline
from service.auth import create_token
from service.wiring import open_store
from tests.factories import fact_data

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "TIMELINE_DATABASE_URL": url,
        "TIMELINE_PORT": str(port),
        "TIMELINE_SCHEDULER": "off",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"server on port {port} did not start")


@pytest.fixture
def two_servers(postgres_url: str) -> Iterator[tuple[str, list[int]]]:
    ports = [free_port(), free_port()]
    processes = [start_server(postgres_url, port) for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_healthy(port, process)
        yield postgres_url, ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


async def test_two_processes_writing_at_once(two_servers):
    url, ports = two_servers
    store = open_store(url, null_pool=True)
    token = await create_token(store.engine, "writer")
    headers = {"Authorization": f"Bearer {token}"}
    created: list[str] = []

    async def writer(client: httpx.AsyncClient, port: int, w: int, n: int) -> None:
        for i in range(n):
            fact_id = f"writer-{w}-fact-{i}"
            response = await client.post(
                f"http://127.0.0.1:{port}/api/v1/facts", json=fact_data(fact_id), headers=headers
            )
            assert response.status_code == 201, response.text
            created.append(fact_id)
            # both processes also race to change one shared fact
            shared = await client.get(f"http://127.0.0.1:{ports[0]}/api/v1/facts/{created[0]}")
            await client.patch(
                f"http://127.0.0.1:{port}/api/v1/facts/{created[0]}",
                json={"summary": {"en": f"edited via {port} #{i}"}},
                headers={**headers, "If-Match": shared.headers["etag"]},
            )

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(writer(client, ports[w % 2], w, 15) for w in range(4)))
        # every write that got a 2xx is readable through either process
        for port in ports:
            page = await client.get(f"http://127.0.0.1:{port}/api/v1/timeline?limit=1000")
            ids = {item["id"] for item in page.json()["items"]}
            assert set(created) <= ids

    assert len(created) == 60
    assert await store.verify() is None
    incremental = await timeline.dump(store.engine)
    await timeline.rebuild(store)
    assert await timeline.dump(store.engine) == incremental
    await store.engine.dispose()
