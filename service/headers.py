"""Security headers on every response, unless a handler chose its own.

- `X-Content-Type-Options: nosniff` everywhere: a feed or JSON body is never run as script.
- `Referrer-Policy: strict-origin-when-cross-origin` everywhere.
- A Content-Security-Policy: API bodies (JSON, iCalendar, JavaScript) get one that allows
  nothing and no framing; HTML pages that set none (Litestar's OpenAPI pages, which load
  their viewer from a CDN) get one that allows only that. The embed page sets its own,
  framable from anywhere.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = "nosniff"
REFERRER_POLICY = "strict-origin-when-cross-origin"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com "
    "https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://cdn.jsdelivr.net https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'"
)


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                if "x-content-type-options" not in headers:
                    headers.add("X-Content-Type-Options", NOSNIFF)
                if "referrer-policy" not in headers:
                    headers.add("Referrer-Policy", REFERRER_POLICY)
                if "content-security-policy" not in headers:
                    html = (headers.get("content-type") or "").startswith("text/html")
                    headers.add("Content-Security-Policy", DOCS_CSP if html else API_CSP)
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
