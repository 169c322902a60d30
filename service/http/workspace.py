"""The editors' workspace at /edit: sign in once, review documents' proposals, edit facts.

Server-rendered HTML forms (POST, then redirect to a GET) calling the same functions the
API calls: documents.receive/accept/reject for the review, events.handler.handle for facts;
so every rule, error and event is the API's, and the session's actor (the token's name)
is the actor of every event, exactly as through the API. One small script of its own
(static/edit.js) adds the live date label and the evidence highlight; without it every
form still works.

Sessions are a signed cookie (HMAC-SHA256, TIMELINE_SESSION_SECRET) rather than a table:
nothing to migrate or expire in the database, and a revoked token still ends its session
at once, because each request checks that the token it was opened with still exists.
Unset, the secret is random per process (sessions end on restart; said in the log).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie, State, UploadFile
from litestar.di import Provide
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from events.dates import InvalidDate, parse_edtf
from events.decider import (
    STREAM_PREFIX,
    ChangeFact,
    DomainError,
    FactState,
    RecordFact,
    RetractFact,
    evolve,
    stream_id,
)
from events.documents import Document, Proposal, ProposedFact, paragraphs
from events.facts import (
    FACT_ID,
    KINDS,
    LANGUAGES,
    MAX_ID,
    STATUSES,
    Fact,
    FactError,
    validate_id,
)
from events.handler import handle
from events.instants import parse_instant, utc_now
from events.store import ConcurrencyError, RecordedEvent
from projections import documents as queue
from projections import timeline
from projections.calendar import TEXT as CALENDAR_TEXT
from projections.names import participant_name
from service.http import documents
from service.http.auth import FailureLimiter
from service.http.pages import _HISTORY_WORDS, WORDS
from service.http.params import TIMELINE, TimelineQuery
from service.http.problems import Problem, handle_exception
from service.tokens import actor_for, tokens

log = logging.getLogger("timeline.workspace")

STATIC = Path(__file__).resolve().parents[1] / "static"
SCRIPT = (STATIC / "edit.js").read_bytes()
STYLES = (STATIC / "edit.css").read_bytes()
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
COOKIE = "timeline_edit"
SESSION_SECONDS = 12 * 3600  # a working day; then sign in again
ANONYMOUS_SECONDS = 3600  # the sign-in form's own session, for its CSRF token
LANG = "en"  # the workspace's own words are English; the facts' texts are in both languages
STATUS_WORDS = CALENDAR_TEXT[LANG]
EVENT_WORDS = {name: WORDS[LANG][key] for name, key in _HISTORY_WORDS.items()}
NOTICES = {
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out.",
    "received": "The document was read; its proposals are below.",
    "accepted": "The proposal was accepted.",
    "rejected": "The proposal was rejected.",
    "created": "The fact was recorded.",
    "changed": "The fact was changed.",
    "retracted": "The fact was retracted.",
    "unchanged": "Nothing differed from the stored fact: nothing was recorded.",
}


# --- sessions ---------------------------------------------------------------------------


class Session(msgspec.Struct, array_like=True):
    nonce: str  # random per session: the form token is derived from it
    expires: int  # Unix seconds
    actor: str | None = None  # None: not signed in (the sign-in form's session)
    token: str | None = None  # a keyed digest of the token's stored hash


class SignInRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def _secret(state: State) -> bytes:
    configured = state.settings.session_secret
    if configured:
        return configured.encode()
    if "session_secret" not in state:
        log.warning(
            "TIMELINE_SESSION_SECRET is unset: workspace sessions are signed with a random "
            "secret of this process and end when it restarts"
        )
        state.session_secret = secrets.token_bytes(32)
    return state.session_secret


def _sign(secret: bytes, purpose: str, value: bytes) -> str:
    mac = hmac.new(secret, purpose.encode() + b"\0" + value, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _encode(secret: bytes, session: Session) -> str:
    payload = base64.urlsafe_b64encode(msgspec.json.encode(session)).decode().rstrip("=")
    return f"{payload}.{_sign(secret, 'session', payload.encode())}"


def _decode(secret: bytes, value: str) -> Session | None:
    payload, _, mac = value.partition(".")
    if not mac or not hmac.compare_digest(mac, _sign(secret, "session", payload.encode())):
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        session = msgspec.json.decode(raw, type=Session)
    except (ValueError, msgspec.DecodeError):
        return None
    return session if session.expires > time.time() else None


def csrf_token(secret: bytes, session: Session) -> str:
    return _sign(secret, "csrf", session.nonce.encode())


def _cookie(request: Request, value: str, max_age: int) -> Cookie:
    secure = request.url.scheme == "https" or request.app.state.settings.base_url.startswith(
        "https:"
    )
    return Cookie(
        key=COOKIE,
        value=value,
        max_age=max_age,
        path="/edit",
        httponly=True,
        secure=secure,
        samesite="strict",
    )


async def _token_fingerprint(request: Request, actor: str) -> str | None:
    """A keyed digest of the actor's stored token hash; None when the token is gone."""
    async with request.app.state.store.engine.connect() as conn:
        stored = (
            await conn.execute(sa.select(tokens.c.token_hash).where(tokens.c.name == actor))
        ).scalar()
    return None if stored is None else _sign(_secret(request.app.state), "token", stored.encode())


