"""The append-only event log, with triggers that refuse UPDATE, DELETE and TRUNCATE.

Its downgrade drops the log, so it refuses while the log holds events unless the operator
says so: `timeline db downgrade REV --drop-data`, or `alembic -x drop-data downgrade REV`.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'events are append-only: % is refused', TG_OP;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
        )
    else:
        # SQLite has no TRUNCATE: an unqualified DELETE is what empties a table there.
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{operation.lower()} BEFORE {operation} ON events "
                f"BEGIN SELECT RAISE(ABORT, 'events are append-only: {operation} is refused'); END"
            )


def _drop_data_allowed() -> bool:
    if context.config.attributes.get("drop_data"):  # service/migrate.py, from the CLI
        return True
    flag = context.get_x_argument(as_dictionary=True).get("drop-data")
    return flag is not None and flag.lower() in ("", "1", "yes", "true")


def downgrade() -> None:
    stored = op.get_bind().execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    if stored and not _drop_data_allowed():
        # CommandError: the alembic command prints it as one line, and the whole
        # downgrade (one transaction) is rolled back, so nothing was undone.
        raise CommandError(
            f"refused: going below revision 0001 deletes the event log, which holds {stored} "
            "events; export it first (`timeline export FILE`), then add --drop-data "
            "(`timeline db downgrade REV --drop-data`, or `alembic -x drop-data downgrade REV`)"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER events_no_truncate ON events")
        op.execute("DROP TRIGGER events_no_update_or_delete ON events")
        op.execute("DROP FUNCTION events_append_only()")
    else:
        op.execute("DROP TRIGGER events_no_update")
        op.execute("DROP TRIGGER events_no_delete")
    op.drop_index("ix_events_recorded_at", table_name="events")
    op.drop_table("events")
