"""Reviewing a document's proposals, as pure rules: decide(command, state) -> events.

A document arrives with the proposals read from it: `DocumentReceived`, then one
`FactProposed` each, in the document's own stream. An editor then accepts or rejects
each proposal (`ProposalAccepted`, `ProposalRejected`); a proposal is decided once. What
accepting does to the timeline is the fact decider's business: `fact_commands` says which
fact commands a proposal becomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from events.decider import ChangeFact, CiteSource, DomainError, RecordFact
from events.documents import (
    MAX_PROPOSALS,
    Document,
    Proposal,
    ProposedFact,
    validate_document,
)
from events.facts import DateInput, FactError, LangMap, Place, Source, validate_reason
from events.model import DocumentReceived, Event, FactProposed, ProposalAccepted, ProposalRejected

ProposalState = Literal["open", "accepted", "rejected"]


class DocumentNotFound(DomainError):
    pass


class ProposalNotFound(DomainError):
    pass


class DocumentAlreadyReceived(DomainError):
    pass


class ProposalDecided(DomainError):
    """The proposal was accepted or rejected already: a decision is made once."""


class Decision(msgspec.Struct, omit_defaults=True, kw_only=True):
    state: ProposalState
    fact_id: str | None = None  # accepted: the fact it recorded or changed
    reason: str | None = None


class DocumentState(msgspec.Struct, kw_only=True):
    id: str
    document: Document
    proposals: list[Proposal]
    decisions: dict[str, Decision]  # proposal id -> its decision; absent while open

    def proposal(self, proposal_id: str) -> Proposal:
        for proposal in self.proposals:
            if proposal.id == proposal_id:
                return proposal
        raise ProposalNotFound(f"document {self.id!r} has no proposal {proposal_id!r}")

    def state_of(self, proposal_id: str) -> ProposalState:
        decision = self.decisions.get(proposal_id)
        return "open" if decision is None else decision.state


# --- commands, decide, evolve -----------------------------------------------------------


class ReceiveDocument(msgspec.Struct, frozen=True):
    document: Document
    proposals: list[Proposal]


class AcceptProposal(msgspec.Struct, frozen=True):
    proposal_id: str
    fact_id: str


class RejectProposal(msgspec.Struct, frozen=True):
    proposal_id: str
    reason: str


DocumentCommand = ReceiveDocument | AcceptProposal | RejectProposal


def decide(command: DocumentCommand, state: DocumentState | None) -> list[Event]:
    if isinstance(command, ReceiveDocument):
        if state is not None:
            raise DocumentAlreadyReceived(f"document {state.id!r} was received already")
        validate_document(command.document)
        if len(command.proposals) > MAX_PROPOSALS:
            raise FactError("text", f"gives more than {MAX_PROPOSALS} proposals; split it")
        return [
            DocumentReceived(document=command.document),
            *(FactProposed(proposal=p) for p in command.proposals),
        ]
    if state is None:
        raise DocumentNotFound("no such document")
    proposal = state.proposal(command.proposal_id)
    decided = state.decisions.get(proposal.id)
    if decided is not None:
        raise ProposalDecided(f"proposal {proposal.id!r} was {decided.state} already")
    if isinstance(command, AcceptProposal):
        return [ProposalAccepted(proposal_id=proposal.id, fact_id=command.fact_id)]
    reason = command.reason.strip()
    if not reason:
        raise FactError("reason", "say why the proposal is rejected")
    validate_reason(reason)
    return [ProposalRejected(proposal_id=proposal.id, reason=reason)]


def evolve(state: DocumentState | None, event: Event, doc_id: str) -> DocumentState:
    if isinstance(event, DocumentReceived):
        return DocumentState(id=doc_id, document=event.document, proposals=[], decisions={})
    if state is None:
        raise DomainError(f"{type(event).__name__} before DocumentReceived")
    if isinstance(event, FactProposed):
        return msgspec.structs.replace(state, proposals=[*state.proposals, event.proposal])
    if isinstance(event, ProposalAccepted):
        decision = Decision(state="accepted", fact_id=event.fact_id)
    elif isinstance(event, ProposalRejected):
        decision = Decision(state="rejected", reason=event.reason)
    else:
        raise DomainError(f"unknown event {type(event).__name__}")
    return msgspec.structs.replace(
        state, decisions={**state.decisions, event.proposal_id: decision}
    )


def fold(events: Iterable[Event], doc_id: str) -> DocumentState | None:
    state: DocumentState | None = None
    for event in events:
        state = evolve(state, event, doc_id)
    return state


# --- what accepting a proposal does to the timeline ------------------------------------


class Corrections(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """What an editor changes or adds when accepting (the proposal's other fields stand)."""

    id: str | None = None
    title: LangMap | None = None
    summary: LangMap | None = None
    kind: str | None = None
    status: str | None = None
    date: DateInput | None = None
    place: Place | None = None
    participants: list[str] | None = None
    tags: list[str] | None = None


def citation(document: Document, proposal: Proposal) -> Source:
    """The source an accepted fact cites: the document, its paragraph and the quote."""
    note = f"«{proposal.evidence.quote}»"
    if proposal.inferred:
        note += " — inferred: " + "; ".join(proposal.inferred)
    return Source(
        title=document.title[:1000],
        date=document.date,
        locator=f"paragraph {proposal.evidence.paragraph}",
        url=document.url,
        note=note if len(note) <= 1000 else note[:999] + "…",
    )


def proposed_fact(proposal: Proposal, corrections: Corrections) -> ProposedFact:
    """The proposal's fact with the editor's corrections laid over it."""
    fields = {
        name: value
        for name in Corrections.__struct_fields__
        if (value := getattr(corrections, name)) is not None
    }
    for name in ("title", "summary"):  # a language map corrects only the languages it names
        if name in fields:
            fields[name] = {**getattr(proposal.fact, name), **fields[name]}
    return msgspec.structs.replace(proposal.fact, **fields)


def fact_commands(
    document: Document, proposal: Proposal, corrections: Corrections, relation: str | None
) -> list[RecordFact | ChangeFact | CiteSource]:
    """The fact commands that accepting `proposal` means, by its relation to a stored fact.

    new (None): the fact is recorded, citing the document. same: the stored fact cites
    the document and takes the editor's corrections, if any. refines and conflicts: the
    stored fact also takes the proposal's date (a conflict only ever by an editor's
    explicit accept, with If-Match).
    """
    source = citation(document, proposal)
    fact = proposed_fact(proposal, corrections)
    if relation is None:
        missing = [name for name in ("id", "kind", "status") if getattr(fact, name) is None]
        if missing:
            raise FactError(missing[0], "is required: the text does not give it; send it")
        recorded = fact.as_fact(sources=[source])
        return [RecordFact(recorded)]
    changed: dict[str, Any] = {}
    for name in Corrections.__struct_fields__:
        given = getattr(corrections, name)
        if name == "id" or given is None:
            continue
        # A language map with only the languages the editor wrote (ChangeFact merges it):
        # the proposal's others (a generated title, the quote) leave the stored fact's.
        changed[name] = given if name in ("title", "summary") else getattr(fact, name)
    if relation in ("refines", "conflicts"):
        changed["date"] = fact.date
    commands: list[RecordFact | ChangeFact | CiteSource] = []
    if changed:
        commands.append(ChangeFact(**changed))
    commands.append(CiteSource(source))
    return commands
