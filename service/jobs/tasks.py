"""The time-driven jobs: elapse past plans, audit the log, back it up.

Each job is a coroutine taking a `Context` and returning a one-line account of what it
did, or raising `JobFailed` when it found something wrong. `run_job` runs one and keeps
its outcome in the `job_runs` table (and the logs); the scheduler decides when, and the
`timeline jobs run NAME` command runs one by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.decider import FactState
from events.elapse import ELAPSED, PENDING, mark_elapsed
from events.instants import Clock, format_instant
from events.store import ConcurrencyError, EventStore
from events.tables import events as events_table
from events.transfer import export_to
from projections import timeline
from projections.tables import checkpoints
from service.jobs import runs as job_runs
from service.settings import Settings

log = logging.getLogger("timeline.jobs")


class Context(msgspec.Struct, frozen=True):
    store: EventStore
    settings: Settings
    clock: Clock  # the service's clock: "today" for the jobs, so tests control time


class JobFailed(Exception):
    """The job ran and found something wrong; the message says what."""


class Job(msgspec.Struct, frozen=True):
    name: str
    summary: str
    run: Callable[[Context], Awaitable[str]]
    failure_level: int = logging.ERROR


# How the detail of a run that raised begins; the error's text follows (for editors only).
COULD_NOT_RUN = "could not run"


class UnknownJob(KeyError):
    pass


# --- elapse -----------------------------------------------------------------------------


class ElapseReport(msgspec.Struct):
    marked: list[str]
    skipped: list[str]  # changed by someone else since they were read: next run decides

    def __str__(self) -> str:
        text = f"{_facts(len(self.marked))} marked {ELAPSED}"
        if self.marked:
            text += f" ({', '.join(self.marked)})"
        if self.skipped:
            skipped = ", ".join(self.skipped)
            text += f"; {_facts(len(self.skipped))} changed meanwhile, left alone ({skipped})"
        return text


def _facts(count: int) -> str:
    return f"{count} fact" if count == 1 else f"{count} facts"


def today(clock: Clock) -> dt.date:
    return clock().astimezone(dt.UTC).date()


async def candidates(store: EventStore, day: dt.date) -> list[tuple[FactState, int]]:
    """Current facts that may have elapsed by `day`, with their versions (from the read model)."""
    return await store.database.run(timeline.may_have_elapsed, day, PENDING)


async def mark_all(
    store: EventStore, found: list[tuple[FactState, int]], day: dt.date
) -> ElapseReport:
    report = ElapseReport(marked=[], skipped=[])
    for state, version in found:
        try:
            outcome = await mark_elapsed(store, state, version, day)
        except ConcurrencyError:
            report.skipped.append(state.fact.id)  # an editor wrote first: theirs stands
            continue
        if outcome is not None:
            report.marked.append(state.fact.id)
    return report


async def elapse(ctx: Context) -> str:
    day = today(ctx.clock)
    return str(await mark_all(ctx.store, await candidates(ctx.store, day), day))


# --- audit ------------------------------------------------------------------------------


async def _head_and_checkpoints(engine: AsyncEngine) -> tuple[int, dict[str, int]]:
    """The log's head and every projection's checkpoint, read in one snapshot."""
    if engine.dialect.name == "postgresql":
        # Otherwise an append committing between the two reads looks like a lagging projection.
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    # (SQLite in WAL mode: one read transaction is one snapshot already.)
    async with engine.connect() as conn:
        head = (await conn.execute(sa.select(sa.func.max(events_table.c.position)))).scalar()
        rows = await conn.execute(sa.select(checkpoints.c.name, checkpoints.c.position))
        return head or 0, {name: position for name, position in rows}


async def audit(ctx: Context) -> str:
    """Walk the hash chain; check that every projection has applied the whole log."""
    head, projections = await _head_and_checkpoints(ctx.store.engine)
    problems: list[str] = []
    broken = await ctx.store.verify()
    if broken is not None:
        problems.append(
            f"the hash chain breaks at position {broken.position} (stream {broken.stream_id}, "
            f"version {broken.version}, type {broken.type})"
        )
    for name, position in sorted(projections.items()):
        if position != head:
            problems.append(f"projection {name!r} is at position {position}, the log at {head}")
    if problems:
        raise JobFailed("; ".join(problems))
    names = ", ".join(sorted(projections)) or "none"
    return f"hash chain intact over {head} events; projections at the head: {names}"


# --- backup -----------------------------------------------------------------------------

BACKUP = re.compile(r"timeline-\d{8}T\d{6}Z\.jsonl")


def backup_name(instant: dt.datetime) -> str:
    """Sortable by time: the newest backup has the greatest name."""
    return f"timeline-{instant.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.jsonl"


PARTIAL = re.compile(r"\.timeline-\d{8}T\d{6}Z\.jsonl\.partial")
STALE_PARTIAL_SECONDS = 3600  # older than any backup takes: left by a killed process


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups, and partial files a killed backup left;
    other files in the directory are left alone."""
    backups = sorted(p for p in directory.iterdir() if BACKUP.fullmatch(p.name))
    old = backups[: max(len(backups) - keep, 0)]
    for path in old:
        path.unlink()
    now = time.time()
    for path in directory.iterdir():
        if PARTIAL.fullmatch(path.name) and now - path.stat().st_mtime > STALE_PARTIAL_SECONDS:
            path.unlink(missing_ok=True)
    return old


