"""Read-only views of the scheduled jobs: `GET /api/v1/jobs` and the audit in `/health`.

Runs are read from the database, so any process answers alike; only `runner` and
`process` describe the process that answers. Anonymous readers get a public summary;
where and how runs went (hosts, paths, error text) needs a write token.
"""

from __future__ import annotations

import msgspec
from litestar import Request, get
from litestar.datastructures import State

from events.db import Database
from service.http.auth import actor_of
from service.jobs import runs as job_runs
from service.jobs.election import process_name
from service.jobs.scheduler import SCHEDULES, Scheduler
from service.jobs.tasks import COULD_NOT_RUN, JOBS


class RunView(msgspec.Struct, omit_defaults=True):
    started_at: str | None
    finished_at: str | None
    outcome: str | None  # ok or failed
    # With a write token only: what the run did or why it failed (paths, error text), and
    # the host:pid that ran it.
    detail: str | None = None
    ran_by: str | None = None


class RunningView(msgspec.Struct, omit_defaults=True):
    since: str
    on: str | None = None  # host:pid, with a write token only


class JobView(msgspec.Struct):
    name: str
    summary: str
    schedule: str
    last_run: RunView | None
    running: RunningView | None
    next_run: str | None


class JobsPage(msgspec.Struct, omit_defaults=True):
    scheduler: str  # runner, standby or off
    runner: bool  # whether the answering process runs the jobs
    jobs: list[JobView]
    process: str | None = None  # host:pid of the process answering, with a write token only


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


def _job_view(name: str, run: job_runs.JobRun | None, *, full: bool) -> JobView:
    finished = run is not None and run.finished_at is not None
    return JobView(
        name=name,
        summary=JOBS[name].summary,
        schedule=SCHEDULES[name].text,
        last_run=(
            RunView(
                run.started_at,
                run.finished_at,
                run.outcome,
                run.detail if full else None,
                run.ran_by if full else None,
            )
            if run is not None and finished
            else None
        ),
        running=(
            RunningView(run.running_since, (run.running_on or "") if full else None)
            if run is not None and run.running_since is not None
            else None
        ),
        next_run=run.next_run_at if run is not None else None,
    )


JOBS_PATH = "/api/v1/jobs"


@get(
    JOBS_PATH,
    summary="Scheduled jobs: last run, outcome and next run of each",
    description="Anyone sees the jobs' schedule and outcomes; with a write token, also "
    "each run's detail and the processes (host:pid) involved.",
    security=[{}, {"bearer": []}],
)
async def list_jobs(request: Request, state: State) -> JobsPage:
    # Hosts, process ids, backup paths and error text are for the service's editors.
    full = await actor_of(request) is not None
    runs = await job_runs.load_all(state.store.engine)
    scheduler = scheduler_of(state)
    status = "off" if scheduler is None else "runner" if scheduler.is_runner else "standby"
    return JobsPage(
        scheduler=status,
        runner=status == "runner",
        jobs=[_job_view(name, runs.get(name), full=full) for name in JOBS],
        process=process_name() if full else None,
    )


async def audit_status(database: Database) -> AuditStatus | None:
    """The last finished audit (None if none has finished yet)."""
    # Through Database.run: on SQLite a short read on the loop, which /health wants cheap.
    run = await database.run(job_runs.load_in, "audit")
    if run is None or run.finished_at is None:
        return None
    detail = run.detail
    if detail is not None and detail.startswith(COULD_NOT_RUN):
        # /health is public: the error's text (paths, hosts) stays in the logs and the
        # jobs API's full view.
        detail = f"{COULD_NOT_RUN} (why is logged, and shown by {JOBS_PATH} to a write token)"
    return AuditStatus(checked_at=run.finished_at, ok=run.outcome == job_runs.OK, detail=detail)


ROUTES = [list_jobs]
