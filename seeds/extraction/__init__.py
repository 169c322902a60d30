"""Proposed facts read from a document: `extract(text, lang=..., document_date=...)`."""

from seeds.extraction.proposals import Document, Evidence, Proposal, extract

__all__ = ["Document", "Evidence", "Proposal", "extract"]