def _session(request: Request) -> Session | None:
    value = request.cookies.get(COOKIE)
    return _decode(_secret(request.app.state), value) if value else None


async def editor(request: Request) -> Session:
    """Dependency of every page but sign-in: the signed-in session, whose token still exists."""
    session = _session(request)
    if session is None or session.actor is None or session.token is None:
        raise SignInRequired
    fingerprint = await _token_fingerprint(request, session.actor)
    if fingerprint is None or not hmac.compare_digest(fingerprint, session.token):
        raise SignInRequired  # the token was revoked or replaced: the session ends with it
    return session


EDITOR = {"session": Provide(editor)}


async def _form(request: Request, session: Session | None) -> dict[str, Any]:
    """The posted form, once its CSRF token is checked (constant time); else 403."""
    form = await request.form()
    sent = form.get("csrf")
    if (
        session is None
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, csrf_token(_secret(request.app.state), session))
    ):
        raise CsrfRefused
    return {key: form.getall(key) if key == "file" else form.get(key) for key in form}


# --- rendering ----------------------------------------------------------------------------


def _page(
    request: Request,
    template: str,
    session: Session | None,
    context: dict[str, Any],
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Template:
    notice = request.query_params.get("notice")
    secret = _secret(request.app.state)
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


def _go(path: str, notice: str | None = None, *, at: str | None = None) -> Redirect:
    """303 to a workspace page, with a notice of what was done, at an element (#at)."""
    query = f"{'&' if '?' in path else '?'}{urlencode({'notice': notice})}" if notice else ""
    return Redirect(f"{path}{query}{f'#{at}' if at else ''}", status_code=303)


def _label(edtf: str) -> str:
    try:
        return parse_edtf(edtf).label[LANG]
    except InvalidDate:
        return edtf


def _waited(instant: str, now: dt.datetime) -> str:
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


def _errors(exc: Exception) -> dict[str, str]:
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


# --- what the forms hold: a fact's fields as named inputs -----------------------------


def _words(value: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value or "") if w]


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def fact_fields(form: dict[str, Any]) -> dict[str, Any]:
    """A fact's fields from the form, as the fact's JSON has them (every language given,
    empty or not, so that emptying a required text is refused, not ignored)."""
    place_name = {lang: _text(form, f"place.name.{lang}") for lang in LANGUAGES}
    country = _text(form, "place.country").upper()
    place = None
    if any(place_name.values()) or country:
        place = {
            "name": {lang: text for lang, text in place_name.items() if text},
            "country": country or None,
        }
    return {
        "title": {lang: _text(form, f"title.{lang}") for lang in LANGUAGES},
        "summary": {lang: _text(form, f"summary.{lang}") for lang in LANGUAGES},
        "kind": _text(form, "kind"),
        "status": _text(form, "status"),
        "date": {"edtf": _text(form, "date.edtf")},
        "place": place,
        "participants": [w.upper() for w in _words(form.get("participants"))],
        "tags": _words(form.get("tags")),
    }


