"""The scheduled jobs on both backends, with a clock the tests control: elapse, audit,
backup, their records, `/api/v1/jobs`, `/health`, `timeline jobs run` and the election."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import TestClient

from events.decider import ChangeFact, RecordFact, RetractFact
from events.handler import handle
from events.store import EventStore
from projections import timeline
from service import migrate
from service.cli import main
from service.http.app import create_app
from service.jobs import tasks as jobs
from service.jobs.election import election_for
from service.jobs.scheduler import Scheduler
from service.jobs.tasks import Context, run_job
from service.settings import Settings
from service.tokens import create_token
from service.wiring import open_store
from tests.api_client import assert_problem
from tests.conftest import PostgresDatabases
from tests.factories import StepClock, make_fact, read_model, tamper

TODAY = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
PHRASE = "date passed, outcome unknown"  # how the feeds word the status

# id -> (status, EDTF date), and whether the elapse job must mark it on TODAY
FACTS: dict[str, tuple[str, str, bool]] = {
    "yesterdays-plan": ("planned", "2026-06-14", True),
    "last-months-proposal": ("proposed", "2026-05", True),
    "until-last-year": ("planned", "../2025", True),
    "ends-today": ("planned", "2026-06-15", False),
    "this-month": ("planned", "2026-06", False),
    "next-month": ("planned", "2026-07", False),
    "held-long-ago": ("held", "2025-04-03", False),
    "cancelled-long-ago": ("cancelled", "2025", False),
    "postponed-long-ago": ("postponed", "2025-02", False),
    "from-2020-on": ("planned", "2020/..", False),
}


class Service:
    def __init__(self, store: EventStore, clock: StepClock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.ctx = Context(store=store, settings=settings, clock=clock)

    async def run(self, name: str) -> jobs.job_runs.JobRun:
        return await run_job(self.ctx, name, ran_by="test")

    async def record(self, fact_id: str, status: str, edtf: str) -> None:
        fact = make_fact(fact_id, status=status, date={"edtf": edtf})
        await handle(self.store, fact_id, RecordFact(fact), actor="editor")

    async def status(self, fact_id: str) -> str:
        row = await self.store.database.run(timeline.fact_row, fact_id)
        assert row is not None
        return row.status

    async def marked_by_scheduler(self) -> list[str]:
        return [
            e.stream_id.removeprefix("fact-")
            for e in await self.store.read_all(limit=None)
            if e.actor == "scheduler"
        ]


@pytest.fixture
async def service(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    clock = StepClock(TODAY, dt.timedelta(seconds=1))
    settings = Settings(
        database_url=database_url, backup_dir=str(tmp_path / "backups"), backup_keep=2
    )
    store = open_store(database_url, null_pool=True, clock=clock)
    yield Service(store, clock, settings)
    await store.engine.dispose()


async def record_all(service: Service) -> None:
    for fact_id, (status, edtf, _) in FACTS.items():
        await service.record(fact_id, status, edtf)
    await service.record("retracted-plan", "planned", "2025-01")
    await handle(service.store, "retracted-plan", RetractFact(), actor="editor")


# --- elapse -----------------------------------------------------------------------------


async def test_elapse_marks_exactly_the_plans_whose_window_has_passed(service: Service):
    await record_all(service)
    run = await service.run("elapse")

    should = sorted(fact_id for fact_id, (_, _, due) in FACTS.items() if due)
    assert run.outcome == "ok"
    assert run.detail == f"3 facts marked elapsed ({', '.join(should)})"
    assert sorted(await service.marked_by_scheduler()) == should
    for fact_id, (status, _, due) in FACTS.items():
        assert await service.status(fact_id) == ("elapsed" if due else status), fact_id
    event = (await service.store.read_stream("fact-last-months-proposal"))[-1]
    assert event.type == "FactStatusChanged.v1" and event.data == '{"status":"elapsed"}'
    assert event.reason is not None and "May 2026" in event.reason and "2026-05-31" in event.reason


async def test_elapse_marks_once_however_often_it_runs(service: Service):
    await record_all(service)
    await service.run("elapse")
    head = await service.store.head()
    again = await service.run("elapse")
    assert again.outcome == "ok" and again.detail == "0 facts marked elapsed"
    assert await service.store.head() == head


async def test_elapse_follows_the_clock(service: Service):
    await record_all(service)
    await service.run("elapse")
    service.clock.now = dt.datetime(2026, 7, 1, 0, 0, tzinfo=dt.UTC)  # the next day's run
    await service.run("elapse")
    assert await service.status("ends-today") == "elapsed"
    assert await service.status("this-month") == "elapsed"  # June is over
    assert await service.status("next-month") == "planned"
    assert await service.status("from-2020-on") == "planned"
    assert len(await service.marked_by_scheduler()) == 5


async def test_a_fact_an_editor_changed_since_it_was_read_is_left_to_the_editor(service: Service):
    for fact_id in ("confirmed-meanwhile", "revised-meanwhile", "untouched"):
        await service.record(fact_id, "planned", "2026-03")
    found = await jobs.candidates(service.store, TODAY.date())
    # Editors write between the job's read and its appends.
    await handle(
        service.store,
        "confirmed-meanwhile",
        ChangeFact(status="held"),
        actor="e",
        expected_version=1,
    )
    await handle(
        service.store,
        "revised-meanwhile",
        ChangeFact(summary={"en": "Postponed, says the ministry."}),
        actor="e",
        expected_version=1,
    )
    report = await jobs.mark_all(service.store, found, TODAY.date())
    assert report.marked == ["untouched"]
    assert sorted(report.skipped) == ["confirmed-meanwhile", "revised-meanwhile"]
    assert await service.status("confirmed-meanwhile") == "held"
    assert await service.status("revised-meanwhile") == "planned"
    # The next run decides again on what the facts now say.
    run = await service.run("elapse")
    assert run.detail == "1 fact marked elapsed (revised-meanwhile)"
    assert await service.status("confirmed-meanwhile") == "held"


def test_the_api_and_the_feed_show_an_elapsed_fact_and_an_editor_can_confirm_it(
    database_url: str,
):
    clock = StepClock(TODAY, dt.timedelta(seconds=1))

    async def prepare() -> str:
        store = open_store(database_url, null_pool=True, clock=clock)
        service = Service(store, clock, Settings(database_url=database_url))
        await service.record("yesterdays-plan", "planned", "2026-06-14")
        await service.run("elapse")
        token = await create_token(store.engine, "editor")
        await store.engine.dispose()
        return token

    token = asyncio.run(prepare())
    app = create_app(Settings(database_url=database_url, db_null_pool=True), clock=clock)
    with TestClient(app) as client:
        fact = client.get("/api/v1/facts/yesterdays-plan")
        assert fact.json()["status"] == "elapsed"
        assert fact.headers["etag"] == '"2-en"'
        listed = client.get("/api/v1/timeline", params={"status": "elapsed"}).json()["items"]
        assert [item["id"] for item in listed] == ["yesterdays-plan"]
        feed = client.get("/calendar.ics", params={"id": "yesterdays-plan", "precision": "any"})
        unfolded = feed.text.replace("\r\n ", "").replace("\\,", ",")
        assert f"SUMMARY:Test summit ({PHRASE})" in unfolded

        confirmed = client.patch(
            "/api/v1/facts/yesterdays-plan",
            json={"status": "held", "reason": "the ministry reported it"},
            headers={"Authorization": f"Bearer {token}", "If-Match": '"2"'},
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "held"


# --- audit ------------------------------------------------------------------------------


def health(database_url: str) -> dict:
    app = create_app(Settings(database_url=database_url, db_null_pool=True))
    with TestClient(app) as client:
        return client.get("/health").json()


async def test_the_audit_passes_on_a_sound_log_and_health_says_so(
    service: Service, database_url: str
):
    await record_all(service)
    run = await service.run("audit")
    assert run.outcome == "ok"
    assert run.detail == (
        "hash chain intact over 12 events; projections at the head: documents, timeline"
    )
    body = await asyncio.to_thread(health, database_url)
    assert body["status"] == "ok"
    assert body["audit"] == {"checked_at": run.finished_at, "ok": True, "detail": run.detail}


async def test_a_broken_hash_chain_fails_the_audit_loudly(
    service: Service, backend: str, database_url: str, caplog: pytest.LogCaptureFixture
):
    await record_all(service)
    await service.run("audit")
    await tamper(service.store, backend, "UPDATE events SET actor = 'mallory' WHERE position = 4")
    with caplog.at_level(logging.INFO, logger="timeline.jobs"):
        run = await service.run("audit")
    assert run.outcome == "failed"
    assert "hash chain breaks at position 4" in (run.detail or "")
    loud = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(loud) == 1 and "position 4" in loud[0].getMessage()
    body = await asyncio.to_thread(health, database_url)
    assert body["status"] == "degraded" and body["database"] == "reachable"
    assert body["audit"]["ok"] is False and "position 4" in body["audit"]["detail"]


async def test_health_shows_that_an_audit_could_not_run_but_not_the_errors_text(
    service: Service, database_url: str, monkeypatch: pytest.MonkeyPatch
):
    async def broken(_ctx: Context) -> str:
        raise OSError("/srv/timeline/secret-path: disk on db-host-7 is gone")

    monkeypatch.setitem(jobs.JOBS, "audit", msgspec.structs.replace(jobs.JOBS["audit"], run=broken))
    run = await service.run("audit")
    assert run.outcome == "failed" and "db-host-7" in (run.detail or "")  # for editors
    body = await asyncio.to_thread(health, database_url)
    assert body["status"] == "degraded" and body["audit"]["ok"] is False
    assert body["audit"]["detail"].startswith("could not run")
    assert "secret-path" not in str(body) and "db-host-7" not in str(body)


async def test_a_projection_behind_the_log_fails_the_audit(service: Service):
    await record_all(service)
    async with service.store.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE projection_checkpoints SET position = position - 2 WHERE name = 'timeline'"
            )
        )
    run = await service.run("audit")
    assert run.outcome == "failed"
    assert run.detail == "projection 'timeline' is at position 10, the log at 12"


# --- backup -----------------------------------------------------------------------------


@pytest.fixture
def other_empty_database(backend: str, tmp_path: Path, postgres_databases: PostgresDatabases):
    """Another freshly migrated database with nothing in it."""
    if backend == "postgres":
        return postgres_databases.migrated()
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    migrate.upgrade(url)
    return url


async def test_backups_are_kept_newest_first_and_nothing_else_is_touched(service: Service):
    await record_all(service)
    directory = Path(service.settings.backup_dir)
    directory.mkdir()
    (directory / "notes.txt").write_text("mine")
    made: list[str] = []
    for hour in (1, 2, 3):
        service.clock.now = dt.datetime(2026, 6, 15, hour, 0, tzinfo=dt.UTC)
        before = {p.name for p in directory.iterdir()}
        run = await service.run("backup")
        assert run.outcome == "ok", run.detail
        [new] = {p.name for p in directory.iterdir()} - before
        assert new.startswith(f"timeline-20260615T0{hour}00")  # named by the clock's time
        made.append(new)
    # keep = 2: the oldest went; the other file and no temporary file remain
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt", *made[1:]]
    assert run.detail == f"12 events to {directory / made[2]}; 1 older backup removed"


async def test_a_partial_file_left_by_a_killed_backup_is_cleaned_up_later(service: Service):
    await record_all(service)
    directory = Path(service.settings.backup_dir)
    directory.mkdir()
    stale = directory / ".timeline-20260614T030000Z.jsonl.partial"
    fresh = directory / ".timeline-20260615T005959Z.jsonl.partial"  # maybe being written now
    for path in (stale, fresh):
        path.write_text('{"half": ')
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    service.clock.now = dt.datetime(2026, 6, 15, 1, 0, tzinfo=dt.UTC)
    assert (await service.run("backup")).outcome == "ok"
    assert not stale.exists()
    assert fresh.exists()


async def test_a_backup_imports_into_an_empty_database_and_reproduces_the_log(
    service: Service, other_empty_database: str, monkeypatch: pytest.MonkeyPatch
):
    await record_all(service)
    await service.run("elapse")
    run = await service.run("backup")
    [path] = Path(service.settings.backup_dir).glob("timeline-*.jsonl")

    monkeypatch.setenv("TIMELINE_DATABASE_URL", other_empty_database)
    result = await asyncio.to_thread(CliRunner().invoke, main, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 15 events" in result.output and "15 events to" in (run.detail or "")

    restored = open_store(other_empty_database, null_pool=True)
    assert await restored.read_all(limit=None) == await service.store.read_all(limit=None)
    assert await restored.verify() is None
    assert await read_model(restored.engine) == await read_model(service.store.engine)
    await restored.engine.dispose()


# --- the command line -------------------------------------------------------------------


async def test_timeline_jobs_run_runs_one_job_and_records_it(
    service: Service, database_url: str, monkeypatch: pytest.MonkeyPatch, backend: str
):
    await service.record("old-plan", "planned", "2020-05")  # past on any real clock
    monkeypatch.setenv("TIMELINE_DATABASE_URL", database_url)
    result = await asyncio.to_thread(CliRunner().invoke, main, ["jobs", "run", "elapse"])
    assert result.exit_code == 0, result.output
    assert result.output == "elapse: ok: 1 fact marked elapsed (old-plan)\n"
    assert await service.status("old-plan") == "elapsed"
    [run] = (await jobs.job_runs.load_all(service.store.engine)).values()
    assert run.name == "elapse" and run.ran_by is not None and run.ran_by.startswith("cli ")

    await tamper(service.store, backend, "UPDATE events SET actor = 'x' WHERE position = 1")
    failed = await asyncio.to_thread(CliRunner().invoke, main, ["jobs", "run", "audit"])
    assert failed.exit_code == 1 and "audit: failed: the hash chain breaks" in failed.output

    unknown = await asyncio.to_thread(CliRunner().invoke, main, ["jobs", "run", "vacuum"])
    assert unknown.exit_code == 2 and "elapse" in unknown.output


def test_the_scheduler_is_on_unless_the_environment_turns_it_off():
    assert Settings.from_env({}).scheduler is True
    assert Settings.from_env({"TIMELINE_SCHEDULER": "off"}).scheduler is False
    assert Settings().scheduler is False  # apps made in code (tests) ask for it


# --- one runner -------------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    """Wait for a condition that the system reaches in its own time (not a timing test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


async def test_of_two_elections_one_wins_and_the_other_wins_after_it_resigns(
    database_url: str, service: Service
):
    first = election_for(service.store.engine, database_url)
    second = election_for(service.store.engine, database_url)
    assert await first.campaign() is True
    assert await second.campaign() is False
    assert await first.campaign() is True  # still held
    await first.resign()
    assert await second.campaign() is True
    assert await first.campaign() is False
    await second.resign()
    await first.resign()


async def test_a_runner_whose_database_session_dies_loses_the_lock(postgres_url: str):
    store = open_store(postgres_url, null_pool=True)
    runner, standby = (
        election_for(store.engine, postgres_url),
        election_for(store.engine, postgres_url),
    )
    assert await runner.campaign() is True
    assert await standby.campaign() is False
    async with store.engine.connect() as conn:  # as when the runner's connection is cut
        await conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted"
            )
        )
    with pytest.raises(sa.exc.DBAPIError):
        await runner.campaign()
    assert await standby.campaign() is True
    await standby.resign()
    await runner.resign()
    await store.engine.dispose()


