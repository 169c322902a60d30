"""Every projection of the log: the store runs their projectors, rebuild and catch-up run
over all of them. A new projection is one line here."""

from __future__ import annotations

from projections import calendar, documents, timeline
from projections.projection import Projection

ALL: tuple[Projection, ...] = (timeline.PROJECTION, documents.PROJECTION, calendar.PROJECTION)
PROJECTORS = tuple(p.project for p in ALL if p.project is not None)