def form_values(fact: Fact | ProposedFact | dict[str, Any] | None) -> dict[str, str]:
    """A fact's (or proposal's) fields as the form's input values."""
    if fact is None:
        return {}
    data = msgspec.to_builtins(fact) if not isinstance(fact, dict) else fact
    values: dict[str, str] = {
        "id": data.get("id") or "",
        "kind": data.get("kind") or "",
        "status": data.get("status") or "",
        "date.edtf": (data.get("date") or {}).get("edtf", ""),
        "participants": ", ".join(data.get("participants") or []),
        "tags": ", ".join(data.get("tags") or []),
    }
    place = data.get("place") or {}
    for lang in LANGUAGES:
        values[f"title.{lang}"] = (data.get("title") or {}).get(lang, "")
        values[f"summary.{lang}"] = (data.get("summary") or {}).get(lang, "")
        values[f"place.name.{lang}"] = (place.get("name") or {}).get(lang, "")
    values["place.country"] = place.get("country") or ""
    return values


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields in one shape for comparing what the form holds with what is stored."""
    place = fields.get("place")
    if place is not None:
        place = {"name": place.get("name") or {}, "country": place.get("country")}
    return {
        **fields,
        "title": {k: v for k, v in (fields.get("title") or {}).items() if v},
        "summary": {k: v for k, v in (fields.get("summary") or {}).items() if v},
        "kind": fields.get("kind") or "",
        "status": fields.get("status") or "",
        "date": {"edtf": (fields.get("date") or {}).get("edtf", "")},
        "place": place,
        "participants": fields.get("participants") or [],
        "tags": fields.get("tags") or [],
    }


def changed_fields(before: Fact | ProposedFact, form_fields: dict[str, Any]) -> dict[str, Any]:
    """The fields the form changes against `before` (what the editor read); of a language
    map, only the languages it changes (a change sets only the languages it names)."""
    old = _comparable(msgspec.to_builtins(before))
    new = _comparable(form_fields)
    out: dict[str, Any] = {}
    for name, value in form_fields.items():
        if name in ("title", "summary"):
            langs = {k: v for k, v in value.items() if v != old[name].get(k, "")}
            if langs:
                out[name] = langs
        elif new[name] != old.get(name):
            out[name] = value
    return out


def laid_over(fact: Fact, changes: dict[str, Any]) -> dict[str, Any]:
    """The fact's fields with `changes` (from changed_fields) laid over them."""
    merged = msgspec.to_builtins(fact)
    for name, value in changes.items():
        merged[name] = {**merged[name], **value} if name in ("title", "summary") else value
    return merged


# --- differences between versions, in words ----------------------------------------------


def _describe(name: str, fact: Fact | None) -> str:
    if fact is None:
        return ""
    if name.startswith(("title.", "summary.")):
        field, lang = name.split(".")
        return getattr(fact, field).get(lang, "")
    if name == "date":
        bounds = parse_edtf(fact.date.edtf)
        return f"{bounds.label[LANG]} ({bounds.edtf})"
    if name == "status":
        return STATUS_WORDS.get(fact.status, fact.status)
    if name == "place":
        if fact.place is None:
            return ""
        place = fact.place.name.get(LANG) or next(iter(fact.place.name.values()), "")
        return (
            f"{place}, {participant_name(fact.place.country, LANG)}"
            if fact.place.country
            else place
        )
    if name == "participants":
        return ", ".join(participant_name(code, LANG) for code in fact.participants)
    if name == "tags":
        return ", ".join(fact.tags)
    if name == "sources":
        return "; ".join(f"{s.title} ({s.date.isoformat()})" for s in fact.sources)
    return str(getattr(fact, name))


# The fields' names as the forms, the error summaries and the differences show them.
LABELS = {
    "id": "Fact id (a slug)",
    "title.en": "Title (English)",
    "title.ru": "Title (Russian)",
    "summary.en": "Summary (English)",
    "summary.ru": "Summary (Russian)",
    "kind": "Kind",
    "status": "Status",
    "date.edtf": "Date (EDTF)",
    "place.name.en": "Place (English)",
    "place.name.ru": "Place (Russian)",
    "place.country": "Place's country (ISO code)",
    "participants": "Participants",
    "tags": "Tags",
    "reason": "Reason",
    "retract-reason": "Why retract it",
    "token": "Write token",
    "title": "Title",
    "date": "Date of the document",
    "lang": "Language",
    "url": "Address (URL), if it has one",
    "text": "Text",
    "file": "…or upload a .txt file",
}
DIFF_FIELDS = [
    *((name, LABELS[name]) for name in ("title.en", "title.ru", "summary.en", "summary.ru")),
    ("kind", "Kind"),
    ("status", "Status"),
    ("date", "Date"),
    ("place", "Place"),
    ("participants", "Participants"),
    ("tags", "Tags"),
    ("sources", "Sources"),
]


def differences(before: Fact | None, after: Fact | None) -> list[dict[str, str]]:
    out = []
    for name, label in DIFF_FIELDS:
        old, new = _describe(name, before), _describe(name, after)
        if old != new:
            out.append({"field": label, "before": old, "after": new})
    return out


class Version(msgspec.Struct):
    event: RecordedEvent
    what: str
    fact: Fact | None
    changes: list[dict[str, str]]


def versions(recorded: list[RecordedEvent]) -> list[Version]:
    """Each event of a fact with the difference it made to the fact."""
    out = []
    state: FactState | None = None
    for r in recorded:
        before = state.fact if state else None
        state = evolve(state, r.event())
        name = r.type.split(".")[0]
        after = None if state is None or state.retracted else state.fact
        out.append(Version(r, EVENT_WORDS.get(name, name), after, differences(before, after)))
    return out


# --- sign in and out ----------------------------------------------------------------------


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(value: str | None) -> str:
    # Only a path of the workspace: never an open redirect elsewhere.
    if value and value.startswith("/edit") and "//" not in value and "\\" not in value:
        return value
    return "/edit"