async def test_two_schedulers_on_one_database_run_the_jobs_in_one_place(
    service: Service, database_url: str
):
    await service.record("yesterdays-plan", "planned", "2026-06-14")

    def scheduler() -> Scheduler:
        return Scheduler(
            service.ctx, election_for(service.store.engine, database_url), retry_seconds=0.05
        )

    a, b = scheduler(), scheduler()
    await a.start()
    await b.start()
    try:
        await eventually(lambda: _true(a.is_runner or b.is_runner), "a runner is elected")
        runner, standby = (a, b) if a.is_runner else (b, a)
        await eventually(lambda: _jobs_done(service, {"elapse", "audit", "backup"}), "jobs ran")
        assert not standby.is_runner
        assert await service.marked_by_scheduler() == ["yesterdays-plan"]

        audited = (await jobs.job_runs.load_all(service.store.engine))["audit"].finished_at
        await runner.stop()  # the runner goes away: the standby takes over
        await eventually(lambda: _true(standby.is_runner), "the standby takes over")
        assert not runner.is_runner
        # It catches up at once (elapse and audit), and elapse marks nothing twice.
        await eventually(lambda: _ran_again(service, audited), "the new runner audits")
        assert await service.marked_by_scheduler() == ["yesterdays-plan"]
    finally:
        await a.stop()
        await b.stop()


