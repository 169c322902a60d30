"""Security headers on every response, unless a handler chose its own.

- `X-Content-Type-Options: nosniff` everywhere: a feed or JSON body is never run as script.
- `Referrer-Policy: strict-origin-when-cross-origin` everywhere.
- A Content-Security-Policy: API bodies (JSON, iCalendar, JavaScript) get one that allows
  nothing and no framing; HTML pages that set none (the API page at /schema) get one that
  allows the service's own scripts, styles and JSON, nothing from elsewhere. The embed
  page and its error page set their own, framable from anywhere.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = "nosniff"
REFERRER_POLICY = "strict-origin-when-cross-origin"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The API page (service/http/apidocs.py): Swagger UI's files and start script from this
# service, the OpenAPI JSON fetched from it; images are Swagger UI's inline SVG data: URIs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
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
