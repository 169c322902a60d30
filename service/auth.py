"""Bearer tokens for the write API: created once, stored only as a hash, rate limited."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from events.store import format_instant, utc_now
from service.problems import Problem

tokens = sa.Table(
    "api_tokens",
    sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

MAX_FAILURES = 10  # failed attempts per client and window before 429
WINDOW_SECONDS = 60.0


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


class TokenExists(ValueError):
    pass


async def create_token(engine: AsyncEngine, name: str) -> str:
    """A new token for `name` (the actor of the events it writes); shown once, kept hashed."""
    token = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        exists = await conn.execute(sa.select(tokens.c.name).where(tokens.c.name == name))
        if exists.first():
            raise TokenExists(f"a token named {name!r} already exists")
        await conn.execute(
            tokens.insert().values(
                name=name, token_hash=_digest(token), created_at=format_instant(utc_now())
            )
        )
    return token


async def actor_for(engine: AsyncEngine, token: str) -> str | None:
    digest = _digest(token)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(tokens.c.name, tokens.c.token_hash))).all()
    actor = None
    for name, stored in rows:  # compare against every token, in constant time each
        if hmac.compare_digest(stored, digest):
            actor = name
    return actor


class FailureLimiter:
    """Counts failed authentications per client in a sliding window (per process)."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, client: str) -> deque[float]:
        now = time.monotonic()
        times = self.failures[client]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        times = self._recent(client)
        if len(times) >= self.limit:
            return max(1, int(self.window - (time.monotonic() - times[0])) + 1)
        if not times:
            self.failures.pop(client, None)
        return None

    def fail(self, client: str) -> None:
        self._recent(client).append(time.monotonic())


async def require_actor(request: ASGIConnection) -> str:
    """The authenticated token's name, or 401/429 (the write routes' guard calls it)."""
    limiter: FailureLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        raise Problem(
            429,
            "too many failed authentication attempts; wait before trying again",
            headers={"Retry-After": str(wait)},
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    actor = None
    if scheme.lower() == "bearer" and token.strip():
        actor = await actor_for(request.app.state.store.engine, token.strip())
    if actor is None:
        limiter.fail(client)
        raise Problem(
            401,
            "a valid token is required: send `Authorization: Bearer <token>` "
            "(create one with `timeline token create NAME`)",
            headers={"WWW-Authenticate": 'Bearer realm="timeline"'},
        )
    return actor
