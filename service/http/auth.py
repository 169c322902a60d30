"""Who is writing: the bearer token a request sends, checked and rate limited, and the
write routes' guard."""

from __future__ import annotations

import time
from collections import deque

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler

from service.http.params import choose_lang
from service.http.problems import Problem
from service.tokens import actor_for

MAX_FAILURES = 10  # failed attempts per client and window before 429
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 100_000  # clients with recent failures remembered; the oldest go first


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
        actor = await actor_for(request.app.state.database, token.strip())
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


# --- the write routes' guard -------------------------------------------------------------


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def authorized(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of the write routes, run before Litestar reads the body: a stranger's body is
    never parsed, and a body that is not JSON is refused rather than parsed as JSON."""
    connection.state.actor = await require_actor(connection)
    headers = connection.headers
    # A bodiless POST (accepting a proposal as it stands) has no body to refuse.
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    # `.get`: a guard's connection may be a WebSocket's (no method); the write routes are HTTP.
    if connection.scope.get("method") in ("POST", "PATCH", "PUT") and has_body:
        content_type = headers.get("content-type", "")
        if not _is_json(content_type):
            raise Problem(
                415,
                "send the body as JSON with `Content-Type: application/json`"
                + (f", not {content_type[:60]!r}" if content_type else ""),
            )


def guarded_actor(request: Request) -> str:
    return request.state.actor


WRITE = {"actor": Provide(guarded_actor, sync_to_thread=False)}
GUARDS = [authorized]


def written_lang(request: Request) -> str:
    """The language of a write's answer, checked before anything is written."""
    return choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
