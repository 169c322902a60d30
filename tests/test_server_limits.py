"""The real server against slow and greedy clients: `timeline serve` in a child process."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from events.db import create_engine
from service import migrate
from service.tokens import create_token
from tests.served import Served

HEADER_TIMEOUT = 1.0
SLOW_CLIENTS = 60


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    # The limits are the HTTP server's, before any database is involved: one backend will do.
    database_url = f"sqlite:///{tmp_path / 'timeline.db'}"
    migrate.upgrade(database_url)
    env = {"TIMELINE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)}
    service = Served(database_url, tmp_path / "server.log", env=env).start()
    yield service
    service.stop()


def _connect(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    # Far longer than the header timeout: a server that never closes fails the recv below.
    sock.settimeout(HEADER_TIMEOUT + 10)
    return sock


def _closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_partial_headers_are_cut_off_and_normal_requests_still_succeed(served: Served):
    slow = [_connect(served) for _ in range(SLOW_CLIENTS)]
    for sock in slow:
        sock.sendall(b"GET /api/v1/timeline HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    # While they hang there, others are served.
    assert httpx.get(f"{served.base}/api/v1/timeline", timeout=10).status_code == 200
    for sock in slow:
        answer = _closed_by_server(sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
        sock.close()
    assert httpx.get(f"{served.base}/health", timeout=10).status_code == 200


def test_a_header_sent_a_byte_at_a_time_is_cut_off_at_the_deadline(served: Served):
    sock = _connect(served)
    stop = threading.Event()

    def drip() -> None:
        for byte in b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 1000:
            if stop.is_set():
                return
            try:
                sock.send(bytes([byte]))
            except OSError:
                return
            time.sleep(0.05)

    dripping = threading.Thread(target=drip)
    dripping.start()
    try:
        answer = _closed_by_server(sock)  # however steadily it sends, the deadline holds
    finally:
        stop.set()
        dripping.join()
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]


def test_an_idle_connection_after_a_response_is_closed(served: Served):
    sock = _connect(served)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    first = b""
    while not first.endswith(b"}"):  # the whole JSON body of the first response
        first += sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 "), first[:100]
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: loc")  # the next request never finishes
    assert _closed_by_server(sock).startswith(b"HTTP/1.1 408 ")
    sock.close()


def test_huge_headers_get_431(served: Served):
    sock = _connect(served)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 100_000)
    assert _closed_by_server(sock).startswith(b"HTTP/1.1 431 ")
    sock.close()


def test_a_large_body_sent_with_its_headers_is_no_header_too_large(served: Served):
    # Found by the fuzz: headers and a 200 KB body in one write were counted as headers.
    token = asyncio.run(_token(served.url))
    body = b'{"title": "x", "date": "2025-01-01", "lang": "en", "text": "' + b"a" * 199_000 + b'"}'
    sock = _connect(served)
    sock.sendall(
        b"POST /api/v1/documents HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        b"Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (token.encode(), len(body), body)
    )
    # The app reads the body and answers, not the server's 431.
    assert _closed_by_server(sock).startswith(b"HTTP/1.1 201 ")
    sock.close()


async def _token(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        return await create_token(engine, "big-body")
    finally:
        await engine.dispose()


def test_over_the_connection_limit_requests_get_503_until_connections_close(tmp_path: Path):
    database_url = f"sqlite:///{tmp_path / 'timeline.db'}"
    migrate.upgrade(database_url)
    env = {"TIMELINE_MAX_CONNECTIONS": "5", "TIMELINE_HEADER_TIMEOUT_SECONDS": "30"}
    service = Served(database_url, tmp_path / "server.log", env=env).start()
    try:
        held = [_connect(service) for _ in range(5)]
        time.sleep(0.5)  # let the server accept them all
        refused = httpx.get(f"{service.base}/health", timeout=10)
        assert refused.status_code == 503
        for sock in held:
            sock.close()
        deadline = time.monotonic() + 10
        while httpx.get(f"{service.base}/health", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the limit did not free up"
            time.sleep(0.1)
    finally:
        service.stop()
