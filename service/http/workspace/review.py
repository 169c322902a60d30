"""The review queue and the documents: bring one in, read its proposals, accept or reject."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.response import Template

from events.decider import (
    DomainError,
)
from events.documents import Document, Proposal, paragraphs
from events.facts import (
    FactError,
)
from events.instants import utc_now
from events.store import ConcurrencyError
from projections import documents as queue
from projections import timeline
from service.http import documents
from service.http.problems import Problem
from service.http.workspace.forms import (
    changed_fields,
    fact_fields,
    form_text,
    form_values,
    form_version,
)
from service.http.workspace.history import DIFF_FIELDS, describe
from service.http.workspace.rendering import (
    edtf_label,
    field_errors,
    go_to,
    render_page,
    waited_since,
)
from service.http.workspace.sessions import EDITOR, Session, form_of

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
            "label": edtf_label(row.decoded().fact.date.edtf),
            "waited": waited_since(row.proposed_at, now),
            "proposed_at": row.proposed_at,
        }
        for row, doc in entries
    ]
    listed = await state.database.run(queue.document_list, limit=100, before=None)
    return render_page(
        request,
        "home.html.jinja2",
        session,
        {"queue": open_proposals, "documents": [(s.row, s.row.decoded(), s) for s in listed]},
    )


def _document_form_values(form: dict[str, Any]) -> dict[str, str]:
    return {name: form_text(form, name) for name in ("title", "date", "lang", "url", "text")}


@get("/documents/new", dependencies=EDITOR, summary="Bring in a document", include_in_schema=False)
async def new_document(request: Request, session: Session) -> Template:
    return render_page(
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
    form = await form_of(request, session)
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
        context: dict[str, Any] = {"values": values, "errors": field_errors(exc)}
        return render_page(request, "new_document.html.jinja2", session, context, status=422)
    except Problem as exc:
        if exc.status_code != 409:
            raise
        existing = exc.headers.get("Location", "").rsplit("/", 1)[-1] if exc.headers else ""
        context = {"values": values, "errors": {"": exc.detail}, "existing": existing}
        return render_page(request, "new_document.html.jinja2", session, context, status=409)
    return go_to(f"/edit/documents/{doc_id}", "received")


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
                            "proposal": describe(name, mine),
                            "stored": describe(name, stored_fact),
                            "differs": describe(name, mine) != describe(name, stored_fact),
                        }
                        for name in COMPARED
                    ],
                }
        cards.append(
            {
                "row": proposal_row,
                "proposal": proposal,
                "label": edtf_label(proposal.fact.date.edtf),
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
    return render_page(request, "document.html.jinja2", session, context, status=status)


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


@post(
    "/documents/{doc_id:str}/proposals/{proposal_id:str}/accept",
    dependencies=EDITOR,
    summary="Accept a proposal",
    include_in_schema=False,
)
async def accept_proposal(
    request: Request, state: State, session: Session, doc_id: str, proposal_id: str
) -> Response[Any]:
    form = await form_of(request, session)
    proposal = await _proposal(state, doc_id, proposal_id)
    fields = fact_fields(form)
    corrections = changed_fields(proposal.fact, fields)
    new_id = form_text(form, "id")
    if new_id and new_id != (proposal.fact.id or ""):
        corrections["id"] = new_id
    typed = form_values({**fields, "id": new_id})
    try:
        body = msgspec.convert({**corrections, "new": form.get("new") == "on"}, documents.Accept)
        await documents.accept(
            state.store, doc_id, proposal_id, body, form_version(form), session.actor or ""
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
            found = field_errors(exc)
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
    return go_to(f"/edit/documents/{doc_id}", "accepted", at=f"proposal-{proposal_id}")


@post(
    "/documents/{doc_id:str}/proposals/{proposal_id:str}/reject",
    dependencies=EDITOR,
    summary="Reject a proposal",
    include_in_schema=False,
)
async def reject_proposal(
    request: Request, state: State, session: Session, doc_id: str, proposal_id: str
) -> Response[Any]:
    form = await form_of(request, session)
    await _proposal(state, doc_id, proposal_id)
    reason = form_text(form, "reason")
    try:
        if not reason:
            raise FactError("reason", "say why the proposal is rejected")
        if len(reason) > 1000:
            raise FactError("reason", "at most 1000 characters")
        await documents.reject(state.store, doc_id, proposal_id, reason, session.actor or "")
    except (FactError, DomainError) as exc:
        found = field_errors(exc) if isinstance(exc, FactError) else {"": str(exc)}
        return await _document_page(
            request, state, session, doc_id, errors={proposal_id: found}, status=422
        )
    return go_to(f"/edit/documents/{doc_id}", "rejected", at=f"proposal-{proposal_id}")
