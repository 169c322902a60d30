"""The `timeline` command."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import click
import sqlalchemy as sa
from alembic.util import CommandError

from events.instants import utc_now
from events.store import EventStore, RecordedEvent
from events.transfer import TransferError, export_file, import_file
from projections import projection, registry
from seeds import loader
from service import migrate, tokens
from service.jobs.election import process_name
from service.jobs.runs import OK, JobRun
from service.jobs.tasks import JOBS, Context, run_job
from service.settings import Settings
from service.wiring import open_store

T = TypeVar("T")


@contextlib.contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Database trouble as one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except migrate.DatabaseProblem as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, TimeoutError) as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            raise  # a file's error: the command says which
        raise click.ClickException(
            f"cannot open the database at {migrate.describe(url)}: {migrate.reason(exc)}"
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        raise click.ClickException(
            f"database error at {migrate.describe(url)}: {migrate.reason(exc)}"
        ) from None


def run_with_store(work: Callable[[EventStore], Awaitable[T]]) -> T:
    """Run `work` on the configured database, once it is known to exist and be migrated:
    a missing SQLite file is reported, never created."""
    url = Settings.from_env().database_url

    async def main() -> T:
        store = open_store(url)
        try:
            await migrate.require_current(store.engine, url)
            return await work(store)
        finally:
            await store.close()
            await store.engine.dispose()

    with database_errors(url):
        migrate.require_existing(url)
        return asyncio.run(main())


def _readable(path: Path) -> Path:
    """An input file, or one clear line (Click's own check prints the usage too)."""
    if not path.exists():
        raise click.ClickException(f"{path}: no such file")
    if path.is_dir():
        raise click.ClickException(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise click.ClickException(f"{path}: not readable")
    return path


@click.group()
def main() -> None:
    """Timeline service: an event-sourced timeline with iCalendar feeds."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (TIMELINE_HOST).")
@click.option("--port", type=int, default=None, help="Port (TIMELINE_PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (TIMELINE_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API with uvicorn."""
    from service.http.server import serve as run_server

    # The app reads its settings from the environment in each worker process.
    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"TIMELINE_{name}"] = str(value)
    run_server(Settings.from_env())


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


# Alembic's relative revisions ("-1") look like options to Click: let them through.
REVISIONS = {"ignore_unknown_options": True}


@db.command(context_settings=REVISIONS)
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest; "+1" for the next)."""
    url = Settings.from_env().database_url
    with database_errors(url):
        migrate.require_creatable(url)
        try:
            migrate.upgrade(url, revision)
        except CommandError as exc:
            raise click.ClickException(str(exc)) from None
    if revision == "head":
        caught_up = run_with_store(lambda store: projection.catch_up(store, registry.ALL))
        if caught_up:
            click.echo(f"projected {caught_up} events into the read model")


@db.command(context_settings=REVISIONS)
@click.argument("revision")
@click.option(
    "--drop-data", is_flag=True, help="Allow going below 0001, which deletes the event log."
)
def downgrade(revision: str, drop_data: bool) -> None:
    """Migrate the database back to REVISION ("-1" for one step, "base" for none at all).

    Below revision 0001 the event log is deleted: refused while it holds events, unless
    --drop-data.
    """
    url = Settings.from_env().database_url
    with database_errors(url):
        migrate.require_existing(url)
        try:
            migrate.downgrade(url, revision, drop_data=drop_data)
        except CommandError as exc:
            raise click.ClickException(str(exc)) from None


@main.command()
def verify() -> None:
    """Walk the hash chain and name the first broken event."""

    async def walk(store: EventStore) -> tuple[RecordedEvent | None, int]:
        return await store.verify(), await store.head()

    broken, head = run_with_store(walk)
    if broken is not None:
        click.echo(
            f"BROKEN: the hash chain breaks at position {broken.position} "
            f"(stream {broken.stream_id}, version {broken.version}, type {broken.type})",
            err=True,
        )
        sys.exit(1)
    click.echo(f"ok: {head} events, hash chain intact")


@main.command("export")
@click.argument("file", type=click.Path(path_type=Path))
def export_command(file: Path) -> None:
    """Write the whole log to FILE as JSON Lines."""
    if file.is_dir():
        raise click.ClickException(f"{file}: is a directory, not a file")
    if not file.parent.is_dir():
        raise click.ClickException(f"{file}: no such directory {file.parent}")
    try:
        count = run_with_store(lambda store: export_file(store, file))
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror or exc}") from None
    click.echo(f"exported {count} events to {file}")


@main.command("import")
@click.argument("file", type=click.Path(path_type=Path))
def import_command(file: Path) -> None:
    """Append the events of a JSON Lines export to the log (an empty one, or one it continues).

    The database must exist and be migrated (`timeline db upgrade`); nothing is created
    otherwise, and a file that does not fit is refused whole.
    """
    _readable(file)
    try:
        count = run_with_store(lambda store: import_file(store, file))
    except TransferError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    click.echo(f"imported {count} events from {file}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--if-empty", is_flag=True, help="Do nothing if any seed fact is already stored.")
def seed(paths: tuple[Path, ...], if_empty: bool) -> None:
    """Load facts from seed files (YAML or JSON Lines; default: the bundled seeds/)."""
    for path in paths:
        if not path.is_dir():
            _readable(path)
    files = _seed_files(paths) if paths else loader.default_paths()

    try:
        report = run_with_store(lambda store: loader.load_if_empty(store, files, if_empty=if_empty))
    except loader.SeedError as exc:
        raise click.ClickException(f"nothing stored: {exc}") from None
    if report is None:
        click.echo("seed facts already loaded; nothing to do")
        return
    click.echo(
        f"{report.files} files, {report.facts} facts: {report.recorded} recorded, "
        f"{report.changed} changed, {report.events} events appended"
    )


def _seed_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".jsonl"))
            )
        else:
            files.append(path)
    return files


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--date", "date_", required=True, help="The document's date, YYYY-MM-DD.")
@click.option("--lang", type=click.Choice(["ru", "en"]), default="ru", show_default=True)
@click.option("--title", default=None, help="The document's title (default: the file's name).")
def extract(file: Path, date_: str, lang: str, title: str | None) -> None:
    """Read FILE for dated facts; print them as a draft seed file to check and `seed`."""
    import datetime as dt

    import msgspec

    from events.documents import Document, normalized, validate_document
    from events.facts import FactError
    from seeds.drafts import draft_seed
    from seeds.reading import read_document

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text") from None
    try:
        document = normalized(
            Document(
                title=title or file.stem, date=dt.date.fromisoformat(date_), lang=lang, text=text
            )
        )
        validate_document(document)
        msgspec.convert(msgspec.to_builtins(document), Document)  # the API's length limits
    except ValueError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    except (FactError, msgspec.ValidationError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    click.echo(draft_seed(document, read_document(document)), nl=False)


@main.command()
def rebuild() -> None:
    """Throw the read model away and replay the whole log into it."""

    count = run_with_store(lambda store: projection.rebuild(store, registry.ALL))
    click.echo(f"rebuilt the read model from {count} events")


@main.group()
def token() -> None:
    """API tokens for the write API."""


@token.command("create")
@click.argument("name")
def token_create(name: str) -> None:
    """Create a token; NAME (unique) becomes the actor of the events it writes. Shown once.

    Only the token goes to stdout, so `TOKEN=$(timeline token create NAME)` captures it; a
    failure exits non-zero with the reason on stderr and nothing on stdout.
    """
    if not re.fullmatch(r"[A-Za-z0-9._@-]{1,100}", name):
        raise click.ClickException("NAME: 1-100 letters, digits, '.', '_', '@' or '-'")
    try:
        secret = run_with_store(lambda store: tokens.create_token(store.engine, name))
    except tokens.TokenExists as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(secret)
    click.echo(f"(token for {name!r}: store it now; only its hash is kept)", err=True)


@token.command("list")
def token_list() -> None:
    """Name, creation and last use of every token (never the tokens themselves)."""
    infos = run_with_store(lambda store: tokens.list_tokens(store.engine))
    if not infos:
        click.echo("no tokens (create one with `timeline token create NAME`)", err=True)
        return
    width = max(len("NAME"), *(len(info.name) for info in infos))
    click.echo(f"{'NAME':<{width}}  {'CREATED':<27}  LAST USED")
    for info in infos:
        click.echo(f"{info.name:<{width}}  {info.created_at:<27}  {info.last_used_at or 'never'}")


@token.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Delete the token NAME: requests with it get 401 from then on."""
    try:
        run_with_store(lambda store: tokens.revoke_token(store.engine, name))
    except tokens.NoSuchToken as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked the token {name!r}", err=True)


@main.group()
def jobs() -> None:
    """Scheduled jobs (elapse, audit, backup), which the service runs by itself."""


@jobs.command("run")
@click.argument("name", type=click.Choice(list(JOBS)))
def jobs_run(name: str) -> None:
    """Run the job NAME once, now, whatever process runs the schedule."""
    settings = Settings.from_env()

    async def work(store: EventStore) -> JobRun:
        ctx = Context(store=store, settings=settings, clock=utc_now)
        return await run_job(ctx, name, ran_by=f"cli {process_name()}")

    run = run_with_store(work)
    click.echo(f"{name}: {run.outcome}: {run.detail}")
    if run.outcome != OK:
        sys.exit(1)


if __name__ == "__main__":
    main()
