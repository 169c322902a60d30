"""The calendar projection: each fact's rendered VEVENT, per language and public origin.

A feed is the concatenation of these bodies, so the expensive rendering happens once per
fact version instead of once per poll. The origin (the configured public URL) is part of
the key because UIDs and links are made from it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_events",
        sa.Column("origin", sa.String(300), primary_key=True),
        sa.Column("fact_id", sa.String(100), primary_key=True),
        sa.Column("lang", sa.String(5), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        # Known to the day (day precision, no ~ ? % qualifier): in the default feed.
        sa.Column("day_known", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calendar_events")
