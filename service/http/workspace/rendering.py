"""How the workspace's pages are made: the page frame, redirects with a notice, and its words."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.response import Redirect, Template

from events.dates import InvalidDate, parse_edtf
from events.facts import (
    KINDS,
    LANGUAGES,
    STATUSES,
    FactError,
)
from events.instants import parse_instant
from service.http.problems import Problem
from service.http.workspace.history import LABELS
from service.http.workspace.sessions import Session, csrf_token, secret_of
from service.http.workspace.words import LANG, NOTICES, STATUS_WORDS

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


# --- rendering ----------------------------------------------------------------------------


def render_page(
    request: Request,
    template: str,
    session: Session | None,
    context: dict[str, Any],
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Template:
    notice = request.query_params.get("notice")
    secret = secret_of(request.app.state)
    return Template(
        template_name=f"edit/{template}",
        context={
            "base": request.app.state.settings.base_url,
            "lang": LANG,
            "actor": session.actor if session else None,
            "csrf": csrf_token(secret, session) if session else "",
            "notice": NOTICES.get(notice or ""),
            "kinds": sorted(KINDS),
            "statuses": sorted(STATUSES),
            "status_words": STATUS_WORDS,
            "languages": LANGUAGES,
            "labels": LABELS,
            **context,
        },
        status_code=status,
        media_type=MediaType.HTML,
        cookies=cookies or [],
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"},
    )


def go_to(path: str, notice: str | None = None, *, at: str | None = None) -> Redirect:
    """303 to a workspace page, with a notice of what was done, at an element (#at)."""
    query = f"{'&' if '?' in path else '?'}{urlencode({'notice': notice})}" if notice else ""
    return Redirect(f"{path}{query}{f'#{at}' if at else ''}", status_code=303)


def edtf_label(edtf: str) -> str:
    try:
        return parse_edtf(edtf).label[LANG]
    except InvalidDate:
        return edtf


def waited_since(instant: str, now: dt.datetime) -> str:
    seconds = max(0, int((now - parse_instant(instant)).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


_VALIDATION_AT = re.compile(r"at `\$\.([^`]+)`")


def _field_of(path: str) -> str:
    """A rule's field path as the form names it: participants[2] is the participants box."""
    return re.sub(r"\[\d+\]", "", path)


def field_errors(exc: Exception) -> dict[str, str]:
    """The refusal as {form field: message}; "" for what no one field concerns."""
    if isinstance(exc, FactError):
        return {_field_of(exc.field): exc.message}
    if isinstance(exc, msgspec.ValidationError):
        found = _VALIDATION_AT.search(str(exc))
        message = _VALIDATION_AT.sub("", str(exc)).strip(" -")
        return {_field_of(found.group(1)) if found else "": message}
    if isinstance(exc, Problem):
        field = exc.fields.get("field")
        detail = exc.detail
        if field and detail.startswith(f"{field}: "):
            detail = detail[len(field) + 2 :]
        return {field or "": detail}
    return {"": str(exc)}
