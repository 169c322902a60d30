"""The JSON API as the tests drive it: a test client with an editor's token, and the check
every refusal must pass (a problem+json body with the status and words a user reads).
The `api` fixture is in tests/conftest.py."""

from __future__ import annotations

import asyncio
import datetime as dt

from litestar.testing import TestClient

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # after the seeds, on any real clock
BASE = "https://timeline.example.org"


def run(coro):
    return asyncio.run(coro)


class Api:
    def __init__(self, client: TestClient, token: str, url: str) -> None:
        self.client = client
        self.token = token
        self.url = url

    def auth(self, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **headers}

    def ids(self, path: str = "/api/v1/timeline", **params) -> list[str]:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]


def assert_problem(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body
