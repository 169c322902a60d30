"""Bearer tokens for the write API: created once, stored only as a hash, rate limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque

import msgspec
import sqlalchemy as sa
from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import WRITE
from events.store import format_instant, utc_now
from service.http.problems import Problem

tokens = sa.Table(
    "api_tokens",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("last_used_at", sa.String(32)),
)

log = logging.getLogger("timeline.auth")

MAX_FAILURES = 10  # failed attempts per client and window before 429
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 100_000  # clients with recent failures remembered; the oldest go first
# A token's last use is written at most this often, so a burst of writes costs one update.
LAST_USED_PRECISION_SECONDS = 60.0


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


async def actor_for(engine: AsyncEngine, token: str) -> str | None:
    digest = _digest(token)
    query = sa.select(tokens.c.name, tokens.c.token_hash, tokens.c.last_used_at)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    actor = last_used = None
    for name, stored, used in rows:  # compare against every token, in constant time each
        if hmac.compare_digest(stored, digest):
            actor, last_used = name, used
    if actor is not None:
        now = utc_now()
        stale = now - dt.timedelta(seconds=LAST_USED_PRECISION_SECONDS)
        if last_used is None or last_used < format_instant(stale):
            await _mark_used(engine, actor, format_instant(now))
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


class FailureLimiter:
    """Counts failed authentications per client in a sliding window (per process).

    Clients whose failures have all left the window are forgotten, and at most
    `max_clients` are remembered (the longest quiet go first), so a flood of addresses
    cannot grow it without bound.
    """

    def __init__(
        self,
        limit: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        # Ordered by each client's latest failure, oldest first (see `fail`).
        self.failures: dict[str, deque[float]] = {}

    def _prune(self, now: float) -> None:
        while self.failures:
            oldest = next(iter(self.failures))
            times = self.failures[oldest]
            if len(self.failures) <= self.max_clients and now - times[-1] <= self.window:
                break
            del self.failures[oldest]

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self.failures.get(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        now = time.monotonic()
        self._prune(now)
        times = self._recent(client, now)
        if len(times) >= self.limit:
            return max(1, int(self.window - (now - times[0])) + 1)
        return None

    def fail(self, client: str) -> None:
        now = time.monotonic()
        times = self._recent(client, now)
        times.append(now)
        self.failures.pop(client, None)
        self.failures[client] = times  # to the end: the most recent failure
        self._prune(now)


async def require_actor(request: ASGIConnection) -> str:
    """The authenticated token's name, or 401/429 (the write routes' guard calls it).

    A correct token is accepted even from a client over the failure limit, so one attacker
    behind an editor's proxy cannot lock the editor out. That makes the limiter no oracle
    worth having: tokens are 256 random bits, beyond guessing at any rate. Only failures
    are counted and refused.
    """
    actor = await actor_of(request)
    if actor is None:
        raise _refusal(request)
    return actor


async def actor_of(request: ASGIConnection) -> str | None:
    """The name of the request's valid token; None when it sends no token at all, and
    401/429 for a wrong one (counted like any failure)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    actor = None
    if scheme.lower() == "bearer" and token.strip():
        actor = await actor_for(request.app.state.store.engine, token.strip())
    if actor is None:
        raise _refusal(request)
    return actor


def _refusal(request: ASGIConnection) -> Problem:
    """The problem for a missing or wrong token, counting a failure against the client."""
    limiter: FailureLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        return Problem(
            429,
            "too many failed authentication attempts; wait before trying again",
            headers={"Retry-After": str(wait)},
        )
    limiter.fail(client)
    return Problem(
        401,
        "a valid token is required: send `Authorization: Bearer <token>` "
        "(create one with `timeline token create NAME`)",
        headers={"WWW-Authenticate": 'Bearer realm="timeline"'},
    )