@get("/sign-in", summary="The workspace's sign-in form", include_in_schema=False)
async def sign_in_form(request: Request, next: str | None = None) -> Template:
    session = _session(request)
    cookies = []
    if session is None:
        session = Session(secrets.token_urlsafe(16), int(time.time()) + ANONYMOUS_SECONDS)
        cookies.append(
            _cookie(request, _encode(_secret(request.app.state), session), ANONYMOUS_SECONDS)
        )
    return _page(
        request,
        "sign_in.html.jinja2",
        session,
        {"next": _safe_next(next), "errors": {}},
        cookies=cookies,
    )


@post("/sign-in", summary="Sign in with a write token", include_in_schema=False, status_code=303)
async def sign_in(request: Request) -> Response[Any]:
    session = _session(request)
    form = await _form(request, session)
    assert session is not None
    next_path = _safe_next(form.get("next"))
    limiter: FailureLimiter = request.app.state.auth_limiter
    client = _client(request)
    wait = limiter.retry_after(client)
    if wait is not None:
        message = f"Too many failed sign-ins: wait {wait} seconds before trying again."
        context = {"next": next_path, "errors": {"token": message}}
        page = _page(request, "sign_in.html.jinja2", session, context, status=429)
        page.headers["Retry-After"] = str(wait)
        return page
    token = _text(form, "token")
    actor = await actor_for(request.app.state.store.engine, token) if token else None
    if actor is None:
        limiter.fail(client)
        message = "This is not a valid token. Ask for one: timeline token create NAME."
        context = {"next": next_path, "errors": {"token": message}}
        return _page(request, "sign_in.html.jinja2", session, context, status=401)
    fingerprint = await _token_fingerprint(request, actor)
    # A new nonce: the session (and its form token) before signing in is not the one after.
    signed = Session(
        secrets.token_urlsafe(16), int(time.time()) + SESSION_SECONDS, actor, fingerprint
    )
    redirect = _go(next_path, "signed-in")
    redirect.cookies.append(
        _cookie(request, _encode(_secret(request.app.state), signed), SESSION_SECONDS)
    )
    return redirect


@post("/sign-out", summary="Sign out", include_in_schema=False, status_code=303)
async def sign_out(request: Request) -> Redirect:
    await _form(request, _session(request))
    redirect = _go("/edit/sign-in", "signed-out")
    redirect.cookies.append(_cookie(request, "", 0))
    return redirect


# --- the queue and the documents ------------------------------------------------------------


@get("/", dependencies=EDITOR, summary="The review queue", include_in_schema=False)
async def home(request: Request, state: State, session: Session) -> Template:
    now = utc_now()
    entries = await state.database.run(queue.open_queue, limit=500)
    open_proposals = [
        {
            "document_id": doc.document_id,
            "document_title": doc.decoded().title,
            "proposal": row.decoded(),
            "label": _label(row.decoded().fact.date.edtf),
            "waited": _waited(row.proposed_at, now),
            "proposed_at": row.proposed_at,
        }
        for row, doc in entries
    ]
    listed = await state.database.run(queue.document_list, limit=100, before=None)
    return _page(
        request,
        "home.html.jinja2",
        session,
        {"queue": open_proposals, "documents": [(s.row, s.row.decoded(), s) for s in listed]},
    )


def _document_form_values(form: dict[str, Any]) -> dict[str, str]:
    return {name: _text(form, name) for name in ("title", "date", "lang", "url", "text")}


@get("/documents/new", dependencies=EDITOR, summary="Bring in a document", include_in_schema=False)
async def new_document(request: Request, session: Session) -> Template:
    return _page(
        request, "new_document.html.jinja2", session, {"values": {"lang": "ru"}, "errors": {}}
    )


async def _uploaded_text(form: dict[str, Any]) -> str | None:
    files = [f for f in form.get("file") or [] if isinstance(f, UploadFile) and f.filename]
    if not files:
        return None
    upload = files[0]
    if not upload.filename.lower().endswith(".txt"):
        raise FactError("file", "must be a .txt file of plain text")
    raw = await upload.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FactError("file", "is not UTF-8 text") from None


