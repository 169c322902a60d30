"""Conditional GETs (ETag, Last-Modified, 304), written once for every read route.

Litestar 2 has no built-in If-None-Match handling. Routes opt in with
`opt={"conditional": "log"}`: their representation is a pure function of the log's head
and the request, so the ETag is the head position plus a digest of the request, and a
matching If-None-Match or If-Modified-Since gets a 304 before the handler runs. Routes
whose handler sets its own ETag and Last-Modified (a fact's version and its last change)
get the 304 after it runs.

For the same reason a "log" route that also says `"keep": True` has its 200s kept, by
ETag, in a small per-process cache: until the next append moves the head, the same request
(the first timeline page every widget loads) is answered from it without running the
handler. An answer is kept when its request is asked the second time at a head: the
ones asked once are not worth copying, and would push out those that polls repeat. Only
routes whose answer depends on nothing else (no setting that can change while the
process runs) should say so.

Kept answers are gzipped for the clients that accept it (a widget's thousand facts are
1.1 MB of JSON; a 10,000-event feed is about 20 MB, and calendar apps poll it whole), and
the gzipped copy is kept beside the answer. It is another representation, so it has its
own ETag (`-gzip` added), and both carry `Vary: Accept-Encoding`. Routes of large
documents (the feeds, the TimelineJS export) say `"keep": "large"`: their answers are
kept in a cache of their own (from the second asking too, or at once when big); the
first request for a key makes the answer, the ones that come meanwhile wait for it
instead of making it again, and no more than LARGE_MAKING answers are made at once: what
concurrent cold renders hold is bounded.

What identifies a request is what its answer depends on: the path, the parsed query and
the language `Accept-Language` chooses, never the raw header text (a 4 MB header names one
of two languages). A 304 is only answered for a request known to be valid: one this
process answered with a 200 at the same head, or after the handler has run (so an
invalid request gets its 4xx whatever `If-None-Match` or `If-Modified-Since` says).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import gzip
import hashlib
import sys
from collections import OrderedDict
from collections.abc import Iterable
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl

import msgspec
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from events.instants import parse_instant
from events.store import EventStore
from service.http.params import choose_lang

VARY = "Accept-Language"
VARY_ENCODED = "Accept-Language, Accept-Encoding"
# Route options: answers tagged by the log's head, and also kept in this process by ETag;
# large documents kept apart, with a gzipped copy.
READ = {"conditional": "log"}
KEPT = {**READ, "keep": True}
KEPT_LARGE = {**READ, "keep": "large"}
CACHE_BYTES = 32_000_000  # kept answers in all, per process: keys, headers and bodies
CACHE_BODY = 2_000_000  # the largest body kept
LARGE_CACHE_BYTES = 100_000_000  # kept large answers in all, their gzipped copies too
LARGE_CACHE_BODY = 40_000_000  # the largest large body kept (a feed's bound is ~25 MB)
LARGE_MAKING = 2  # large answers made at once, per process
GZIP_LEVEL = 5  # below zlib's default (6): each copy is made while a request waits
GZIP_IN_THREAD = 256_000  # bodies larger than this are compressed off the event loop
CACHE_QUERY = 2_048  # answers to longer query strings are not kept
ISSUED = 20_000  # ETags of 200s remembered for 304s before the handler (under 4 MB)
ASKED = 20_000  # requests remembered as asked once, by hash (about 2.5 MB)


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


def _http_instant(value: str | None) -> dt.datetime | None:
    """An HTTP date (`If-Modified-Since`, `Last-Modified`), or None if it is not one."""
    if not value:
        return None
    try:
        found = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=dt.UTC)


def not_modified_since(if_modified_since: str | None, instant: str | None) -> bool:
    since = _http_instant(if_modified_since)
    if since is None or instant is None:
        return False
    return parse_instant(instant).replace(microsecond=0) <= since


def _unchanged_since(if_modified_since: str | None, last_modified: str | None) -> bool:
    """For a handler's own validators: whether its Last-Modified is not after the date."""
    since, modified = _http_instant(if_modified_since), _http_instant(last_modified)
    return since is not None and modified is not None and modified <= since


