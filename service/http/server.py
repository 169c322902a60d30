"""How `timeline serve` runs uvicorn: bounded header reading, connections and proxies."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.settings import Settings

# Request headers larger than this get 431 (llhttp, under httptools, sets no limit itself).
MAX_HEADER_BYTES = 64 * 1024


@functools.cache
def _header_timeout() -> float:
    # The protocol is made by uvicorn in each worker process, from a class name: it reads
    # its setting from the environment, as the app does.
    return Settings.from_env().header_timeout_seconds


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers.

    uvicorn bounds only the idle time between requests (`timeout_keep_alive`): a client
    that sends part of a header and then nothing, or a byte a second, holds its connection
    (and a file descriptor) for ever. Neither uvicorn nor its parsers offer a header
    timeout, so this adds one: the headers of a connection's first request must be
    complete within `TIMELINE_HEADER_TIMEOUT_SECONDS` of the connection opening, and each
    later request's within as long after the previous response, or the server answers 408
    and closes the connection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def _await_headers(self) -> None:
        self._stop_waiting()
        self._header_bytes = 0
        self._header_deadline = self.loop.call_later(_header_timeout(), self._headers_too_slow)

    def _stop_waiting(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        self._refuse(408, b"Request Timeout", b"the request headers took too long")

    def _refuse(self, status: int, phrase: bytes, message: bytes) -> None:
        # Before a request's headers are in, no ASGI cycle exists to answer through, so the
        # response is written here, as uvicorn's own send_400_response does.
        if self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, phrase, len(message), message)
        )
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self._header_deadline is not None:
            self._header_bytes += len(data)
        # Parse first: a chunk may hold the end of the headers and a large body after it,
        # and only what comes before the headers' end counts against their bound.
        super().data_received(data)
        if self._header_deadline is not None and self._header_bytes > MAX_HEADER_BYTES:
            self._stop_waiting()
            self._refuse(431, b"Request Header Fields Too Large", b"the headers are too large")

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)


def serve(settings: Settings) -> None:
    """Run the service's app under uvicorn with the settings' limits."""
    trusted = [address.strip() for address in settings.trusted_proxies.split(",")]
    trusted = [address for address in trusted if address]
    uvicorn.run(
        "service.http.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=f"{__name__}:{HeaderTimeoutProtocol.__name__}",
        timeout_keep_alive=int(settings.keep_alive_seconds),
        # Over this many open connections (per process), requests get 503 at once.
        limit_concurrency=settings.max_connections or None,
        access_log=False,  # the app writes its own, cheaper (service/http/access_log.py)
        # Forwarded headers are believed only from the proxies named; without any, the
        # client is the peer of the TCP connection, whatever its headers claim.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