@post("/documents", dependencies=EDITOR, summary="Read a document", include_in_schema=False)
async def receive_document(request: Request, state: State, session: Session) -> Response[Any]:
    form = await _form(request, session)
    values = _document_form_values(form)
    try:
        uploaded = await _uploaded_text(form)
        if uploaded is not None and not values["text"]:
            values["text"] = uploaded
        try:
            date = dt.date.fromisoformat(values["date"])
        except ValueError:
            raise FactError("date", "give the document's date as YYYY-MM-DD") from None
        document = Document(
            title=values["title"],
            date=date,
            lang=values["lang"],
            text=values["text"],
            url=values["url"] or None,
        )
        msgspec.convert(msgspec.to_builtins(document), Document)  # its length limits
        doc_id = await documents.receive(state, document, session.actor or "")
    except (FactError, msgspec.ValidationError) as exc:
        context = {"values": values, "errors": _errors(exc)}
        return _page(request, "new_document.html.jinja2", session, context, status=422)
    except Problem as exc:
        if exc.status_code != 409:
            raise
        existing = exc.headers.get("Location", "").rsplit("/", 1)[-1] if exc.headers else ""
        context = {"values": values, "errors": {"": exc.detail}, "existing": existing}
        return _page(request, "new_document.html.jinja2", session, context, status=409)
    return _go(f"/edit/documents/{doc_id}", "received")


def _marked(texts: list[str], proposals: list[Proposal]) -> list[list[dict[str, Any]]]:
    """Each paragraph as runs of text, the runs that are a proposal's evidence marked.

    Evidence overlapping an earlier mark (two proposals read from one sentence) is that
    mark's: the later proposals get an anchor there, `also`, so every one can be found."""
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for p in proposals:
        index = p.evidence.paragraph - 1
        if 0 <= index < len(texts) and p.evidence.quote:
            start = texts[index].find(p.evidence.quote)
            if start >= 0:
                spans.setdefault(index, []).append((start, start + len(p.evidence.quote), p.id))
    number = {p.id: i for i, p in enumerate(proposals)}
    out = []
    for index, text in enumerate(texts):
        runs: list[dict[str, Any]] = []
        at = 0
        for start, end, pid in sorted(spans.get(index, []), key=lambda s: (s[0], number[s[2]])):
            if start < at:
                runs[-1]["also"].append(pid)
                continue
            if start > at:
                runs.append({"text": text[at:start], "proposal": None})
            runs.append({"text": text[start:end], "proposal": pid, "also": []})
            at = end
        if at < len(text):
            runs.append({"text": text[at:], "proposal": None})
        out.append(runs)
    return out


# The date first: what a refinement or a conflict is about.
COMPARED = ["date", *(name for name, _ in DIFF_FIELDS if name not in ("date", "sources"))]
FIELD_LABELS = dict(DIFF_FIELDS)


async def _document_page(
    request: Request,
    state: State,
    session: Session,
    doc_id: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    status: int = 200,
) -> Template:
    found = await state.database.run(queue.document, documents._checked_id(doc_id))
    if found is None:
        raise Problem(404, f"no document with id {doc_id!r}")
    row, proposal_rows = found
    document = row.decoded()
    texts = paragraphs(document.text)
    proposals = [p.decoded() for p in proposal_rows]
    cards = []
    for proposal_row, proposal in zip(proposal_rows, proposals, strict=True):
        stored = None
        if proposal.match is not None:
            stored_row = await state.database.run(timeline.fact_row, proposal.match.fact_id)
            if stored_row is not None and not stored_row.retracted:
                stored_fact = stored_row.fact()
                mine = proposal.fact.as_fact()
                stored = {
                    "fact": stored_fact,
                    "version": stored_row.version,
                    "rows": [
                        {
                            "field": FIELD_LABELS[name],
                            "proposal": _describe(name, mine),
                            "stored": _describe(name, stored_fact),
                            "differs": _describe(name, mine) != _describe(name, stored_fact),
                        }
                        for name in COMPARED
                    ],
                }
        cards.append(
            {
                "row": proposal_row,
                "proposal": proposal,
                "label": _label(proposal.fact.date.edtf),
                "typed": (typed or {}).get(proposal.id) or form_values(proposal.fact),
                "errors": (errors or {}).get(proposal.id, {}),
                "stored": stored,
            }
        )
    context = {
        "doc_id": doc_id,
        "document": document,
        "row": row,
        "paragraphs": _marked(texts, proposals),
        "cards": cards,
    }
    return _page(request, "document.html.jinja2", session, context, status=status)


@get(
    "/documents/{doc_id:str}",
    dependencies=EDITOR,
    summary="Review a document",
    include_in_schema=False,
)
async def document_page(request: Request, state: State, session: Session, doc_id: str) -> Template:
    return await _document_page(request, state, session, doc_id)


async def _proposal(state: State, doc_id: str, proposal_id: str) -> Proposal:
    found = await state.database.run(queue.document, documents._checked_id(doc_id))
    if found is None:
        raise Problem(404, f"no document with id {doc_id!r}")
    for row in found[1]:
        if row.proposal_id == proposal_id:
            return row.decoded()
    raise Problem(404, f"document {doc_id!r} has no proposal {proposal_id!r}")


def _version(form: dict[str, Any]) -> int | None:
    value = _text(form, "version")
    return int(value) if value.isdigit() and len(value) <= 9 else None


