"""HEAD for every GET route, as HTTP requires (RFC 9110, 9.3.2).

Litestar 2 routes HEAD only to handlers declared for it. Link checkers, caches and some
calendar apps ask HEAD before GET; answering 405 would tell them the feed is gone. The
app answers HEAD as the GET it stands for, with the same headers and no body.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send


class HeadAsGet(Litestar):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": False}
                if sent_last:
                    return
                sent_last.append(True)
            await send(message)

        sent_last: list[bool] = []
        await super().__call__({**scope, "method": "GET"}, receive, send_headers_only)  # type: ignore[typeddict-item]
