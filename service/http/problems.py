"""Every error as application/problem+json (RFC 9457), with a detail a person can act on."""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from events.decider import DomainError, FactAlreadyExists, FactIsRetracted, FactNotFound
from events.facts import FactError
from events.review import DocumentNotFound, ProposalNotFound
from events.store import ConcurrencyError

log = logging.getLogger("timeline.errors")
MEDIA_TYPE = "application/problem+json"
# RFC 9110's names for these, which Python's `http` module only uses from 3.13 on: the
# same answer whichever Python serves it.
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class Problem(HTTPException):
    """An HTTP error raised by the service's own handlers."""

    def __init__(
        self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail=detail, status_code=status, headers=headers)
        self.fields = extra


def problem_response(
    status: int,
    detail: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _validation_detail(exc: ValidationException) -> tuple[str, Any]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    if errors:
        first = errors[0]
        if isinstance(first, dict) and first.get("message"):
            where = first.get("key") or first.get("source") or ""
            return (f"{where}: {first['message']}" if where else first["message"]), errors
    return exc.detail, errors


# PostgreSQL error classes that say the server cannot do the work now, not that the
# request is wrong: connection exceptions, insufficient resources (a full disk),
# operator intervention (shutdown, a cancelled statement), and read-only transactions.
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57")
_PG_READ_ONLY = "25006"


def _driver_error(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapper (the fast write paths raise
    sqlite3's directly)."""
    return exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc


def _read_only(exc: BaseException) -> bool:
    orig = _driver_error(exc)
    if isinstance(orig, sqlite3.OperationalError):
        return orig.sqlite_errorcode & 0xFF == sqlite3.SQLITE_READONLY
    return getattr(orig, "sqlstate", None) == _PG_READ_ONLY


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | OSError | TimeoutError):
        return True
    orig = _driver_error(exc)
    # sqlite3.DatabaseError itself (not a subclass such as IntegrityError) is a damaged or
    # unreadable file; OperationalError a locked, full or unwritable one.
    if isinstance(orig, sqlite3.OperationalError) or type(orig) is sqlite3.DatabaseError:
        return True
    return str(getattr(orig, "sqlstate", None) or "")[:2] in _PG_UNAVAILABLE_CLASSES


def handle_exception(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, Problem):
        return problem_response(exc.status_code, exc.detail, request, exc.headers, **exc.fields)
    if isinstance(exc, ValidationException):
        detail, errors = _validation_detail(exc)
        return problem_response(400, detail, request, errors=errors)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail
        if status == 413:
            detail = "the request body is larger than this service accepts"
        return problem_response(status, detail, request, exc.headers)
    # Raised while Litestar decodes a hostile body, before any handler runs.
    if isinstance(exc, UnicodeDecodeError):
        return problem_response(400, "the request is not valid UTF-8", request)
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):
        return problem_response(400, "the JSON body is nested too deeply", request)
    if isinstance(exc, FactError):
        return problem_response(422, f"{exc.field}: {exc.message}", request, field=exc.field)
    if isinstance(exc, DocumentNotFound | ProposalNotFound):
        return problem_response(404, str(exc), request)
    if isinstance(exc, FactNotFound):
        return problem_response(404, "no fact with this id", request)
    if isinstance(exc, FactAlreadyExists):
        return problem_response(409, str(exc), request)
    if isinstance(exc, FactIsRetracted):
        return problem_response(410, str(exc), request)
    if isinstance(exc, DomainError):
        return problem_response(409, str(exc), request)
    if isinstance(exc, ConcurrencyError):
        return problem_response(
            412,
            f"the fact is at version {exc.actual}, not {exc.expected}: read it again and retry",
            request,
            current_version=exc.actual,
        )
    if _read_only(exc):
        log.warning("database refuses writes: %s", type(exc).__name__)
        return problem_response(
            503,
            "the database refuses writes for now (it is read-only); reads still work",
            request,
            {"Retry-After": "60"},
        )
    if _unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(
            503, "the database is unavailable; try again shortly", request, {"Retry-After": "5"}
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "an unexpected error occurred", request)