RequestIdentity = tuple[str, tuple[tuple[str, str], ...], str]  # path, parsed query, language


def request_identity(scope: Scope, headers: Headers) -> RequestIdentity:
    """What a conditional route's answer depends on. The query is parsed (so `%4B` and `K`
    are one value) but not reordered: a route may read its values in order."""
    raw = scope.get("query_string", b"").decode("latin-1")
    query = tuple(parse_qsl(raw, keep_blank_values=True))
    if any(name == "lang" for name, _ in query):
        language = ""  # the query chooses it
    else:
        language = choose_lang(None, headers.get("accept-language"))
    return scope["path"], query, language


def _request_digest(request: RequestIdentity) -> str:
    return hashlib.sha256(msgspec.json.encode(request)).hexdigest()[:16]


async def _send_not_modified(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` allows gzip (RFC 9110, 12.5.3): named, or `*`, and not
    with q=0."""
    if not accept_encoding:
        return False
    allowed: dict[str, bool] = {}
    for part in accept_encoding[:1000].lower().split(","):
        coding, _, parameters = part.partition(";")
        quality = parameters.strip().removeprefix("q=").strip() if parameters else "1"
        try:
            allowed[coding.strip()] = float(quality) > 0
        except ValueError:
            continue
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


async def _gzipped(body: bytes) -> bytes:
    # mtime=0: the same body always compresses to the same bytes (one ETag, one length).
    if len(body) <= GZIP_IN_THREAD:
        return gzip.compress(body, GZIP_LEVEL, mtime=0)
    return await asyncio.to_thread(gzip.compress, body, GZIP_LEVEL, mtime=0)


Key = tuple[int, str | None, RequestIdentity]  # head position and instant, the request
HeaderList = list[tuple[bytes, bytes]]
# The response's headers and body, and for large answers the body gzipped
Kept = tuple[HeaderList, bytes, bytes | None]
_ENTRY = 100  # an OrderedDict entry beyond its key and value (a hash slot and a link)


def _footprint(value: object) -> int:
    """Bytes of memory `value` takes, with the tuples, lists, strings and bytes in it."""
    size = sys.getsizeof(value)
    if isinstance(value, tuple | list):
        for item in value:  # a loop, not sum() over a generator: half the cost per entry
            size += _footprint(item)
    return size


class ResponseCache:
    """Whole 200 responses by key, least recently used out first, bounded in bytes: every
    byte an entry holds counts (its key, its header list and its body), so that a million
    tiny answers cannot hide behind a bound on bodies alone."""

    def __init__(self, max_bytes: int = CACHE_BYTES, max_body: int = CACHE_BODY) -> None:
        self.max_bytes, self.max_body = max_bytes, max_body
        self.size = 0
        self._entries: OrderedDict[Key, tuple[Kept, int]] = OrderedDict()
        self._asked: OrderedDict[int, int] = OrderedDict()  # times asked, by the key's hash

    def asked_before(self, key: Key) -> bool:
        """Whether `key` was asked before (it is counted as asked now). An answer is kept
        from its second asking: one asked once (a query string new each time, a crawler's
        walk) would cost copying and counting it, and push out the answers that polls ask
        again and again. A hash collision only keeps an answer early."""
        digest = hash(key)
        times = self._asked.pop(digest, 0)
        self._asked[digest] = times + 1  # now the most recent
        if len(self._asked) > ASKED:
            self._asked.popitem(last=False)
        return times > 0

    def times_asked(self, key: Key) -> int:
        return self._asked.get(hash(key), 0)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Kept | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: Key, headers: HeaderList, body: bytes, gzipped: bytes | None = None) -> None:
        if len(body) > self.max_body:
            return
        if (old := self._entries.get(key)) is not None:
            if old[0][2] is not None or gzipped is None:
                return
            del self._entries[key]  # now with its gzipped copy
            self.size -= old[1]
        kept = (headers, body, gzipped)
        cost = _ENTRY + _footprint(key) + _footprint(kept)
        if cost > self.max_bytes:
            return
        self._entries[key] = (kept, cost)
        self.size += cost
        while self.size > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.size -= dropped


class IssuedTags:
    """The ETags of the last 200s this process sent on "log" routes: a request carrying
    one of them was valid when answered, and still is while the head has not moved."""

    def __init__(self, limit: int = ISSUED) -> None:
        self.limit = limit
        self._tags: OrderedDict[str, None] = OrderedDict()

    def add(self, etag: str) -> None:
        self._tags[etag] = None
        self._tags.move_to_end(etag)
        if len(self._tags) > self.limit:
            self._tags.popitem(last=False)

    def __contains__(self, etag: str) -> bool:
        return etag in self._tags


@dataclasses.dataclass
class Conditional:
    """The middleware's per-application memory, kept in the app's state."""

    cache: ResponseCache = dataclasses.field(default_factory=ResponseCache)
    issued: IssuedTags = dataclasses.field(default_factory=IssuedTags)
    large: ResponseCache = dataclasses.field(
        default_factory=lambda: ResponseCache(LARGE_CACHE_BYTES, LARGE_CACHE_BODY)
    )
    # Large answers being made, by key: the requests that come meanwhile wait for them.
    making: dict[Key, asyncio.Event] = dataclasses.field(default_factory=dict)
    makers: asyncio.Semaphore = dataclasses.field(
        default_factory=lambda: asyncio.Semaphore(LARGE_MAKING)
    )


def memory(scope: Scope) -> Conditional:
    state = scope["app"].state
    found = state.get("conditional")
    if found is None:
        found = state["conditional"] = Conditional()
    return found


_ENCODING_HEADERS = frozenset({b"content-length", b"content-encoding", b"etag"})


def _encoded(kept: Kept, etag: str, gzipped: bool) -> tuple[HeaderList, bytes]:
    """A kept answer's headers and body in the encoding asked for, with its ETag (the kept
    headers say nothing of the encoding: one entry serves both)."""
    headers, body, compressed = kept
    if gzipped:
        assert compressed is not None  # made whenever gzip is asked for
        body, headers = compressed, [*headers, (b"content-encoding", b"gzip")]
    length = str(len(body)).encode()
    return [*headers, (b"content-length", length), (b"etag", etag.encode())], body


def _with_defaults(headers: Iterable[tuple[bytes, bytes]], defaults: HeaderList) -> HeaderList:
    """`headers` and each of `defaults` the response did not set itself. On the raw pairs:
    Litestar's MutableScopeHeaders decodes and re-encodes every header to add two, which
    cost more on a feed's miss path than the feed's own query."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    headers.extend((name, value) for name, value in defaults if name not in present)
    return headers


def conditional_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        mode = handler.opt.get("conditional") if handler is not None else None
        if scope["type"] != ScopeType.HTTP or scope["method"] not in ("GET", "HEAD") or not mode:
            await app(scope, receive, send)
            return
        request_headers = Headers.from_scope(scope)
        remembered = memory(scope)
        large = handler.opt.get("keep") == "large"
        cache = remembered.large if large else remembered.cache
        # Kept answers (pages of JSON, feeds) are the ones worth a gzipped copy: a widget's
        # thousand facts are 1.1 MB of JSON and a tenth of that gzipped.
        compressible = bool(handler.opt.get("keep"))
        gzipped = compressible and accepts_gzip(request_headers.get("accept-encoding"))
        if_none_match = request_headers.get("if-none-match")
        cache_control = handler.opt.get("cache_control", "public, max-age=0, must-revalidate")
        extra: list[tuple[bytes, bytes]] = [
            (b"cache-control", cache_control.encode()),
            (b"vary", (VARY_ENCODED if compressible else VARY).encode()),
        ]
        key: Key | None = None
        fresh = False  # for "log" routes: whether the client's copy is current
        etag = ""
        if mode == "log":
            store: EventStore = scope["app"].state.store
            position, instant = await store.last_recorded()
            request = request_identity(scope, request_headers)
            etag = f'"{position}-{_request_digest(request)}{"-gzip" if gzipped else ""}"'
            extra.append((b"etag", etag.encode()))
            if instant:
                extra.append((b"last-modified", http_date(instant).encode()))
            fresh = etag_matches(if_none_match, etag) or (
                if_none_match is None
                and not_modified_since(request_headers.get("if-modified-since"), instant)
            )
            if fresh and etag in remembered.issued:
                await _send_not_modified(send, extra)
                return
            keep = handler.opt.get("keep") and len(scope.get("query_string", b"")) <= CACHE_QUERY
            if scope["method"] == "GET" and keep:
                # The request itself, not its digest, so no two requests can share an
                # answer; and the instant too: a log restored from a backup and appended to
                # again can reach the same position with other events.
                asking: Key = (position, instant, request)
                kept = cache.get(asking)
                asked = kept is None and cache.asked_before(asking)
                while kept is None and large and asking in remembered.making:
                    await remembered.making[asking].wait()  # made by another request
                    kept = cache.get(asking)
                if kept is not None or large or asked:
                    key = asking  # else answered, not kept: kept from its second asking
                if kept is not None:
                    if fresh:
                        await _send_not_modified(send, extra)
                        return
                    if gzipped and kept[2] is None:
                        # Small answers are gzipped when first asked so (large ones when made)
                        kept = (kept[0], kept[1], await _gzipped(kept[1]))
                        cache.put(asking, *kept)
                    headers, payload = _encoded(kept, etag, gzipped)
                    if large:
                        remembered.issued.add(etag)
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": payload, "more_body": False})
                    return

        swallowed = False
        started: list[tuple[bytes, bytes]] | None = None
        # A large answer's start, sent with its whole body
        held: HTTPResponseStartEvent | None = None
        body: list[bytes] = []

        async def wrapped_send(message: Message) -> None:
            nonlocal swallowed, started, held
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = _with_defaults(message.get("headers", ()), extra)
                message = {**message, "headers": headers}
                if mode == "log":
                    remembered.issued.add(etag)
                if mode == "log":
                    current = fresh
                else:  # the handler's own ETag and Last-Modified
                    own = {k.lower(): v.decode("latin-1") for k, v in headers}
                    current = etag_matches(if_none_match, own.get(b"etag", "")) or (
                        if_none_match is None
                        and _unchanged_since(
                            request_headers.get("if-modified-since"), own.get(b"last-modified")
                        )
                    )
                if current:
                    swallowed = True
                    kept = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                    await _send_not_modified(send, kept)
                    return
                if large or gzipped:
                    held = message
                    return
                if key is not None:
                    started = [
                        (k, v) for k, v in message["headers"] if k.lower() not in _ENCODING_HEADERS
                    ]
            elif message["type"] == "http.response.body" and held is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                whole = b"".join(body)
                body.clear()
                # Gzipped now if asked for, or if large enough to be worth it off the loop
                # while the answer is still being made (no one else waits for it then).
                big = key is not None and len(whole) > GZIP_IN_THREAD
                compressed = await _gzipped(whole) if gzipped or big else None
                neutral = [(k, v) for k, v in held["headers"] if k.lower() not in _ENCODING_HEADERS]
                # A large answer is kept from its second asking too (the requests that
                # waited for this one count), or at once if big: its making (a thread, a
                # gzipped copy) costs more than keeping it.
                if key is not None and (big or cache.times_asked(key) > 1):
                    cache.put(key, neutral, whole, compressed)
                headers, payload = _encoded((neutral, whole, compressed), etag, gzipped)
                await send({**held, "headers": headers})
                await send({"type": "http.response.body", "body": payload, "more_body": False})
                return
            elif message["type"] == "http.response.body" and started is not None:
                body.append(message.get("body", b""))
                if sum(map(len, body)) > cache.max_body:
                    started = None  # too big to keep: stop copying it
                elif not message.get("more_body", False) and key is not None:
                    cache.put(key, started, b"".join(body))
            if swallowed:
                return  # the 304 has no body
            await send(message)

        if key is None or not large:
            await app(scope, receive, wrapped_send)
            return
        # One request makes a large answer; the others for its key wait (above) for it.
        made = remembered.making[key] = asyncio.Event()
        try:
            async with remembered.makers:
                await app(scope, receive, wrapped_send)
        finally:
            remembered.making.pop(key, None)
            made.set()

    return middleware
