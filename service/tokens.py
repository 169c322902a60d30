"""API tokens: created once, stored only as a hash, each named for the actor it writes as.

The CLI creates, lists and revokes them; the HTTP guard (service/http/auth.py) checks them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import WRITE, Database
from events.instants import format_instant, utc_now

log = logging.getLogger("timeline.tokens")

# A token's last use is written at most this often, so a burst of writes costs one update.
LAST_USED_PRECISION_SECONDS = 60.0

tokens = sa.Table(
    "api_tokens",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("last_used_at", sa.String(32)),
)


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


class TokenExists(ValueError):
    pass


class NoSuchToken(LookupError):
    pass


class TokenInfo(msgspec.Struct, frozen=True):
    name: str
    created_at: str
    last_used_at: str | None


async def create_token(engine: AsyncEngine, name: str) -> str:
    """A new token for `name` (the actor of the events it writes); shown once, kept hashed."""
    token = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        exists = await conn.execute(sa.select(tokens.c.name).where(tokens.c.name == name))
        if exists.first():
            raise TokenExists(
                f"a token named {name!r} already exists (names are unique): "
                f"revoke it first with `timeline token revoke {name}`, or choose another name"
            )
        await conn.execute(
            tokens.insert().values(
                name=name, token_hash=_digest(token), created_at=format_instant(utc_now())
            )
        )
    return token


async def list_tokens(engine: AsyncEngine) -> list[TokenInfo]:
    query = sa.select(tokens.c.name, tokens.c.created_at, tokens.c.last_used_at)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(tokens.c.name))).all()
    return [TokenInfo(*row) for row in rows]


async def revoke_token(engine: AsyncEngine, name: str) -> None:
    async with engine.begin() as conn:
        deleted = await conn.execute(tokens.delete().where(tokens.c.name == name))
    if deleted.rowcount == 0:
        raise NoSuchToken(f"no token named {name!r} (`timeline token list` shows them)")


def _token_rows(conn: sa.Connection) -> list[sa.Row[str, str, str | None]]:
    query = sa.select(tokens.c.name, tokens.c.token_hash, tokens.c.last_used_at)
    return list(conn.execute(query).all())


def stored_hash(conn: sa.Connection, name: str) -> str | None:
    """The stored hash of the token named `name`; None when there is none (revoked)."""
    return conn.execute(sa.select(tokens.c.token_hash).where(tokens.c.name == name)).scalar()


async def actor_for(database: Database, token: str) -> str | None:
    """The name of the token, or None. Read afresh on every request, so a revoked token
    fails at once in every process; through `Database.run` that is one round trip on
    PostgreSQL (no BEGIN and ROLLBACK around it) and no thread hand-off on SQLite."""
    digest = _digest(token)
    actor = last_used = None
    for name, stored, used in await database.run(_token_rows):
        # Compared against every token, in constant time each.
        if hmac.compare_digest(stored, digest):
            actor, last_used = name, used
    if actor is not None:
        now = utc_now()
        stale = now - dt.timedelta(seconds=LAST_USED_PRECISION_SECONDS)
        if last_used is None or last_used < format_instant(stale):
            await _mark_used(database.engine, actor, format_instant(now))
    return actor


async def _mark_used(engine: AsyncEngine, name: str, instant: str) -> None:
    # Bookkeeping only: a database that refuses writes refuses the request's own write
    # (503) anyway, and a read with a token must not fail for it.
    try:
        async with engine.execution_options(**WRITE).begin() as conn:
            await conn.execute(
                tokens.update().where(tokens.c.name == name).values(last_used_at=instant)
            )
    except sa.exc.DBAPIError as exc:
        log.warning("could not record the use of token %r: %s", name, type(exc).__name__)
