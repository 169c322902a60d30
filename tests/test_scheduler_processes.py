"""Two service processes on one database, as with --workers or several machines: exactly
one runs the scheduled jobs, and when it is killed the other takes over."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.decider import RecordFact
from events.handler import handle
from service.tokens import create_token
from service.wiring import open_store
from tests.factories import make_fact
from tests.served import Served


class Server(Served):
    """A service process with its scheduler on, retrying the election quickly."""

    def __init__(self, url: str, backups: Path, log: Path, token: str) -> None:
        self.token = token  # `/api/v1/jobs` names the processes only to a write token
        env = {
            "TIMELINE_SCHEDULER": "on",
            "TIMELINE_SCHEDULER_RETRY_SECONDS": "0.2",
            "TIMELINE_BACKUP_DIR": str(backups),
        }
        super().__init__(url, log, env=env)
        self.start(wait=False)

    def get(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=5).json()

    def jobs(self) -> dict[str, Any]:
        return self.get("/api/v1/jobs")


def eventually(check: Callable[[], bool], what: str, within: float = 60) -> None:
    """Wait for something the processes do in their own time (not a timing test)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)


def elapse_ran_by(server: Server) -> str | None:
    run = server.jobs()["jobs"][0]
    assert run["name"] == "elapse"
    return run["last_run"]["ran_by"] if run["last_run"] else None


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[list[Server]]:
    async def overdue_plan() -> str:
        store = open_store(database_url, null_pool=True)
        fact = make_fact("overdue-plan", status="planned", date={"edtf": "2020-05"})
        await handle(store, "overdue-plan", RecordFact(fact), actor="editor")
        token = await create_token(store.engine, "editor")
        await store.engine.dispose()
        return token

    token = asyncio.run(overdue_plan())
    servers = [
        Server(database_url, tmp_path / "backups", tmp_path / f"server-{i}.log", token)
        for i in range(2)
    ]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_one_of_two_processes_runs_the_jobs_and_the_other_takes_over_when_it_dies(
    two_servers: list[Server],
):
    a, b = two_servers
    eventually(lambda: all(s.get("/health")["status"] == "ok" for s in (a, b)), "both serve")
    eventually(lambda: a.jobs()["runner"] or b.jobs()["runner"], "a runner is elected")
    runner, standby = (a, b) if a.jobs()["runner"] else (b, a)
    eventually(lambda: elapse_ran_by(runner) is not None, "the runner runs elapse")

    assert standby.jobs()["runner"] is False and standby.jobs()["scheduler"] == "standby"
    assert standby.get("/health")["runner"] is False
    assert runner.get("/health")["runner"] is True
    runner_name = runner.jobs()["process"]
    assert elapse_ran_by(standby) == runner_name  # both read the same record
    assert standby.get("/api/v1/facts/overdue-plan")["status"] == "elapsed"

    runner.process.send_signal(signal.SIGKILL)  # no clean shutdown, no unlock
    runner.process.wait(timeout=15)
    eventually(lambda: standby.jobs()["runner"], "the standby takes over")
    new_name = standby.jobs()["process"]
    eventually(lambda: elapse_ran_by(standby) == new_name, "the new runner runs elapse")

    history = standby.get("/api/v1/facts/overdue-plan/history")
    assert [e["actor"] for e in history] == ["editor", "scheduler"]  # marked once, not twice
