"""HEAD for every GET route, as HTTP requires (RFC 9110, 9.3.2).

Litestar 2 routes HEAD only to handlers declared for it. Link checkers, caches and some
calendar apps ask HEAD before GET; answering 405 would tell them the feed is gone. The
app answers HEAD as the GET it stands for, with the same headers and no body.
"""

from __future__ import annotations

from typing import cast

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import (
    HTTPScope,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Message,
    Receive,
    Scope,
    Send,
)


class HeadAsGet(Litestar):
    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        # Compared with ScopeType's members, not with "http", the type checker narrows the
        # scope; "lifespan" is named too, or it could not rule out a lifespan scope.
        if (
            scope["type"] == "lifespan"
            or scope["type"] != ScopeType.HTTP
            or scope["method"] != "HEAD"
        ):
            await super().__call__(scope, receive, send)
            return
        # An HTTP scope: ASGI's send takes HTTP messages (the types cannot tie send to scope).
        send_http = cast(Send, send)

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": False}
                if sent_last:
                    return
                sent_last.append(True)
            await send_http(message)

        sent_last: list[bool] = []
        as_get: HTTPScope = {**scope, "method": "GET"}
        await super().__call__(as_get, receive, send_headers_only)
