"""Conditional GETs (ETag, Last-Modified, 304), written once for every read route.

Litestar 2 has no built-in If-None-Match handling. Routes opt in with
`opt={"conditional": "log"}`: their representation is a pure function of the log's head
and the request, so the ETag is the head position plus a digest of the request, and a
matching If-None-Match or If-Modified-Since gets a 304 before the handler runs. Routes
whose handler sets its own ETag (a fact's version) get the 304 after it runs.

For the same reason a "log" route that also says `"keep": True` has its 200s kept, by
ETag, in a small per-process cache: until the next append moves the head, the same request
(the first timeline page every widget loads) is answered from it without running the
handler. Only routes whose answer depends on nothing else (no setting that can change
while the process runs) should say so.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import OrderedDict
from email.utils import format_datetime, parsedate_to_datetime

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from events.store import EventStore, parse_instant

VARY = "Accept-Language"
CACHE_BYTES = 32_000_000  # kept bodies in all, per process
CACHE_BODY = 2_000_000  # the largest body kept


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


@functools.lru_cache(maxsize=64)
def http_date(instant: str) -> str:
    return format_datetime(parse_instant(instant).replace(microsecond=0), usegmt=True)


def not_modified_since(if_modified_since: str | None, instant: str | None) -> bool:
    if not if_modified_since or instant is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return parse_instant(instant).replace(microsecond=0) <= since


def _request_digest(scope: Scope, headers: Headers) -> str:
    key = b"\0".join(
        [
            scope["path"].encode(),
            scope.get("query_string", b""),
            headers.get("accept-language", "").encode(),
        ]
    )
    return hashlib.sha256(key).hexdigest()[:16]


async def _send_not_modified(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


Key = tuple[int, str | None, str, bytes, str]  # head position and instant, the request
Kept = tuple[list[tuple[bytes, bytes]], bytes]  # the response's headers and body


class ResponseCache:
    """Whole 200 responses by key, least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int = CACHE_BYTES, max_body: int = CACHE_BODY) -> None:
        self.max_bytes, self.max_body = max_bytes, max_body
        self.size = 0
        self._entries: OrderedDict[Key, Kept] = OrderedDict()

    def get(self, key: Key) -> Kept | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Key, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if len(body) > self.max_body or key in self._entries:
            return
        self._entries[key] = (headers, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.size -= len(dropped)


def conditional_middleware(app: ASGIApp) -> ASGIApp:
    cache = ResponseCache()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        mode = handler.opt.get("conditional") if handler is not None else None
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not mode:
            await app(scope, receive, send)
            return
        request_headers = Headers.from_scope(scope)
        if_none_match = request_headers.get("if-none-match")
        cache_control = handler.opt.get("cache_control", "public, max-age=0, must-revalidate")
        extra: list[tuple[bytes, bytes]] = [
            (b"cache-control", cache_control.encode()),
            (b"vary", VARY.encode()),
        ]
        key: Key | None = None
        if mode == "log":
            store: EventStore = scope["app"].state.store
            position, instant = await store.last_recorded()
            etag = f'"{position}-{_request_digest(scope, request_headers)}"'
            extra.append((b"etag", etag.encode()))
            if instant:
                extra.append((b"last-modified", http_date(instant).encode()))
            fresh = etag_matches(if_none_match, etag) or (
                if_none_match is None
                and not_modified_since(request_headers.get("if-modified-since"), instant)
            )
            if fresh:
                await _send_not_modified(send, extra)
                return
            if scope["method"] == "GET" and handler.opt.get("keep"):
                # The request itself, not its digest, so no two requests can share an
                # answer; and the instant too: a log restored from a backup and appended to
                # again can reach the same position with other events.
                language = request_headers.get("accept-language", "")
                key = (position, instant, scope["path"], scope.get("query_string", b""), language)
                kept = cache.get(key)
                if kept is not None:
                    start: Message = {"type": "http.response.start", "status": 200}
                    await send({**start, "headers": list(kept[0])})
                    await send({"type": "http.response.body", "body": kept[1]})
                    return

        swallowed = False
        started: list[tuple[bytes, bytes]] | None = None
        body: list[bytes] = []

        async def wrapped_send(message: Message) -> None:
            nonlocal swallowed, started
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableScopeHeaders(message)
                for name, value in extra:
                    if name.decode() not in headers:
                        headers.add(name.decode(), value.decode())
                if mode != "log" and etag_matches(if_none_match, headers.get("etag") or ""):
                    swallowed = True
                    kept = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                    await _send_not_modified(send, kept)
                    return
                if key is not None:
                    started = list(message["headers"])
            elif message["type"] == "http.response.body" and started is not None:
                body.append(message.get("body", b""))
                if sum(map(len, body)) > cache.max_body:
                    started = None  # too big to keep: stop copying it
                elif not message.get("more_body", False) and key is not None:
                    cache.put(key, started, b"".join(body))
            if swallowed:
                return  # the 304 has no body
            await send(message)

        await app(scope, receive, wrapped_send)

    return middleware
