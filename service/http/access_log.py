"""The access log: a line per request, written by the app, or none (TIMELINE_ACCESS_LOG=off).

uvicorn's own access log cost more than most handlers (turning it off gave /health 28%
more requests a second): a record made and formatted by a formatter that looks up each
status's phrase and colours, and a filter to cut long targets. The app writes its own line
instead (uvicorn's is off): what an operator needs, made once as a plain string — the
client, the request line with its target shortened (a stranger sending 30 KB query strings
must not write 30 KB of log a request), the status and how long the answer took:

    127.0.0.1:51234 - "GET /calendar.ics?lang=ru HTTP/1.1" 200 3.2 ms
"""

from __future__ import annotations

import logging
import sys
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = "timeline.access"
MAX_TARGET = 300  # characters of a request's path and query kept in its log line


def shortened(target: str, limit: int = MAX_TARGET) -> str:
    if len(target) <= limit:
        return target
    return f"{target[:limit]}…[{len(target)} characters]"


def _logger() -> logging.Logger:
    """The access logger, writing bare lines to stdout (where uvicorn wrote its own)."""
    log = logging.getLogger(LOGGER)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def logged(app: ASGIApp) -> ASGIApp:
    """`app` writing an access log line for each HTTP request it answers."""
    log = _logger()

    async def logging_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_noting_status)
        finally:
            client = scope.get("client")
            target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
            if query := scope.get("query_string"):
                target += "?" + query.decode("latin-1")
            log.info(
                '%s:%s - "%s %s HTTP/%s" %d %.1f ms',
                *(client or ("-", "-")),
                scope["method"],
                shortened(target),
                scope.get("http_version", "1.1"),
                status or 500,  # the app failed before answering: the server says 500
                1000 * (time.perf_counter() - started),
            )

    return logging_app
