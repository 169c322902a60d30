"""A document in, the review's proposals out: the extractor's reading, as the log keeps it.

The extractor (seeds/extraction) reads text; this turns what it found into the events'
`Proposal`s: numbered p1, p2, … in reading order, with a suggested fact id (marked
generated, like any field the text did not give word for word).
"""

from __future__ import annotations

import re

from events.documents import Document, Evidence, Proposal, ProposedFact
from events.facts import MAX_ID, DateInput, Place
from seeds.extraction import extract

# Russian letters as ASCII for a suggested id (GOST 7.79-2000 system B, simplified): an
# id is a lowercase slug, and a Russian-only title must still suggest one.
_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def suggested_id(title: str, year: int | None) -> str:
    latin = "".join(_LATIN.get(ch, ch) for ch in title.casefold())
    words = re.findall(r"[a-z0-9]+", latin)
    slug = "-".join(words)[: MAX_ID - 5].strip("-")
    return f"{slug}-{year}" if year and not slug.endswith(str(year)) else slug


def read_document(document: Document) -> list[Proposal]:
    """Every dated fact the text states, as proposals for an editor to review."""
    found = extract(document.text, lang=document.lang, document_date=document.date)
    proposals = []
    for number, p in enumerate(found.proposals, start=1):
        title = p.title.get("en") or p.title.get(document.lang) or ""
        start = p.bounds.get("start") or p.bounds.get("end")
        fact_id = suggested_id(title, int(start[:4]) if start else None) or None
        proposals.append(
            Proposal(
                id=f"p{number}",
                fact=ProposedFact(
                    id=fact_id,
                    title=dict(p.title),
                    summary=dict(p.summary),
                    kind=p.kind,
                    status=p.status,
                    date=DateInput(edtf=p.date.edtf),
                    place=Place(name=dict(p.place.name), country=p.place.country)
                    if p.place
                    else None,
                    participants=list(p.participants),
                    tags=list(p.tags),
                ),
                evidence=Evidence(paragraph=p.evidence.paragraph, quote=p.evidence.quote),
                inferred=list(p.inferred),
                generated=[*p.generated, "id"] if fact_id else list(p.generated),
            )
        )
    return proposals
