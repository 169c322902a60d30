"""Read-only views of the scheduled jobs: `GET /api/v1/jobs` and the audit in `/health`.

Runs are read from the database, so any process answers alike; only `runner` and
`process` describe the process that answers.
"""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.datastructures import State

from events.store import EventStore
from service import job_runs
from service.election import process_name
from service.jobs import JOBS
from service.scheduler import SCHEDULES, Scheduler


class RunView(msgspec.Struct):
    started_at: str | None
    finished_at: str | None
    outcome: str | None  # ok or failed
    detail: str | None
    ran_by: str | None  # host:pid


class RunningView(msgspec.Struct):
    since: str
    on: str


class JobView(msgspec.Struct):
    name: str
    summary: str
    schedule: str
    last_run: RunView | None
    running: RunningView | None
    next_run: str | None


class JobsPage(msgspec.Struct):
    process: str  # host:pid of the process answering
    scheduler: str  # runner, standby or off
    runner: bool  # whether the answering process runs the jobs
    jobs: list[JobView]


class AuditStatus(msgspec.Struct):
    checked_at: str | None
    ok: bool
    detail: str | None


def scheduler_of(state: State) -> Scheduler | None:
    return state.get("scheduler")


def runner_or_none(state: State) -> bool | None:
    """Whether this process runs the jobs; None when its scheduler is off."""
    scheduler = scheduler_of(state)
    return None if scheduler is None else scheduler.is_runner


def _job_view(name: str, run: job_runs.JobRun | None) -> JobView:
    finished = run is not None and run.finished_at is not None
    return JobView(
        name=name,
        summary=JOBS[name].summary,
        schedule=SCHEDULES[name].text,
        last_run=(
            RunView(run.started_at, run.finished_at, run.outcome, run.detail, run.ran_by)
            if run is not None and finished
            else None
        ),
        running=(
            RunningView(run.running_since, run.running_on or "")
            if run is not None and run.running_since is not None
            else None
        ),
        next_run=run.next_run_at if run is not None else None,
    )


@get("/api/v1/jobs", summary="Scheduled jobs: last run, outcome and next run of each")
async def list_jobs(state: State) -> JobsPage:
    runs = await job_runs.load_all(state.store.engine)
    scheduler = scheduler_of(state)
    status = "off" if scheduler is None else "runner" if scheduler.is_runner else "standby"
    return JobsPage(
        process=process_name(),
        scheduler=status,
        runner=status == "runner",
        jobs=[_job_view(name, runs.get(name)) for name in JOBS],
    )


async def audit_status(store: EventStore) -> AuditStatus | None:
    """The last finished audit (None if none has finished yet)."""
    # Through store.read: on SQLite a short read on the loop, which /health wants cheap.
    run = await store.read(job_runs.load_in, "audit")
    if run is None or run.finished_at is None:
        return None
    return AuditStatus(checked_at=run.finished_at, ok=run.outcome == job_runs.OK, detail=run.detail)


ROUTES = [list_jobs]