@post(
    "/documents/{doc_id:str}/proposals/{proposal_id:str}/accept",
    dependencies=EDITOR,
    summary="Accept a proposal",
    include_in_schema=False,
)
async def accept_proposal(
    request: Request, state: State, session: Session, doc_id: str, proposal_id: str
) -> Response[Any]:
    form = await _form(request, session)
    proposal = await _proposal(state, doc_id, proposal_id)
    fields = fact_fields(form)
    corrections = changed_fields(proposal.fact, fields)
    new_id = _text(form, "id")
    if new_id and new_id != (proposal.fact.id or ""):
        corrections["id"] = new_id
    typed = form_values({**fields, "id": new_id})
    try:
        body = msgspec.convert({**corrections, "new": form.get("new") == "on"}, documents.Accept)
        await documents.accept(
            state.store, doc_id, proposal_id, body, _version(form), session.actor or ""
        )
    except (FactError, msgspec.ValidationError, Problem, ConcurrencyError, DomainError) as exc:
        if isinstance(exc, Problem) and exc.status_code == 404:
            raise
        if isinstance(exc, ConcurrencyError):
            found = {
                "": "The stored fact changed since you read it: it is shown again below as it "
                "is now. Check it and accept again."
            }
        elif isinstance(exc, DomainError) and not isinstance(exc, FactError):
            found = {"": str(exc)}
        else:
            found = _errors(exc)
        return await _document_page(
            request,
            state,
            session,
            doc_id,
            errors={proposal_id: found},
            typed={proposal_id: typed},
            status=409
            if isinstance(exc, ConcurrencyError | DomainError) and not isinstance(exc, FactError)
            else 422,
        )
    return _go(f"/edit/documents/{doc_id}", "accepted", at=f"proposal-{proposal_id}")


@post(
    "/documents/{doc_id:str}/proposals/{proposal_id:str}/reject",
    dependencies=EDITOR,
    summary="Reject a proposal",
    include_in_schema=False,
)
async def reject_proposal(
    request: Request, state: State, session: Session, doc_id: str, proposal_id: str
) -> Response[Any]:
    form = await _form(request, session)
    await _proposal(state, doc_id, proposal_id)
    reason = _text(form, "reason")
    try:
        if not reason:
            raise FactError("reason", "say why the proposal is rejected")
        if len(reason) > 1000:
            raise FactError("reason", "at most 1000 characters")
        await documents.reject(state.store, doc_id, proposal_id, reason, session.actor or "")
    except (FactError, DomainError) as exc:
        found = _errors(exc) if isinstance(exc, FactError) else {"": str(exc)}
        return await _document_page(
            request, state, session, doc_id, errors={proposal_id: found}, status=422
        )
    return _go(f"/edit/documents/{doc_id}", "rejected", at=f"proposal-{proposal_id}")


# --- facts ------------------------------------------------------------------------------


@get("/facts", dependencies={**EDITOR, **TIMELINE}, summary="Facts", include_in_schema=False)
async def fact_list(
    request: Request,
    state: State,
    session: Session,
    timeline_query: TimelineQuery,
    cursor: str | None = None,
) -> Template:
    try:
        after = timeline.decode_cursor(cursor) if cursor else None
    except timeline.InvalidCursor as exc:
        raise Problem(400, str(exc)) from None
    rows, next_cursor = await state.database.run(
        timeline.page, timeline_query.filters, limit=100, after=after
    )
    params = request.query_params
    filters = {
        "from": params.get("from") or "",
        "to": params.get("to") or "",
        "country": ", ".join(params.getall("country", [])),
        "tag": ", ".join(params.getall("tag", [])),
        "status": params.getall("status", []),
        "kind": params.get("kind") or "",
        "q": params.get("q") or "",
    }
    more = None
    if next_cursor:
        query = [(k, v) for k, v in params.multi_items() if k not in ("cursor", "notice")]
        query.append(("cursor", timeline.encode_cursor(next_cursor)))
        more = "/edit/facts?" + urlencode(query)
    facts = [(row, row.fact(), _label(row.fact().date.edtf)) for row in rows]
    return _page(
        request, "facts.html.jinja2", session, {"facts": facts, "filters": filters, "more": more}
    )


@get("/facts/new", dependencies=EDITOR, summary="A new fact", include_in_schema=False)
async def new_fact(request: Request, session: Session) -> Template:
    return _page(request, "new_fact.html.jinja2", session, {"values": {}, "errors": {}})


