"""Bounds on a request's head: its query string and its header fields.

uvicorn bounds the request head only with its h11 parser (16 KB); with httptools, which
it prefers when installed (and `timeline serve` has it), a 4 MB header is read and handed
on. Nothing the service answers needs more than these, so more is refused before any
handler or cache sees it.
"""

from __future__ import annotations

from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from service.http.problems import problem_response

MAX_QUERY_BYTES = 8_192  # 50 repeated fact ids of 100 characters fit, with room to spare
MAX_HEADER_BYTES = 16_384  # all header names and values together, as h11's default


def _refusal(scope: Scope) -> tuple[int, str] | None:
    query = len(scope.get("query_string", b""))
    if query > MAX_QUERY_BYTES:
        return 414, f"the query string is {query} bytes long; at most {MAX_QUERY_BYTES}"
    headers = sum(len(name) + len(value) for name, value in scope["headers"])
    if headers > MAX_HEADER_BYTES:
        return 431, f"the header fields are {headers} bytes long; at most {MAX_HEADER_BYTES}"
    return None


def request_limits_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        refusal = _refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await app(scope, receive, send)
            return
        # Sent from here, not raised: so it passes back through the middleware outside
        # this one (the security headers) like any other answer.
        request: Request = Request(scope, receive, send)
        response = problem_response(*refusal, request)
        await response.to_asgi_response(scope["app"], request)(scope, receive, send)

    return middleware
