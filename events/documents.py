"""A document an editor brings in, and the facts proposed from it: what they are.

The rules of reviewing them are in events/review.py; the events in events/model.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, Literal

import msgspec

from events.facts import (
    LANGUAGES,
    MAX_TITLE,
    DateInput,
    Fact,
    FactError,
    LangMap,
    Place,
    Source,
    validate_text,
)

MAX_DOCUMENT_TEXT = 200_000  # characters: a long declaration is about 30,000
MAX_PROPOSALS = 500
DOCUMENT_PREFIX = "document-"  # every document's events are the stream "document-<id>"
Relation = Literal["same", "refines", "conflicts"]


# --- what a document and a proposal are ------------------------------------------------


class Document(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A document as an editor sends it (POST /api/v1/documents)."""

    title: Annotated[str, msgspec.Meta(max_length=MAX_TITLE)]
    date: dt.date
    lang: str
    text: Annotated[str, msgspec.Meta(max_length=MAX_DOCUMENT_TEXT)]
    url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class Evidence(msgspec.Struct, frozen=True):
    paragraph: int  # numbered from 1
    quote: str  # an exact substring of that paragraph


class Match(msgspec.Struct, frozen=True):
    fact_id: str
    relation: Relation


class ProposedFact(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A fact's fields as far as the text gives them (what POST /api/v1/facts takes)."""

    id: str | None = None  # a suggested slug
    title: LangMap = msgspec.field(default_factory=dict)
    summary: LangMap = msgspec.field(default_factory=dict)
    kind: str | None = None
    status: str | None = None
    date: DateInput
    place: Place | None = None
    participants: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)

    def as_fact(self, sources: list[Source] | None = None) -> Fact:
        """These fields as a Fact (what the text does not give left empty for the rules
        to name), citing `sources`."""
        return Fact(
            id=self.id or "",
            title=self.title,
            summary=self.summary,
            kind=self.kind or "",
            status=self.status or "",
            date=self.date,
            place=self.place,
            participants=self.participants,
            tags=self.tags,
            sources=sources or [],
        )


class Proposal(msgspec.Struct, omit_defaults=True, kw_only=True):
    id: str  # "p1", "p2", … within its document
    fact: ProposedFact
    evidence: Evidence
    inferred: list[str] = msgspec.field(default_factory=list)  # what came from context
    generated: list[str] = msgspec.field(default_factory=list)  # fields made, e.g. "title.en"
    match: Match | None = None


def paragraphs(text: str) -> list[str]:
    """The text's blocks separated by blank lines; a text with no blank line: its lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", text) if block.strip()]
    if len(blocks) == 1:
        blocks = [line.strip() for line in blocks[0].split("\n") if line.strip()]
    return blocks


def document_id(document: Document) -> str:
    """The same text of the same date is the same document, whoever sends it again."""
    digest = hashlib.sha256(f"{document.date}\n{document.text}".encode()).hexdigest()[:12]
    return f"{document.date.isoformat()}-{digest}"


def stream_id(doc_id: str) -> str:
    return DOCUMENT_PREFIX + doc_id


def normalized(document: Document) -> Document:
    """The document with its line ends as LF: CRLF from a pasted or uploaded file is one."""
    text = document.text.replace("\r\n", "\n").replace("\r", "\n")
    return document if text == document.text else msgspec.structs.replace(document, text=text)


def validate_document(document: Document) -> None:
    """The rules of every stored text (events.facts.validate_text) and a known language."""
    if document.lang not in LANGUAGES:
        raise FactError("lang", f"unknown language; use one of {', '.join(LANGUAGES)}")
    validate_text("title", document.title, MAX_TITLE)
    validate_text("text", document.text, MAX_DOCUMENT_TEXT, lines=True)
    if document.url is not None and not re.fullmatch(r"https?://\S+", document.url):
        raise FactError("url", "must be an http or https URL")
