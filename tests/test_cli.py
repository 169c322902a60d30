"""The `timeline` command when something is wrong: a missing, unmigrated or unreachable
database, a malformed URL, a missing input file. Each gets a non-zero exit status and
one clear line on stderr, never a traceback, and nothing is created."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from events.db import create_engine
from events.store import EventStore
from service import migrate
from service.cli import main
from tests.test_migrations import table_names

EXPORT = "export.jsonl"
# Every command that works on a database (`serve` is tested with the server processes).
COMMANDS = [
    ["verify"],
    ["export", "out.jsonl"],
    ["import", EXPORT],
    ["seed"],
    ["rebuild"],
    ["jobs", "run", "audit"],
    ["token", "create", "alice"],
    ["db", "downgrade", "-1"],
]
NAMES = [" ".join(c[:2]) for c in COMMANDS]


def invoke(args: list[str], url: str) -> Result:
    return CliRunner().invoke(main, args, env={"TIMELINE_DATABASE_URL": url})


def assert_refused(result: Result, *words: str) -> str:
    """Exit status 1 from a ClickException: one line on stderr, no traceback."""
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding a valid export of the bundled seeds' log."""
    monkeypatch.chdir(tmp_path)
    source = f"sqlite:///{tmp_path / 'source.db'}"
    assert invoke(["db", "upgrade"], source).exit_code == 0
    assert invoke(["seed"], source).exit_code == 0
    assert invoke(["export", EXPORT], source).exit_code == 0
    return tmp_path


@pytest.mark.parametrize("args", COMMANDS, ids=NAMES)
def test_a_missing_database_file_is_named_and_not_created(workdir: Path, args: list[str]):
    missing = workdir / "missing.db"
    line = assert_refused(invoke(args, f"sqlite:///{missing}"), f"no database at {missing}")
    assert "timeline db upgrade" in line
    assert not list(workdir.glob("missing.db*"))


def test_import_into_a_new_database_file_says_what_to_run(workdir: Path):
    """The operator's mistake of issue 16: nothing left behind, and the way out named."""
    new = workdir / "new.db"
    assert_refused(invoke(["import", EXPORT], f"sqlite:///{new}"), "run `timeline db upgrade`")
    assert not new.exists()
    assert invoke(["db", "upgrade"], f"sqlite:///{new}").exit_code == 0
    result = invoke(["import", EXPORT], f"sqlite:///{new}")
    assert result.exit_code == 0, result.output
    assert "imported 15 events" in result.output


@pytest.mark.parametrize("args", COMMANDS[:-1], ids=NAMES[:-1])
def test_an_unmigrated_database_says_to_upgrade(
    workdir: Path, empty_database_url: str, args: list[str]
):
    if sqlite_path := migrate.sqlite_file(empty_database_url):
        sqlite3.connect(sqlite_path).close()  # an empty file: a database with no schema
    assert_refused(invoke(args, empty_database_url), "has no schema yet", "timeline db upgrade")
    assert table_names(empty_database_url) == set()


@pytest.mark.parametrize("args", [*COMMANDS, ["db", "upgrade"]], ids=[*NAMES, "db upgrade"])
def test_a_file_that_is_no_database_is_named(workdir: Path, args: list[str]):
    (workdir / "notes.db").write_text("not a database\n" * 100)
    assert_refused(invoke(args, "sqlite:///notes.db"), "sqlite:///notes.db", "not a database")


def test_an_older_schema_says_to_upgrade(workdir: Path, empty_database_url: str):
    migrate.upgrade(empty_database_url, "0005")
    needs = f"needs {migrate.head_revision()}"
    assert_refused(invoke(["verify"], empty_database_url), "at revision 0005", needs)


def test_downgrading_an_unmigrated_database_is_refused(workdir: Path, empty_database_url: str):
    if sqlite_path := migrate.sqlite_file(empty_database_url):
        sqlite3.connect(sqlite_path).close()
    assert_refused(invoke(["db", "downgrade", "-1"], empty_database_url))


@pytest.mark.parametrize("url", ["foo://", "not a url", "sqlite+nodriver:///x.db"])
@pytest.mark.parametrize("args", [*COMMANDS, ["db", "upgrade"]], ids=[*NAMES, "db upgrade"])
def test_a_malformed_url_is_refused(workdir: Path, url: str, args: list[str]):
    before = sorted(workdir.iterdir())
    assert_refused(invoke(args, url), "sqlite:///path.db or postgresql://")
    assert sorted(workdir.iterdir()) == before