async def _true(value: bool) -> bool:
    return value


async def _jobs_done(service: Service, names: set[str]) -> bool:
    runs = await jobs.job_runs.load_all(service.store.engine)
    return all(name in runs and runs[name].finished_at for name in names)


async def _ran_again(service: Service, before: str | None) -> bool:
    run = await jobs.job_runs.load(service.store.engine, "audit")
    return run is not None and (run.finished_at or "") > (before or "")


def test_the_jobs_api_and_health_show_the_runner_and_the_runs(database_url: str, tmp_path: Path):
    clock = StepClock(TODAY, dt.timedelta(seconds=1))
    backups = tmp_path / "backups"
    settings = Settings(
        database_url=database_url,
        db_null_pool=True,
        scheduler=True,
        scheduler_retry_seconds=0.05,
        scheduler_lock_file=str(tmp_path / "scheduler.lock"),
        backup_dir=str(backups),
    )
    off = Settings(database_url=database_url, db_null_pool=True)

    async def prepare() -> str:
        store = open_store(database_url, null_pool=True, clock=clock)
        await Service(store, clock, settings).record("yesterdays-plan", "planned", "2026-06-14")
        token = await create_token(store.engine, "editor")
        await store.engine.dispose()
        return token

    editor = {"Authorization": f"Bearer {asyncio.run(prepare())}"}
    with TestClient(create_app(settings, clock=clock)) as client:
        public = _wait_for_runs(client)
        page = client.get("/api/v1/jobs", headers=editor).json()
        assert page["runner"] is True and page["scheduler"] == "runner"
        # Anyone sees what ran and how it went; hosts, pids, paths and details need a token.
        assert "process" not in public
        for job in public["jobs"]:
            assert set(job["last_run"]) == {"started_at", "finished_at", "outcome"}, job
        assert [job["last_run"]["outcome"] for job in public["jobs"]] == ["ok"] * 3
        assert str(backups) not in client.get("/api/v1/jobs").text
        assert str(backups) in page["jobs"][2]["last_run"]["detail"]
        assert_problem(client.get("/api/v1/jobs", headers={"Authorization": "Bearer x"}), 401)
        assert [job["name"] for job in page["jobs"]] == ["elapse", "audit", "backup"]
        for job in page["jobs"]:
            assert job["last_run"]["outcome"] == "ok", job
            assert job["last_run"]["ran_by"] == page["process"]
            assert job["next_run"] is not None
        elapse = page["jobs"][0]["last_run"]["detail"]
        assert elapse == "1 fact marked elapsed (yesterdays-plan)"
        assert client.get("/api/v1/facts/yesterdays-plan").json()["status"] == "elapsed"
        assert len(list(backups.glob("timeline-*.jsonl"))) == 1
        body = client.get("/health").json()
        assert body["runner"] is True and body["status"] == "ok" and body["audit"]["ok"] is True

        # A process with the scheduler off reads the same runs but is not the runner.
        with TestClient(create_app(off, clock=clock)) as other:
            seen = other.get("/api/v1/jobs", headers=editor).json()
            assert seen["runner"] is False and seen["scheduler"] == "off"
            assert seen["jobs"] == page["jobs"]
            assert "runner" not in other.get("/health").json()  # it takes no part


def _wait_for_runs(client: TestClient, within: float = 30) -> dict:
    deadline = time.monotonic() + within
    while True:
        page = client.get("/api/v1/jobs").json()
        if all(job["last_run"] for job in page["jobs"]):
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"the jobs never all ran: {page}")
        time.sleep(0.05)
