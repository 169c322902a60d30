"""Run the Alembic migrations from code (the CLI and the tests), and check a database
before the CLI works on it: it exists, it is reachable, its schema is the code's."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from events import tables as event_tables
from events.db import async_url
from projections import tables as read_model_tables
from service import tokens
from service.jobs import runs as job_runs
from service.settings import PROJECT_ROOT

UPGRADE = "run `timeline db upgrade`"
SUPPORTED = "use sqlite:///path.db or postgresql://user@host:5432/db"


# Every table the code declares: the migrations must make exactly these (a test compares them),
# and `alembic revision --autogenerate` drafts a migration from them.
DECLARED = (
    event_tables.metadata,
    read_model_tables.metadata,
    job_runs.metadata,
    tokens.tokens.metadata,
)


class DatabaseProblem(Exception):
    """The database cannot be worked on; the message says why and what to run."""


def _config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["url"] = url
    return config


def _in_own_thread(work: Callable[[], None]) -> None:
    # alembic/env.py runs its own event loop, which cannot start inside a running one
    # (an async caller); a thread of its own works from anywhere.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(url: str, revision: str = "head") -> None:
    _in_own_thread(lambda: command.upgrade(_config(url), revision))


def downgrade(url: str, revision: str, *, drop_data: bool = False) -> None:
    """Migrate back to `revision` (relative ones such as "-1" too). Going below 0001 drops
    the event log: its migration refuses (alembic.util.CommandError) unless the log is
    empty or `drop_data`."""
    config = _config(url)
    config.attributes["drop_data"] = drop_data
    _in_own_thread(lambda: command.downgrade(config, revision))


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(""))


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def previous_revision(revision: str) -> str | None:
    """The revision `revision` upgrades from (None for the first)."""
    down = _scripts().get_revision(revision).down_revision
    assert down is None or isinstance(down, str)  # the history has no branches
    return down


def describe(url: str) -> str:
    """The URL as messages show it: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(url)


def check_url(url: str) -> None:
    """Refuse a URL that is not one of the two supported databases."""
    try:
        driver = async_url(url).drivername
    except sa.exc.ArgumentError:
        raise DatabaseProblem(f"not a database URL: {url!r} ({SUPPORTED})") from None
    if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise DatabaseProblem(f"unsupported database URL {describe(url)} ({SUPPORTED})")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def require_existing(url: str) -> None:
    """A SQLite file that is not there: say so before connecting, which would create it."""
    check_url(url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise DatabaseProblem(f"no database at {path}; {UPGRADE}")


def require_creatable(url: str) -> None:
    """`db upgrade` may make a SQLite file, but not the directory it goes in."""
    check_url(url)
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise DatabaseProblem(f"no directory {path.parent} for the database file {path.name}")


def reason(exc: BaseException) -> str:
    """A database error's own first line, without SQLAlchemy's statement and links."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).strip()
    if isinstance(exc, OSError) and exc.errno and os.strerror(exc.errno) not in text:
        text = f"{os.strerror(exc.errno)} ({text})"  # asyncio's "Connect call failed (…)"
    return text.splitlines()[0] if text else type(exc).__name__


async def require_current(engine: AsyncEngine, url: str) -> None:
    """The database answers and its schema is at the code's newest migration."""
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    except (OSError, TimeoutError, sa.exc.DBAPIError) as exc:
        raise DatabaseProblem(
            f"cannot open the database at {describe(url)}: {reason(exc)}"
        ) from None
    head = head_revision()
    if current == head:
        return
    where = f"the database at {describe(url)}"
    if current is None:
        raise DatabaseProblem(f"{where} has no schema yet; {UPGRADE}")
    try:
        _scripts().get_revision(current)
    except Exception:  # an id no migration of this code has: a newer version made it
        raise DatabaseProblem(
            f"{where} is at revision {current}, which this version does not know"
        ) from None
    raise DatabaseProblem(f"{where} is at revision {current}, this version needs {head}; {UPGRADE}")
