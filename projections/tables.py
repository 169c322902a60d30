"""Read-model tables, as Core metadata for queries (migrations 0002 and 0004 make them)."""

import sqlalchemy as sa

metadata = sa.MetaData()

checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

# One row per version of a fact, valid for log positions [valid_from, valid_to).
facts = sa.Table(
    "timeline_facts",
    metadata,
    sa.Column("fact_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("valid_from", sa.BigInteger, nullable=False),
    sa.Column("valid_to", sa.BigInteger, nullable=True),
    sa.Column("retracted", sa.Boolean, nullable=False),
    sa.Column("sort_date", sa.String(10), nullable=False),
    sa.Column("span_days", sa.Integer, nullable=False),
    sa.Column("start", sa.String(10), nullable=True),
    sa.Column("end", sa.String(10), nullable=True),
    sa.Column("precision", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("search_text", sa.Text, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    # The current rows in the timeline's order, and the rows valid at a past position.
    sa.Index(
        "ix_timeline_current_order",
        "sort_date",
        "span_days",
        "fact_id",
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    ),
    sa.Index("ix_timeline_valid", "valid_from", "valid_to"),
)

fact_countries = sa.Table(
    "timeline_fact_countries",
    metadata,
    sa.Column("fact_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(50), primary_key=True, index=True),
)

fact_tags = sa.Table(
    "timeline_fact_tags",
    metadata,
    sa.Column("fact_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("tag", sa.String(50), primary_key=True, index=True),
)

# Each fact version rendered as a VEVENT, per language and public origin (projections/calendar.py).
calendar_events = sa.Table(
    "calendar_events",
    metadata,
    sa.Column("origin", sa.String(300), primary_key=True),
    sa.Column("fact_id", sa.String(100), primary_key=True),
    sa.Column("lang", sa.String(5), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("day_known", sa.Boolean, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

# The review queue (projections/documents.py, migration 0008): documents editors brought in,
# and each proposal read from them with its decision.
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("document_id", sa.String(100), primary_key=True),
    sa.Column("received_at", sa.String(32), nullable=False),
    sa.Column("received_by", sa.String(100), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False, unique=True),
    sa.Column("document", sa.Text, nullable=False),
)

document_proposals = sa.Table(
    "document_proposals",
    metadata,
    sa.Column("document_id", sa.String(100), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("proposal_id", sa.String(20), nullable=False),
    sa.Column("proposed_at", sa.String(32), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("decided_at", sa.String(32), nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("fact_id", sa.String(100), nullable=True),
    sa.Column("proposal", sa.Text, nullable=False),
    sa.Index("document_proposals_open", "state", "document_id", "number"),
)