@post("/facts", dependencies=EDITOR, summary="Record a fact", include_in_schema=False)
async def create_fact(request: Request, state: State, session: Session) -> Response[Any]:
    form = await _form(request, session)
    fields = fact_fields(form)
    fact_id = _text(form, "id")
    values = form_values({**fields, "id": fact_id})
    reason = _text(form, "reason")[:1000] or None
    try:
        validate_id(fact_id)  # before the store is asked for a stream of that name
        data = {k: v for k, v in fields.items() if v is not None}
        fact = msgspec.convert({"id": fact_id, **data}, Fact)
        await handle(
            state.store, fact_id, RecordFact(fact), actor=session.actor or "", reason=reason
        )
    except (FactError, msgspec.ValidationError, DomainError, ConcurrencyError) as exc:
        refused = isinstance(exc, FactError | msgspec.ValidationError)
        found = _errors(exc) if refused else {"id": f"a fact with id {fact_id!r} already exists"}
        context = {"values": {**values, "reason": reason or ""}, "errors": found}
        return _page(
            request, "new_fact.html.jinja2", session, context, status=422 if refused else 409
        )
    return _go(f"/edit/facts/{fact_id}", "created")


def _checked_fact_id(fact_id: str) -> str:
    if len(fact_id) > MAX_ID or not FACT_ID.fullmatch(fact_id):
        raise Problem(404, "no fact with this id (ids are lowercase slugs)")
    return fact_id


