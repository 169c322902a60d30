"""Proposed facts read from a document (see extract)."""
