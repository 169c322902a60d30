"""Documents in, proposed facts out, and the editors' accept or reject: the review routes.

Thin: the reading is the extractor's (seeds/extraction), the rules are events/review.py's
and the fact decider's, the queue is projections/documents.py's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import Parameter

from events import decider, review
from events.dates import parse_edtf
from events.documents import (
    Document,
    Evidence,
    Match,
    Proposal,
    ProposedFact,
    document_id,
    normalized,
    paragraphs,
    validate_document,
)
from events.documents import stream_id as document_stream
from events.facts import Fact
from events.handler import load
from events.matching import relate
from events.store import Append, ConcurrencyError, EventStore
from projections import documents as queue
from projections import timeline
from projections.items import DateView
from seeds.reading import read_document
from service.http.auth import GUARDS, WRITE
from service.http.conditional import READ
from service.http.params import base_url, choose_lang, fact_etag, parse_if_match
from service.http.problems import Problem

# How far from a proposal's date a stored fact may be and still be found the same event
# (a summit postponed by a year is the same summit, in conflict with the stored date).
MATCH_WINDOW = dt.timedelta(days=2 * 366)
MAX_CANDIDATES = 500


class ProposalView(msgspec.Struct, omit_defaults=True, kw_only=True):
    id: str
    state: str
    fact: ProposedFact
    date: DateView
    evidence: Evidence
    inferred: list[str]
    generated: list[str]
    match: Match | None
    proposed_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    reason: str | None = None
    fact_id: str | None = None  # accepted: the fact it recorded or changed


class DocumentView(msgspec.Struct, kw_only=True):
    id: str
    title: str
    date: dt.date
    lang: str
    url: str | None
    received_at: str
    received_by: str
    paragraphs: list[str]
    proposals: list[ProposalView]


class ProposalCounts(msgspec.Struct):
    open: int
    total: int


class DocumentSummaryView(msgspec.Struct, kw_only=True):
    id: str
    title: str
    date: dt.date
    lang: str
    url: str | None
    received_at: str
    received_by: str
    proposals: ProposalCounts
    link: str


class DocumentList(msgspec.Struct):
    documents: list[DocumentSummaryView]
    next_before: int | None


class QueueEntry(msgspec.Struct, kw_only=True):
    document_id: str
    document_title: str
    proposal: ProposalView
    link: str


class Accept(review.Corrections, kw_only=True):
    """An accept's body: corrections of the proposal's fields, or none."""

    # Record it as a new fact although the service took it for a stored one.
    new: bool = False


class Reject(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


def _date_view(edtf: str, lang: str) -> DateView:
    bounds = parse_edtf(edtf)
    return DateView(
        edtf=bounds.edtf,
        start=bounds.start.isoformat() if bounds.start else None,
        end=bounds.end.isoformat() if bounds.end else None,
        precision=bounds.precision,
        label=bounds.label[lang],
    )


def _proposal_view(row: queue.ProposalRow, lang: str) -> ProposalView:
    proposal = row.decoded()
    return ProposalView(
        id=proposal.id,
        state=row.state,
        fact=proposal.fact,
        date=_date_view(proposal.fact.date.edtf, lang),
        evidence=proposal.evidence,
        inferred=proposal.inferred,
        generated=proposal.generated,
        match=proposal.match,
        proposed_at=row.proposed_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
        fact_id=row.fact_id,
    )


def document_url(state: State, doc_id: str) -> str:
    return f"{base_url(state)}/api/v1/documents/{doc_id}"


async def _view(state: State, doc_id: str, lang: str) -> DocumentView:
    found = await state.database.run(queue.document, doc_id)
    if found is None:
        raise Problem(404, f"no document with id {doc_id!r}")
    row, proposals = found
    document = row.decoded()
    return DocumentView(
        id=row.document_id,
        title=document.title,
        date=document.date,
        lang=document.lang,
        url=document.url,
        received_at=row.received_at,
        received_by=row.received_by,
        paragraphs=paragraphs(document.text),
        proposals=[_proposal_view(p, lang) for p in proposals],
    )


def _candidates(conn: sa.Connection, proposal: ProposedFact) -> list[Fact]:
    """Stored facts that could be the proposal's event: its kind, near its date."""
    bounds = parse_edtf(proposal.date.edtf)
    start = bounds.start - MATCH_WINDOW if bounds.start and bounds.start.year > 2 else None
    end = bounds.end + MATCH_WINDOW if bounds.end and bounds.end.year < 9998 else None
    filters = timeline.Filters(start=start, end=end, kinds=[proposal.kind] if proposal.kind else [])
    rows, _ = timeline.page(conn, filters, limit=MAX_CANDIDATES)
    return [row.fact() for row in rows]