@pytest.mark.parametrize("args", [*COMMANDS, ["db", "upgrade"]], ids=[*NAMES, "db upgrade"])
def test_an_unreachable_postgresql_is_named(workdir: Path, args: list[str]):
    url = "postgresql://timeline:secret@127.0.0.1:1/timeline"
    line = assert_refused(invoke(args, url), "127.0.0.1:1", "Connection refused")
    assert "secret" not in line  # the password never shows


@pytest.mark.parametrize(
    "args",
    [["import", "nowhere.jsonl"], ["seed", "nowhere.yaml"], ["seed", "seeds", "nowhere.jsonl"]],
)
def test_a_missing_input_file_is_named(workdir: Path, database_url: str, args: list[str]):
    (workdir / "seeds").mkdir()
    assert_refused(invoke(args, database_url), "nowhere", "no such file")


def test_export_into_a_missing_directory_is_named(workdir: Path, database_url: str):
    assert_refused(invoke(["export", "no/such/dir.jsonl"], database_url), "no such directory")


def test_upgrade_into_a_missing_directory_is_named(workdir: Path):
    assert_refused(invoke(["db", "upgrade"], f"sqlite:///{workdir}/nodir/x.db"), "no directory")
    assert not (workdir / "nodir").exists()


def test_the_installed_command_prints_no_traceback(workdir: Path):
    """Through the real entry point and process, as an operator runs it."""
    timeline = Path(sys.executable).with_name("timeline")
    new, nowhere = f"sqlite:///{workdir / 'new.db'}", f"sqlite:///{workdir / 'no' / 'x.db'}"
    cases = [
        (["import", EXPORT], new, "Error: no database at"),
        (["verify"], new, "Error: no database at"),
        (["db", "downgrade", "base"], new, "Error: no database at"),
        (["db", "upgrade"], nowhere, "Error: no directory"),
        (["db", "upgrade"], "postgresql://x@127.0.0.1:1/x", "Error: cannot open the database"),
    ]
    for args, url, start in cases:
        done = subprocess.run(
            [timeline, *args],
            env={**os.environ, "TIMELINE_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1, done
        assert done.stderr.startswith(start) and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert not list(workdir.glob("new.db*"))


# --- downgrades -------------------------------------------------------------------------


def log_of(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(url, null_pool=True)
        try:
            return [r.hash for r in await EventStore(engine).read_all(limit=None)]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_downgrade_takes_relative_revisions(database_url: str):
    result = invoke(["db", "downgrade", "-1"], database_url)
    assert result.exit_code == 0, result.output
    previous = migrate.previous_revision(migrate.head_revision())
    assert_refused(invoke(["verify"], database_url), f"at revision {previous}")
    assert invoke(["db", "upgrade", "+1"], database_url).exit_code == 0
    assert invoke(["verify"], database_url).exit_code == 0


def test_downgrade_below_0001_keeps_the_log_unless_told(workdir: Path, database_url: str):
    assert invoke(["import", EXPORT], database_url).exit_code == 0
    log = log_of(database_url)
    line = assert_refused(invoke(["db", "downgrade", "base"], database_url), "15 events")
    assert "--drop-data" in line
    # Nothing was undone: every migration's downgrade is one transaction with the refusal.
    assert log_of(database_url) == log
    assert invoke(["verify"], database_url).exit_code == 0

    result = invoke(["db", "downgrade", "base", "--drop-data"], database_url)
    assert result.exit_code == 0, result.output
    assert "events" not in table_names(database_url)
    assert_refused(invoke(["verify"], database_url), "has no schema yet")


def test_an_empty_log_downgrades_without_the_flag(database_url: str):
    assert invoke(["db", "downgrade", "base"], database_url).exit_code == 0
    assert "events" not in table_names(database_url)


def test_plain_alembic_holds_the_same_guard(workdir: Path):
    url = f"sqlite:///{workdir / 'source.db'}"
    root = Path(migrate.__file__).resolve().parents[1]
    alembic = Path(sys.executable).with_name("alembic")
    env = {**os.environ, "TIMELINE_DATABASE_URL": url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [alembic, *args], cwd=root, env=env, capture_output=True, text=True, check=False
        )

    refused = run("downgrade", "base")
    output = refused.stdout + refused.stderr  # Alembic prints "FAILED: …" to stdout, wrapped
    assert refused.returncode != 0 and "FAILED" in output and "-x drop-data" in output
    assert "Traceback" not in output
    assert len(log_of(url)) == 15
    assert run("-x", "drop-data", "downgrade", "base").returncode == 0
    assert "events" not in table_names(url)
