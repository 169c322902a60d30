"""The review queue projection, on SQLite and PostgreSQL: built in the append, rebuilt the same."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
import sqlalchemy as sa

from events import review
from events.documents import Evidence, Proposal, ProposedFact, document_id, stream_id
from events.facts import DateInput
from events.store import EventStore
from projections import documents as queue
from projections import projection
from projections.tables import document_proposals, documents
from service.wiring import open_store
from tests.test_review import DOCUMENT, PROPOSAL


@pytest.fixture
async def projected(database_url: str) -> AsyncIterator[EventStore]:
    store = open_store(database_url)
    yield store
    await store.engine.dispose()


SECOND = Proposal(
    id="p2",
    fact=ProposedFact(title={"ru": "Форум"}, kind="forum", date=DateInput(edtf="2026")),
    evidence=Evidence(paragraph=1, quote="ТАШКЕНТ"),
    inferred=["year from the document's date"],
)


async def _receive(store: EventStore) -> str:
    doc_id = document_id(DOCUMENT)
    events = review.decide(review.ReceiveDocument(DOCUMENT, [PROPOSAL, SECOND]), None)
    await store.append(stream_id(doc_id), events, expected_version=0, actor="alice")
    return doc_id


async def _rows(store: EventStore) -> dict[str, list[tuple[object, ...]]]:
    async with store.engine.connect() as conn:
        out = {}
        for table in (documents, document_proposals):
            rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
        return out


async def test_a_received_document_is_in_the_queue_with_its_proposals(
    projected: EventStore,
) -> None:
    doc_id = await _receive(projected)
    found = await projected.database.run(queue.document, doc_id)
    assert found is not None
    row, proposals = found
    assert row.decoded() == DOCUMENT and row.received_by == "alice"
    assert [(p.proposal_id, p.state) for p in proposals] == [("p1", "open"), ("p2", "open")]
    assert proposals[1].decoded().inferred == ["year from the document's date"]
    queue_rows = await projected.database.run(queue.open_queue, limit=10)
    assert [p.proposal_id for p, _ in queue_rows] == ["p1", "p2"]


async def test_decisions_leave_the_queue_and_survive_a_rebuild(projected: EventStore) -> None:
    doc_id = await _receive(projected)
    recorded = await projected.read_stream(stream_id(doc_id))
    state = review.fold((r.event() for r in recorded), doc_id)
    accepted = review.decide(review.AcceptProposal("p1", "some-fact"), state)
    await projected.append(stream_id(doc_id), accepted, expected_version=3, actor="bob")
    state = review.evolve(state, accepted[0], doc_id)
    rejected = review.decide(review.RejectProposal("p2", "a statistic, not an event"), state)
    await projected.append(stream_id(doc_id), rejected, expected_version=4, actor="carol")

    (summary,) = await projected.database.run(queue.document_list, limit=10, before=None)
    assert (summary.open, summary.total) == (0, 2)
    assert await projected.database.run(queue.open_queue, limit=10) == []
    _, proposals = await projected.database.run(queue.document, doc_id)
    assert [(p.state, p.decided_by, p.fact_id, p.reason) for p in proposals] == [
        ("accepted", "bob", "some-fact", None),
        ("rejected", "carol", None, "a statistic, not an event"),
    ]

    before = await _rows(projected)
    assert await projection.rebuild(projected, [queue.PROJECTION]) == 5
    assert await _rows(projected) == before


async def test_the_checkpoint_follows_every_append(projected: EventStore) -> None:
    await _receive(projected)
    async with projected.engine.connect() as conn:
        position = (
            await conn.execute(
                sa.text("SELECT position FROM projection_checkpoints WHERE name = 'documents'")
            )
        ).scalar_one()
    assert position == await projected.head() == 3


async def test_a_projection_new_to_a_database_catches_up_from_the_start(
    projected: EventStore,
) -> None:
    """Its migration made its tables only: the first catch-up makes its checkpoint and fills it."""
    await _receive(projected)
    before = await _rows(projected)
    async with projected.engine.begin() as conn:
        for table in queue.PROJECTION.tables:
            await conn.execute(table.delete())
        await conn.execute(sa.text("DELETE FROM projection_checkpoints WHERE name = 'documents'"))

    assert await projection.catch_up(projected, [queue.PROJECTION]) == 3
    assert await _rows(projected) == before
    async with projected.engine.connect() as conn:
        assert await projection.checkpoint(conn, queue.NAME) == await projected.head()
    assert await projection.catch_up(projected, [queue.PROJECTION]) == 0


def test_proposals_round_trip_through_json() -> None:
    encoded = msgspec.json.encode(SECOND)
    assert msgspec.json.decode(encoded, type=Proposal) == SECOND