def _matched(conn: sa.Connection, proposals: list[Proposal]) -> list[Proposal]:
    return [
        msgspec.structs.replace(p, match=relate(p.fact, _candidates(conn, p.fact)))
        for p in proposals
    ]


# --- what an editor does, whichever door they come in by (this API or the workspace) ---


async def receive(state: State, document: Document, actor: str) -> str:
    """Read a document for its facts and record it with its proposals; its id."""
    document = normalized(document)
    validate_document(document)
    doc_id = document_id(document)
    store: EventStore = state.store
    if await store.read_stream(document_stream(doc_id)):
        raise Problem(
            409,
            f"this document was received already as {doc_id!r}",
            headers={"Location": document_url(state, doc_id)},
        )
    # Reading a long document is CPU work: off the event loop.
    proposals = await anyio.to_thread.run_sync(read_document, document)
    proposals = await state.database.run(_matched, proposals)
    events = review.decide(review.ReceiveDocument(document, proposals), None)
    try:
        await store.append(document_stream(doc_id), events, expected_version=0, actor=actor)
    except ConcurrencyError:
        raise Problem(409, f"this document was received already as {doc_id!r}") from None
    return doc_id


async def accept(
    store: EventStore,
    doc_id: str,
    proposal_id: str,
    body: Accept,
    expected_version: int | None,
    actor: str,
) -> tuple[str, int]:
    """Accept a proposal: the fact's events and the decision in one append.

    A refinement or a conflict changes a stored date, so it needs the version the editor
    read (`expected_version`, If-Match). Returns the fact's id and version after."""
    document, doc_version = await _document(store, doc_id)
    proposal = document.proposal(proposal_id)
    match = None if body.new else proposal.match
    corrections = review.Corrections(
        **{f: getattr(body, f) for f in review.Corrections.__struct_fields__}
    )
    fact_id = match.fact_id if match else (body.id or proposal.fact.id or "")
    if not fact_id:
        raise Problem(422, "id: is required: give the new fact an id", field="id")
    doc_events = review.decide(review.AcceptProposal(proposal_id, fact_id), document)
    fact_state, fact_version = await load(store, fact_id)
    if match is not None and match.relation in ("refines", "conflicts"):
        if expected_version is None:
            raise Problem(
                428, f'send If-Match: "<version>" of fact {fact_id!r}: accepting changes its date'
            )
        if expected_version != fact_version:
            raise ConcurrencyError(decider.stream_id(fact_id), expected_version, fact_version)
    fact_events = []
    for command in review.fact_commands(
        document.document, proposal, corrections, match.relation if match else None
    ):
        new_events = decider.decide(command, fact_state)
        fact_state = decider.fold(new_events, fact_state)
        fact_events.extend(new_events)
    appends = [Append(decider.stream_id(fact_id), fact_events, fact_version)] if fact_events else []
    appends.append(Append(document_stream(doc_id), doc_events, doc_version))
    await store.append_many(
        appends, actor=actor, reason=f"accepted proposal {proposal_id} of document {doc_id}"
    )
    return fact_id, fact_version + len(fact_events)


async def reject(store: EventStore, doc_id: str, proposal_id: str, reason: str, actor: str) -> None:
    document, doc_version = await _document(store, doc_id)
    events = review.decide(review.RejectProposal(proposal_id, reason), document)
    await store.append(document_stream(doc_id), events, doc_version, actor=actor)


# --- routes -----------------------------------------------------------------------------


@post(
    "/api/v1/documents",
    dependencies=WRITE,
    guards=GUARDS,
    summary="Bring in a document; read its facts",
)
async def receive_document(
    request: Request, state: State, data: Document, actor: str, lang: str | None = None
) -> Response[DocumentView]:
    language = choose_lang(lang, request.headers.get("accept-language"))
    doc_id = await receive(state, data, actor)
    return Response(
        await _view(state, doc_id, language),
        status_code=201,
        headers={"Location": document_url(state, doc_id)},
    )


