"""The review queue: documents and their proposals, as editors read them, built from the log.

Like the timeline, it is projected inside the append's transaction (a 201 is visible to
the next read) and can be thrown away and rebuilt from the log to the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from events.documents import DOCUMENT_PREFIX, Document, Proposal
from events.model import DocumentReceived, FactProposed, ProposalAccepted, ProposalRejected
from events.store import RecordedEvent
from projections.projection import Projection, advance
from projections.tables import document_proposals, documents

NAME = "documents"

_encoder = msgspec.json.Encoder()
_document_decoder = msgspec.json.Decoder(Document)
_proposal_decoder = msgspec.json.Decoder(Proposal)


class DocumentRow(msgspec.Struct, kw_only=True):
    document_id: str
    received_at: str
    received_by: str
    position: int
    document: str  # the Document as JSON

    def decoded(self) -> Document:
        return _document_decoder.decode(self.document)


class ProposalRow(msgspec.Struct, kw_only=True):
    document_id: str
    number: int
    proposal_id: str
    proposed_at: str
    state: str
    decided_at: str | None
    decided_by: str | None
    reason: str | None
    fact_id: str | None
    proposal: str  # the Proposal as JSON

    def decoded(self) -> Proposal:
        return _proposal_decoder.decode(self.proposal)


def _decision(state: str, r: RecordedEvent, **values: Any) -> dict[str, Any]:
    return {"state": state, "decided_at": r.recorded_at, "decided_by": r.actor, **values}


def project(conn: sa.Connection, recorded: Sequence[RecordedEvent]) -> None:
    """Apply appended events to the review tables, in the append's own transaction."""
    new_documents: list[dict[str, Any]] = []
    new_proposals: list[dict[str, Any]] = []
    for r in recorded:
        if not r.stream_id.startswith(DOCUMENT_PREFIX):
            continue
        doc_id = r.stream_id[len(DOCUMENT_PREFIX) :]
        event = r.event()
        if isinstance(event, DocumentReceived):
            new_documents.append(
                {
                    "document_id": doc_id,
                    "received_at": r.recorded_at,
                    "received_by": r.actor,
                    "position": r.position,
                    "document": _encoder.encode(event.document).decode(),
                }
            )
        elif isinstance(event, FactProposed):
            # Proposals come right after their document (version 1), in the same append.
            new_proposals.append(
                {
                    "document_id": doc_id,
                    "number": r.version - 1,
                    "proposal_id": event.proposal.id,
                    "proposed_at": r.recorded_at,
                    "state": "open",
                    "decided_at": None,
                    "decided_by": None,
                    "reason": None,
                    "fact_id": None,
                    "proposal": _encoder.encode(event.proposal).decode(),
                }
            )
        elif isinstance(event, ProposalAccepted | ProposalRejected):
            if isinstance(event, ProposalAccepted):
                values = _decision("accepted", r, fact_id=event.fact_id)
            else:
                values = _decision("rejected", r, reason=event.reason)
            _flush(conn, new_documents, new_proposals)
            conn.execute(
                document_proposals.update()
                .where(
                    document_proposals.c.document_id == doc_id,
                    document_proposals.c.proposal_id == event.proposal_id,
                )
                .values(**values)
            )
    _flush(conn, new_documents, new_proposals)
    conn.execute(_CHECKPOINT, {"position": recorded[-1].position})


_CHECKPOINT = advance(NAME)
PROJECTION = Projection(NAME, (document_proposals, documents), project)


def _flush(conn: sa.Connection, new_documents: list[Any], new_proposals: list[Any]) -> None:
    if new_documents:
        conn.execute(documents.insert(), new_documents)
        new_documents.clear()
    if new_proposals:
        conn.execute(document_proposals.insert(), new_proposals)
        new_proposals.clear()


# --- queries ----------------------------------------------------------------------------


def document(conn: sa.Connection, doc_id: str) -> tuple[DocumentRow, list[ProposalRow]] | None:
    row = conn.execute(sa.select(documents).where(documents.c.document_id == doc_id)).first()
    if row is None:
        return None
    proposals = conn.execute(
        sa.select(document_proposals)
        .where(document_proposals.c.document_id == doc_id)
        .order_by(document_proposals.c.number)
    )
    return DocumentRow(**row._mapping), [ProposalRow(**p._mapping) for p in proposals]


class DocumentSummary(msgspec.Struct, kw_only=True):
    row: DocumentRow
    open: int
    total: int


def document_list(conn: sa.Connection, *, limit: int, before: int | None) -> list[DocumentSummary]:
    """Documents, newest first, with how many of their proposals are open."""
    counts = (
        sa.select(
            document_proposals.c.document_id,
            sa.func.count().label("total"),
            sa.func.sum(sa.case((document_proposals.c.state == "open", 1), else_=0)).label("open"),
        )
        .group_by(document_proposals.c.document_id)
        .subquery()
    )
    query = (
        sa.select(documents, counts.c.open, counts.c.total)
        .select_from(documents.outerjoin(counts, counts.c.document_id == documents.c.document_id))
        .order_by(documents.c.position.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(documents.c.position < before)
    out = []
    for r in conn.execute(query):
        values = dict(r._mapping)
        open_, total = values.pop("open") or 0, values.pop("total") or 0
        out.append(DocumentSummary(row=DocumentRow(**values), open=int(open_), total=int(total)))
    return out


def open_queue(conn: sa.Connection, *, limit: int) -> list[tuple[ProposalRow, DocumentRow]]:
    """Open proposals, oldest first: the editors' review queue."""
    query = (
        sa.select(document_proposals, documents)
        .join(documents, documents.c.document_id == document_proposals.c.document_id)
        .where(document_proposals.c.state == "open")
        .order_by(documents.c.position, document_proposals.c.number)
        .limit(limit)
    )
    proposal_columns = [c.name for c in document_proposals.columns]
    document_columns = [c.name for c in documents.columns]
    out = []
    for r in conn.execute(query):
        values = list(r)
        proposal = dict(zip(proposal_columns, values[: len(proposal_columns)], strict=True))
        doc = dict(zip(document_columns, values[len(proposal_columns) :], strict=True))
        out.append((ProposalRow(**proposal), DocumentRow(**doc)))
    return out
