"""Scheduled jobs' runs, in the database so that every service process sees them.

Migration 0005 makes the table. One row per job: its last finished run, the run in
progress (kept apart, so a running audit does not hide the last one's verdict) and the
next planned run. Operational state, not part of the log.
"""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import WRITE

metadata = sa.MetaData()

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("started_at", sa.String(32), nullable=True),
    sa.Column("finished_at", sa.String(32), nullable=True),
    sa.Column("outcome", sa.String(10), nullable=True),  # ok, failed
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("ran_by", sa.String(200), nullable=True),  # host:pid of the process
    sa.Column("running_since", sa.String(32), nullable=True),
    sa.Column("running_on", sa.String(200), nullable=True),
    sa.Column("next_run_at", sa.String(32), nullable=True),
)

OK, FAILED = "ok", "failed"


class JobRun(msgspec.Struct, kw_only=True):
    name: str
    started_at: str | None
    finished_at: str | None
    outcome: str | None
    detail: str | None
    ran_by: str | None
    running_since: str | None
    running_on: str | None
    next_run_at: str | None


async def save(engine: AsyncEngine, name: str, **values: str | None) -> None:
    """Set some columns of a job's row, making the row if it is missing."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(job_runs).values(name=name, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[job_runs.c.name], set_={k: statement.excluded[k] for k in values}
    )
    async with engine.execution_options(**WRITE).begin() as conn:
        await conn.execute(statement)


async def load_all(engine: AsyncEngine) -> dict[str, JobRun]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(job_runs))
        return {row.name: JobRun(**row._mapping) for row in rows}


def load_in(conn: sa.Connection, name: str) -> JobRun | None:
    """A job's row, read on a synchronous connection (for `Database.run`)."""
    row = conn.execute(sa.select(job_runs).where(job_runs.c.name == name)).first()
    return JobRun(**row._mapping) if row else None


async def load(engine: AsyncEngine, name: str) -> JobRun | None:
    async with engine.connect() as conn:
        return await conn.run_sync(load_in, name)
