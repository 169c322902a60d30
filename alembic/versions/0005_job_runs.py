"""Scheduled jobs' last runs, shared by every service process.

One row per job: its last finished run (when, which process, how it went), the run in
progress if any, and when the runner plans to run it next. Like the API tokens, this is operational state, not a fact
or a projection of the log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("started_at", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("ran_by", sa.String(200), nullable=True),
        sa.Column("running_since", sa.String(32), nullable=True),
        sa.Column("running_on", sa.String(200), nullable=True),
        sa.Column("next_run_at", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
