"""Databases for tests: every store test runs on SQLite and on PostgreSQL.

PostgreSQL tests use TIMELINE_TEST_POSTGRES_URL (a database the tests may create other
databases from). When it is unset they skip, unless TIMELINE_REQUIRE_POSTGRES=1 (as in CI),
where a missing PostgreSQL fails the run instead.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from events.db import create_engine
from events.store import EventStore
from service import migrate
from service.http.app import create_app
from service.settings import Settings
from tests.api_client import BASE, START, Api, run
from tests.browsing import CHROMIUM, playwright_or_skip
from tests.factories import StepClock, seeded_with_token

POSTGRES_URL = os.environ.get("TIMELINE_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("TIMELINE_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgres"]


def _admin_conninfo() -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _with_database(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(sql)


def _require_postgres() -> None:
    if POSTGRES_URL:
        return
    if REQUIRE_POSTGRES:
        pytest.fail("TIMELINE_REQUIRE_POSTGRES=1 but TIMELINE_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL tests need TIMELINE_TEST_POSTGRES_URL")


class PostgresDatabases:
    """Creates throwaway databases, copied from one migrated template per test session."""

    def __init__(self) -> None:
        self.prefix = f"timeline_test_{os.getpid()}"
        self.template: str | None = None
        self.created: list[str] = []

    def empty(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _with_database(name)

    def migrated(self) -> str:
        if self.template is None:
            url = self.empty()
            migrate.upgrade(url)
            self.template = make_url(url).database
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        self.created.append(name)
        return _with_database(name)

    def drop_all(self) -> None:
        for name in reversed(self.created):
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    if POSTGRES_URL:
        databases.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        _require_postgres()
    return request.param


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path, postgres_databases: PostgresDatabases) -> str:
    """A database with no schema at all."""
    if backend == "postgres":
        return postgres_databases.empty()
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, postgres_databases: PostgresDatabases) -> str:
    """A freshly migrated, empty database."""
    if backend == "postgres":
        return postgres_databases.migrated()
    url = f"sqlite:///{tmp_path / 'timeline.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    engine = create_engine(database_url)
    store = EventStore(engine)
    yield store
    await store.close()
    await engine.dispose()


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    """A freshly migrated PostgreSQL database (for tests that only make sense there)."""
    _require_postgres()
    return postgres_databases.migrated()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module (see tests/browsing.py for the skip rules)."""
    sync_playwright = playwright_or_skip()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The app on a seeded database, through Litestar's test client, with an editor's token."""
    token = run(seeded_with_token(database_url))
    settings = Settings(database_url=database_url, db_null_pool=True, public_url=BASE)
    app = create_app(settings, clock=StepClock(START, dt.timedelta(minutes=1)))
    with TestClient(app) as client:
        yield Api(client, token, database_url)