@get("/api/v1/documents", opt=READ, summary="Documents brought in, newest first")
async def list_documents(
    state: State,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
) -> DocumentList:
    summaries = await state.database.run(queue.document_list, limit=limit, before=before)
    out = []
    for s in summaries:
        document = s.row.decoded()
        out.append(
            DocumentSummaryView(
                id=s.row.document_id,
                title=document.title,
                date=document.date,
                lang=document.lang,
                url=document.url,
                received_at=s.row.received_at,
                received_by=s.row.received_by,
                proposals=ProposalCounts(open=s.open, total=s.total),
                link=document_url(state, s.row.document_id),
            )
        )
    next_before = summaries[-1].row.position if len(summaries) == limit else None
    return DocumentList(documents=out, next_before=next_before)


@get("/api/v1/documents/{doc_id:str}", opt=READ, summary="A document and its proposals")
async def get_document(
    request: Request, state: State, doc_id: str, lang: str | None = None
) -> DocumentView:
    language = choose_lang(lang, request.headers.get("accept-language"))
    return await _view(state, _checked_id(doc_id), language)


@get("/api/v1/proposals", opt=READ, summary="The review queue: open proposals, oldest first")
async def get_queue(
    request: Request,
    state: State,
    lang: str | None = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> list[QueueEntry]:
    language = choose_lang(lang, request.headers.get("accept-language"))
    entries = await state.database.run(queue.open_queue, limit=limit)
    return [
        QueueEntry(
            document_id=doc.document_id,
            document_title=doc.decoded().title,
            proposal=_proposal_view(row, language),
            link=document_url(state, doc.document_id),
        )
        for row, doc in entries
    ]


def _checked_id(doc_id: str) -> str:
    if len(doc_id) > 100 or not doc_id.isascii() or not doc_id.replace("-", "").isalnum():
        raise Problem(404, f"no document with id {doc_id[:100]!r}")
    return doc_id


async def _document(store: EventStore, doc_id: str) -> tuple[review.DocumentState, int]:
    recorded = await store.read_stream(document_stream(_checked_id(doc_id)))
    found = review.fold((r.event() for r in recorded), doc_id)
    if found is None:
        raise Problem(404, f"no document with id {doc_id!r}")
    return found, recorded[-1].version


@post(
    "/api/v1/documents/{doc_id:str}/proposals/{proposal_id:str}/accept",
    dependencies=WRITE,
    guards=GUARDS,
    summary="Accept a proposal: record the fact, or change the stored one",
    status_code=200,
)
async def accept_proposal(
    request: Request,
    state: State,
    doc_id: str,
    proposal_id: str,
    actor: str,
    data: Accept | None = None,
    lang: str | None = None,
) -> Response[ProposalView]:
    language = choose_lang(lang, request.headers.get("accept-language"))
    body = data or Accept()
    expected = parse_if_match(request) if request.headers.get("if-match") else None
    fact_id, version = await accept(state.store, doc_id, proposal_id, body, expected, actor)
    fact_url = f"{base_url(state)}/api/v1/facts/{fact_id}"
    headers = {"Location": fact_url, "ETag": fact_etag(version, language)}
    return Response(await _proposal(state, doc_id, proposal_id, language), headers=headers)


@post(
    "/api/v1/documents/{doc_id:str}/proposals/{proposal_id:str}/reject",
    dependencies=WRITE,
    guards=GUARDS,
    summary="Reject a proposal, saying why",
    status_code=200,
)
async def reject_proposal(
    request: Request,
    state: State,
    doc_id: str,
    proposal_id: str,
    actor: str,
    data: Reject,
    lang: str | None = None,
) -> ProposalView:
    language = choose_lang(lang, request.headers.get("accept-language"))
    await reject(state.store, doc_id, proposal_id, data.reason, actor)
    return await _proposal(state, doc_id, proposal_id, language)


async def _proposal(state: State, doc_id: str, proposal_id: str, lang: str) -> ProposalView:
    view = await _view(state, doc_id, lang)
    return next(p for p in view.proposals if p.id == proposal_id)


ROUTES = [
    receive_document,
    list_documents,
    get_document,
    get_queue,
    accept_proposal,
    reject_proposal,
]
