"""The timeline read model: every version of every fact, valid between two log positions.

Keeping each version with the positions it was valid between answers "as of" queries with
the same SQL as current ones; the checkpoint records the last position applied.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO projection_checkpoints (name, position) VALUES ('timeline', 0)")
    op.create_table(
        "timeline_facts",
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
    )
    op.create_index(
        "ix_timeline_current_order",
        "timeline_facts",
        ["sort_date", "span_days", "fact_id"],
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index("ix_timeline_valid", "timeline_facts", ["valid_from", "valid_to"])
    for name, column in (("timeline_fact_countries", "code"), ("timeline_fact_tags", "tag")):
        op.create_table(
            name,
            sa.Column("fact_id", sa.String(100), primary_key=True),
            sa.Column("version", sa.Integer, primary_key=True),
            sa.Column(column, sa.String(50), primary_key=True),
        )
        op.create_index(f"ix_{name}_{column}", name, [column])


def downgrade() -> None:
    op.drop_table("timeline_fact_tags")
    op.drop_table("timeline_fact_countries")
    op.drop_table("timeline_facts")
    op.drop_table("projection_checkpoints")