async def _fact_page(
    request: Request,
    state: State,
    session: Session,
    fact_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    recorded = await state.store.read_stream(stream_id(_checked_fact_id(fact_id)))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    history = versions(recorded)
    current = history[-1].fact
    context = {
        "fact_id": fact_id,
        "fact": current,
        "version": recorded[-1].version,
        "label": _label(current.date.edtf) if current else "",
        "values": values or form_values(current),
        "errors": errors or {},
        "conflict": conflict,
        "history": history,
    }
    return _page(request, "fact.html.jinja2", session, context, status=status)


@get("/facts/{fact_id:str}", dependencies=EDITOR, summary="Edit a fact", include_in_schema=False)
async def fact_page(request: Request, state: State, session: Session, fact_id: str) -> Template:
    return await _fact_page(request, state, session, fact_id)


@get(
    "/facts/{fact_id:str}/history",
    dependencies=EDITOR,
    summary="A fact's history",
    include_in_schema=False,
)
async def fact_history(request: Request, state: State, session: Session, fact_id: str) -> Template:
    recorded = await state.store.read_stream(stream_id(_checked_fact_id(fact_id)))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    context = {"fact_id": fact_id, "history": list(reversed(versions(recorded)))}
    return _page(request, "history.html.jinja2", session, context)


def _reason(form: dict[str, Any], name: str = "reason") -> str:
    reason = _text(form, name)
    if not reason:
        raise FactError(name, "say why: every change keeps its reason")
    if len(reason) > 1000:
        raise FactError(name, "at most 1000 characters")
    return reason


@post("/facts/{fact_id:str}", dependencies=EDITOR, summary="Change a fact", include_in_schema=False)
async def change_fact(
    request: Request, state: State, session: Session, fact_id: str
) -> Response[Any]:
    form = await _form(request, session)
    _checked_fact_id(fact_id)
    fields = fact_fields(form)
    read_version = _version(form)
    if read_version is None:
        raise Problem(400, "the form lost the version it was read at: reload the fact")
    reason_text = _text(form, "reason")
    recorded = await state.store.read_stream(stream_id(fact_id))
    if not recorded:
        raise Problem(404, f"no fact with id {fact_id!r}")
    history = versions(recorded)
    read = history[read_version - 1].fact if 0 < read_version <= len(history) else None
    current_version = recorded[-1].version
    if read is None:
        raise Problem(409, f"fact {fact_id!r} has no version {read_version} to change")
    mine = changed_fields(read, fields)
    if read_version != current_version:
        # Stale: show what the others changed, and the editor's own changes laid over the
        # fact as it is now, at its current version, to send again: nothing is overwritten.
        current = history[-1].fact
        if current is None:
            raise Problem(410, f"fact {fact_id!r} was retracted since you read it")
        values = {**form_values(laid_over(current, mine)), "reason": reason_text}
        try:
            mine_fact = msgspec.convert(laid_over(read, mine), Fact)
        except msgspec.ValidationError:
            mine_fact = read  # what was typed is refused anyway when sent again; name nothing
        return await _fact_page(
            request,
            state,
            session,
            fact_id,
            values=values,
            errors={},
            conflict={
                "read": read_version,
                "theirs": history[read_version:],
                "mine": [c["field"] for c in differences(read, mine_fact)],
                "both": sorted(
                    {c["field"] for c in differences(read, mine_fact)}
                    & {c["field"] for c in differences(read, current)}
                ),
            },
            status=409,
        )
    try:
        reason = _reason(form)
        change = msgspec.convert(mine, ChangeFact)
        outcome = await handle(
            state.store,
            fact_id,
            change,
            actor=session.actor or "",
            reason=reason,
            expected_version=read_version,
        )
    except (FactError, msgspec.ValidationError, DomainError) as exc:
        found = (
            _errors(exc) if isinstance(exc, FactError | msgspec.ValidationError) else {"": str(exc)}
        )
        values = {**form_values(fields), "reason": reason_text}
        return await _fact_page(
            request, state, session, fact_id, values=values, errors=found, status=422
        )
    except ConcurrencyError:
        return _go(f"/edit/facts/{fact_id}")  # raced between the read and the write: read again
    notice = "changed" if outcome.recorded else "unchanged"
    return _go(f"/edit/facts/{fact_id}", notice)


@post(
    "/facts/{fact_id:str}/retract",
    dependencies=EDITOR,
    summary="Retract a fact",
    include_in_schema=False,
)
async def retract_fact(
    request: Request, state: State, session: Session, fact_id: str
) -> Response[Any]:
    form = await _form(request, session)
    _checked_fact_id(fact_id)
    read_version = _version(form)
    if read_version is None:
        raise Problem(400, "the form lost the version it was read at: reload the fact")
    try:
        reason = _reason(form, "retract-reason")
        await handle(
            state.store,
            fact_id,
            RetractFact(),
            actor=session.actor or "",
            reason=reason,
            expected_version=read_version,
        )
    except FactError as exc:
        return await _fact_page(
            request, state, session, fact_id, errors={"retract-reason": exc.message}, status=422
        )
    except ConcurrencyError as exc:
        message = f"The fact changed since you read it (version {exc.expected}, now {exc.actual}): read it again before retracting."
        return await _fact_page(
            request, state, session, fact_id, errors={"retract-reason": message}, status=409
        )
    return _go(f"/edit/facts/{fact_id}", "retracted")


@get("/changes", dependencies=EDITOR, summary="Recent changes", include_in_schema=False)
async def recent_changes(request: Request, state: State, session: Session) -> Template:
    head = await state.store.head()
    found: list[RecordedEvent] = []
    after = head
    # Back through the log in chunks until fifty fact events (documents' events skipped).
    while after > 0 and len(found) < 50:
        start = max(0, after - 500)
        chunk = await state.store.read_all(after=start, limit=after - start)
        found = [r for r in chunk if r.stream_id.startswith(STREAM_PREFIX)] + found
        after = start
    changes = [
        {
            "event": r,
            "fact_id": r.stream_id[len(STREAM_PREFIX) :],
            "what": EVENT_WORDS.get(r.type.split(".")[0], r.type),
        }
        for r in reversed(found[-50:])
    ]
    return _page(request, "changes.html.jinja2", session, {"changes": changes})


# --- the script, the styles, the live date label -----------------------------------------


@get("/date-label", summary="How an EDTF date reads", include_in_schema=False)
async def date_label(edtf: str = "") -> dict[str, str]:
    try:
        bounds = parse_edtf(edtf[:64])
    except InvalidDate as exc:
        return {"error": str(exc)}
    return {"label": bounds.label[LANG], "precision": bounds.precision}


@get("/edit.js", summary="The workspace's script", include_in_schema=False)
async def script() -> Response[bytes]:
    return Response(
        SCRIPT, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )


@get("/edit.css", summary="The workspace's styles", include_in_schema=False)
async def styles() -> Response[bytes]:
    return Response(
        STYLES, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


# --- errors as pages -----------------------------------------------------------------------


def _error_page(request: Request, exc: Exception) -> Response[Any]:
    if isinstance(exc, SignInRequired):
        # Leaving the path: back there after signing in.
        redirect = Redirect(
            "/edit/sign-in", status_code=303, query_params={"next": request.url.path}
        )
        return redirect
    if isinstance(exc, CsrfRefused):
        status, detail = (
            403,
            (
                "This form was refused: its security token is missing or out of date. "
                "Reload the page and send it again."
            ),
        )
    else:
        problem = handle_exception(request, exc)
        status, detail = problem.status_code, problem.content["detail"]
    return _page(
        request,
        "error.html.jinja2",
        _session(request),
        {"status": status, "detail": detail},
        status=status,
    )


ROUTER = Router(
    path="/edit",
    route_handlers=[
        sign_in_form,
        sign_in,
        sign_out,
        home,
        new_document,
        receive_document,
        document_page,
        accept_proposal,
        reject_proposal,
        fact_list,
        new_fact,
        create_fact,
        fact_page,
        fact_history,
        change_fact,
        retract_fact,
        recent_changes,
        date_label,
        script,
        styles,
    ],
    exception_handlers={Exception: _error_page, HTTPException: _error_page},
)
POSTS = [
    sign_in,
    sign_out,
    receive_document,
    accept_proposal,
    reject_proposal,
    create_fact,
    change_fact,
    retract_fact,
]
