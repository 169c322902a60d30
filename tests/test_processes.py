"""Several service processes on one PostgreSQL database, as deployed with --workers or
on several machines: concurrent writes through both, nothing lost, read model consistent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.tokens import create_token
from service.wiring import open_store
from tests.factories import fact_data, read_model, rebuild
from tests.served import Served


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    servers = [Served(postgres_url, tmp_path / f"server-{i}.log") for i in range(2)]
    try:
        for server in servers:
            server.start()
        yield postgres_url, [server.port for server in servers]
    finally:
        for server in servers:
            server.stop()


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
    incremental = await read_model(store.engine)
    await rebuild(store)
    assert await read_model(store.engine) == incremental
    await store.engine.dispose()
