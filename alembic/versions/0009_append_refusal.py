"""PostgreSQL: the function a pipelined append calls to refuse itself when its guess fails.

An append on PostgreSQL is sent as one pipeline (events/store/postgres.py): the lock, the
insert and the projections' writes, committed together. The insert holds only if the head
and the streams' versions are the ones guessed; when they are not, it must fail with an
error, so that the statements after it are skipped and rolled back, and the error says
what was found, so that the next attempt is exact. SQL itself cannot raise; this does.
SQLite appends are not pipelined: nothing to make there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION events_refuse_append(what_was_found text) RETURNS boolean
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                RAISE EXCEPTION 'the log moved since the append was prepared'
                    USING ERRCODE = 'serialization_failure', DETAIL = what_was_found;
            END $$
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_refuse_append(text)")
