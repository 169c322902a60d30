"""Which one of several service processes runs the scheduled jobs.

Each process campaigns with a lock that dies with its holder, so a crashed runner frees
it without anyone cleaning up:

- PostgreSQL: a session-level advisory lock, held on a connection of its own for the
  process's life; it goes when that session ends, however the process ended.
- SQLite (one machine): `flock` on a file next to the database; the kernel releases it
  when the process exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# The advisory lock's key: "timeline" as a 64-bit integer. Advisory locks are scoped to
# the database, so services on other databases of the same server do not compete.
LOCK_KEY = int.from_bytes(b"timeline", "big")


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Election(Protocol):
    async def campaign(self) -> bool:
        """Try to become (or check we still are) the runner; True while we are."""
        ...

    async def resign(self) -> None: ...


class AdvisoryLockElection:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._held = False

    async def campaign(self) -> bool:
        try:
            if self._conn is None:
                conn = await self.engine.connect()
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if self._held:
                # The lock lives as long as this session: if the session is gone, so is it.
                await self._conn.execute(sa.text("SELECT 1"))
                return True
            self._held = bool(
                (
                    await self._conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                    )
                ).scalar()
            )
            return self._held
        except Exception:
            await self._drop_connection()
            raise

    async def resign(self) -> None:
        if self._conn is not None and self._held:
            with contextlib.suppress(Exception):
                await self._conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.invalidate()  # never hand a session holding the lock back to a pool
        with contextlib.suppress(Exception):
            await conn.close()


class FileLockElection:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def campaign(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # Who holds it, for a person looking at the file; the lock itself is what counts.
        os.ftruncate(fd, 0)
        os.write(fd, f"{process_name()}\n".encode())
        self._fd = fd
        return True

    async def resign(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_file_for(database_url: str) -> Path:
    """`timeline.db` -> `timeline.db.scheduler.lock`, beside the database."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise ValueError("the scheduler's lock file needs a SQLite database file")
    return Path(f"{database}.scheduler.lock")


def election_for(engine: AsyncEngine, database_url: str, lock_file: str = "") -> Election:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockElection(engine)
    return FileLockElection(Path(lock_file) if lock_file else lock_file_for(database_url))
