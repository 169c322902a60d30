"""The review queue: documents brought in and the facts proposed from them.

A projection of the log (projections/documents.py), like the timeline: its checkpoint
starts at the log's head, since no event before this revision concerns a document.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("document_id", sa.String(100), primary_key=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_table(
        "document_proposals",
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
    )
    op.create_index(
        "document_proposals_open", "document_proposals", ["state", "document_id", "number"]
    )
    op.execute(
        "INSERT INTO projection_checkpoints (name, position) "
        "SELECT 'documents', COALESCE(MAX(position), 0) FROM events"
    )


def downgrade() -> None:
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'documents'")
    op.drop_index("document_proposals_open", table_name="document_proposals")
    op.drop_table("document_proposals")
    op.drop_table("documents")
