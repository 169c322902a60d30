"""uvicorn's access log, with long request targets shortened.

uvicorn logs every request's path and query string whole: a stranger sending 30 KB query
strings would write 30 KB of log a request. The access logger has no setting for it, so a
filter on it cuts the target, saying how long it was.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
MAX_TARGET = 300  # characters of a request's path and query kept in its log line


def shortened(target: str, limit: int = MAX_TARGET) -> str:
    if len(target) <= limit:
        return target
    return f"{target[:limit]}…[{len(target)} characters]"


class ShortTargets(logging.Filter):
    """Cuts the request target of uvicorn's access records
    ('%s - "%s %s HTTP/%s" %d': client, method, target, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], shortened(args[2]), *args[3:])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger, once (each worker process calls it)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, ShortTargets) for f in logger.filters):
        logger.addFilter(ShortTargets())