async def backup(ctx: Context) -> str:
    """Export the log to JSON Lines atomically (a temporary file, then a rename)."""
    directory = Path(ctx.settings.backup_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / backup_name(ctx.clock())
    partial = directory / f".{path.name}.partial"
    try:
        with partial.open("wb") as out:
            count = await export_to(ctx.store, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    _sync_directory(directory)  # so the rename itself survives a crash
    removed = prune(directory, max(ctx.settings.backup_keep, 1))
    plural = "" if len(removed) == 1 else "s"
    return f"{count} events to {path}; {len(removed)} older backup{plural} removed"


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- running ----------------------------------------------------------------------------

JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            name="elapse",
            summary="mark planned and proposed facts whose date has passed as elapsed",
            run=elapse,
        ),
        Job(
            name="audit",
            summary="walk the hash chain and check the projections' checkpoints",
            run=audit,
            failure_level=logging.CRITICAL,  # the log itself may be damaged: be loud
        ),
        Job(name="backup", summary="export the log to the backup directory", run=backup),
    )
}


async def run_job(
    ctx: Context, name: str, *, ran_by: str, next_run_at: str | None = None
) -> job_runs.JobRun:
    """Run one job now and keep its outcome where every process can read it."""
    if name not in JOBS:
        raise UnknownJob(name)
    job = JOBS[name]
    engine = ctx.store.engine
    started = format_instant(ctx.clock())
    await job_runs.save(engine, name, running_since=started, running_on=ran_by)
    try:
        detail = await job.run(ctx)
        outcome = job_runs.OK
        log.info("job %s: %s", name, detail)
    except JobFailed as exc:
        detail, outcome = str(exc), job_runs.FAILED
        log.log(job.failure_level, "job %s FAILED: %s", name, detail)
    except Exception as exc:
        detail, outcome = f"{COULD_NOT_RUN}: {type(exc).__name__}: {exc}", job_runs.FAILED
        log.exception("job %s could not run", name)
    finished: dict[str, str | None] = {
        "started_at": started,
        "finished_at": format_instant(ctx.clock()),
        "outcome": outcome,
        "detail": detail,
        "ran_by": ran_by,
        "running_since": None,
        "running_on": None,
    }
    if next_run_at is not None:
        finished["next_run_at"] = next_run_at
    await job_runs.save(engine, name, **finished)
    run = await job_runs.load(engine, name)
    assert run is not None
    return run
