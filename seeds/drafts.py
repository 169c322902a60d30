"""Proposals as a draft seed file: what `timeline extract` prints for a person to finish.

The draft has the seed files' own shape (a `document` header and its `facts`), so once an
editor has checked it and filled in what the text does not give, `timeline seed` loads
it. What is missing is written as TODO, which the seed loader refuses with the field's
name: a draft cannot be loaded unfinished by mistake.
"""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from events.documents import Document, Proposal
from events.facts import LANGUAGES

TODO = "TODO"


def unfinished(value: str) -> bool:
    """Whether `value` is a placeholder a draft wrote: `TODO`, `TODO: …` or `TODO-…`."""
    return value == TODO or value.startswith((f"{TODO}:", f"{TODO}-"))


def _fact(proposal: Proposal, document: Document) -> dict[str, Any]:
    fact = proposal.fact
    title = {lang: fact.title.get(lang, f"{TODO}: title ({lang})") for lang in LANGUAGES}
    summary = {
        lang: fact.summary.get(lang)
        or (proposal.evidence.quote if lang == document.lang else f"{TODO}: summary ({lang})")
        for lang in LANGUAGES
    }
    out: dict[str, Any] = {
        "id": fact.id or f"{TODO}-{proposal.id}",
        "title": title,
        "summary": summary,
        "kind": fact.kind or TODO,
        "status": fact.status or TODO,
        "date": {"edtf": fact.date.edtf},
    }
    if fact.place is not None:
        out["place"] = msgspec.to_builtins(fact.place)
    if fact.participants:
        out["participants"] = list(fact.participants)
    if fact.tags:
        out["tags"] = list(fact.tags)
    source: dict[str, Any] = {"locator": f"paragraph {proposal.evidence.paragraph}"}
    if proposal.inferred:
        source["note"] = "inferred: " + "; ".join(proposal.inferred)
    out["sources"] = [source]
    return out


def _comment(text: str) -> str:
    return "\n".join(f"  # {line}" for line in text.splitlines())


def draft_seed(document: Document, proposals: list[Proposal]) -> str:
    """A seed file (YAML) holding `proposals`, each after a comment with its evidence."""
    header = {"document": {"title": document.title, "date": document.date}}
    if document.url:
        header["document"]["url"] = document.url
    parts = [
        f"# Proposed by `timeline extract` from a {document.lang} document: check every fact,\n"
        f"# replace each {TODO}, then load the file with `timeline seed FILE`.\n",
        yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=100),
        "facts:" + (" []\n" if not proposals else "\n"),
    ]
    for proposal in proposals:
        notes = [f"paragraph {proposal.evidence.paragraph}: «{proposal.evidence.quote}»"]
        if proposal.generated:
            notes.append("generated, check: " + ", ".join(proposal.generated))
        if proposal.inferred:
            notes.append("inferred: " + "; ".join(proposal.inferred))
        body = yaml.safe_dump(
            [_fact(proposal, document)], allow_unicode=True, sort_keys=False, width=100
        )
        indented = "".join(f"  {line}\n" for line in body.splitlines())
        parts.append(_comment("\n".join(notes)) + "\n" + indented)
    return "".join(parts)
