"""The scheduler: one process of the service runs the jobs, on APScheduler's clock.

Every process campaigns (`service.jobs.election`) when it starts and then every
`scheduler_retry_seconds`; the one holding the lock starts an `AsyncIOScheduler` with
the jobs, the others stand by and take over when the runner's lock goes. A runner that
loses its lock (its database session died) stops its jobs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

import msgspec
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from events.instants import Clock, format_instant, parse_instant
from events.store import EventStore
from service.jobs import runs as job_runs
from service.jobs.election import Election, election_for, process_name
from service.jobs.tasks import JOBS, Context, run_job
from service.settings import Settings

log = logging.getLogger("timeline.scheduler")


# APScheduler 3 ships no types: what this module reads of its triggers and jobs.
class Trigger(Protocol):
    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None: ...


class _Job(Protocol):
    next_run_time: dt.datetime | None  # None while paused


class Schedule(msgspec.Struct, frozen=True):
    trigger: Callable[[], Trigger]  # a fresh one per runner: an interval counts from it
    text: str
    # Whether to run as soon as this process becomes the runner, given the job's last run
    # and now: a new runner catches up on what a dead one may have missed.
    at_start: Callable[[job_runs.JobRun | None, dt.datetime], bool]


def _always(_last: job_runs.JobRun | None, _now: dt.datetime) -> bool:
    return True


def _older_than(age: dt.timedelta) -> Callable[[job_runs.JobRun | None, dt.datetime], bool]:
    def stale(last: job_runs.JobRun | None, now: dt.datetime) -> bool:
        if last is None or last.outcome != job_runs.OK or last.finished_at is None:
            return True
        return now - parse_instant(last.finished_at) >= age

    return stale


SCHEDULES: dict[str, Schedule] = {
    "elapse": Schedule(
        lambda: CronTrigger(hour=0, minute=5, timezone=dt.UTC),
        "daily at 00:05 UTC, and when a process becomes the runner",
        _always,
    ),
    "audit": Schedule(
        lambda: IntervalTrigger(hours=1, timezone=dt.UTC),
        "hourly, and when a process becomes the runner",
        _always,
    ),
    "backup": Schedule(
        lambda: CronTrigger(hour=3, minute=0, timezone=dt.UTC),
        "daily at 03:00 UTC, and when a process becomes the runner if the last "
        "good backup is over a day old",
        _older_than(dt.timedelta(days=1)),
    ),
}
assert SCHEDULES.keys() == JOBS.keys()


class Scheduler:
    def __init__(self, ctx: Context, election: Election, *, retry_seconds: float) -> None:
        self.ctx = ctx
        self.election = election
        self.retry_seconds = retry_seconds
        self.identity = process_name()
        self._aps: AsyncIOScheduler | None = None
        self._campaign: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[object]] = set()

    @property
    def is_runner(self) -> bool:
        return self._aps is not None

    async def start(self) -> None:
        _ensure_log_output()
        self._campaign = asyncio.create_task(self._campaign_loop())

    async def stop(self) -> None:
        if self._campaign is not None:
            self._campaign.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._campaign
        await self._step_down()
        await self.election.resign()

    async def _campaign_loop(self) -> None:
        while True:
            try:
                elected = await self.election.campaign()
            except Exception as exc:  # the database is unreachable: not the runner for now
                log.warning("scheduler election failed (%s); retrying", exc)
                elected = False
            if elected and not self.is_runner:
                try:
                    await self._take_over()
                except Exception:
                    # Holding the lock without running the jobs would stop everyone: let go.
                    log.exception("could not start the scheduled jobs; giving up the lock")
                    await self.election.resign()
            elif not elected and self.is_runner:
                log.error("this process (%s) lost the runner's lock; jobs stopped", self.identity)
                await self._step_down()
            await asyncio.sleep(self.retry_seconds)

    async def _take_over(self) -> None:
        log.info("this process (%s) runs the scheduled jobs", self.identity)
        aps = AsyncIOScheduler(timezone=dt.UTC)
        real_now = dt.datetime.now(dt.UTC)  # APScheduler keeps real time, whatever ctx.clock says
        last_runs = await job_runs.load_all(self.ctx.store.engine)
        for name, schedule in SCHEDULES.items():
            trigger = schedule.trigger()
            first = (
                real_now
                if schedule.at_start(last_runs.get(name), self.ctx.clock())
                else trigger.get_next_fire_time(None, real_now)
            )
            aps.add_job(
                self._run,
                trigger,
                args=[name],
                id=name,
                name=name,
                next_run_time=first,
                coalesce=True,  # runs missed while the loop was busy make one run
                max_instances=1,
                misfire_grace_time=None,  # late is better than never
            )
            await job_runs.save(self.ctx.store.engine, name, next_run_at=_instant(first))
        aps.start()
        self._aps = aps

    async def _step_down(self) -> None:
        aps, self._aps = self._aps, None
        if aps is not None:
            aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        for task in list(self._running):
            task.cancel()
        # A cancelled job's transaction rolls back; a half-written backup is removed.
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _run(self, name: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            # APScheduler has already moved the job on to its next run time.
            job: _Job | None = self._aps.get_job(name) if self._aps is not None else None
            next_run = job.next_run_time if job is not None else None
            await run_job(self.ctx, name, ran_by=self.identity, next_run_at=_instant(next_run))
        except Exception:
            log.exception("job %s: its run could not be recorded", name)
        finally:
            self._running.discard(task)


async def start_scheduler(store: EventStore, settings: Settings, clock: Clock) -> Scheduler:
    """Campaign to run the jobs (in the background); `stop()` it when the app stops."""
    scheduler = Scheduler(
        Context(store=store, settings=settings, clock=clock),
        election_for(store.engine, settings.database_url, settings.scheduler_lock_file),
        retry_seconds=settings.scheduler_retry_seconds,
    )
    await scheduler.start()
    return scheduler


def _instant(value: dt.datetime | None) -> str | None:
    return format_instant(value) if value is not None else None


def _ensure_log_output() -> None:
    """Job outcomes go to stderr at INFO unless logging was configured elsewhere."""
    logger = logging.getLogger("timeline")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
