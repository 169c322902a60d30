"""Fewer indexes on the event log: every append pays for each one.

- SQLite: `position` becomes the table's rowid (`INTEGER PRIMARY KEY`). Declared BIGINT it
  was a second b-tree beside the rowid one; now the row is found by position directly.
  SQLite can't change a primary key in place, so the table is rebuilt: the rows are copied
  unchanged (the hash chain covers their content, not how they are stored).
- Both: the index on `recorded_at` goes. Instants never run backwards along positions, so
  the store finds the last position at an instant by binary search over positions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = """
    stream_id VARCHAR(200) NOT NULL,
    version INTEGER NOT NULL,
    type VARCHAR(100) NOT NULL,
    data TEXT NOT NULL,
    actor VARCHAR(100) NOT NULL,
    reason TEXT,
    recorded_at VARCHAR(32) NOT NULL,
    hash VARCHAR(64) NOT NULL,
    CONSTRAINT uq_events_stream_version UNIQUE (stream_id, version)
"""


def _rebuild_sqlite(position: str) -> None:
    op.execute(f"CREATE TABLE events_rebuilt ({position}, {_COLUMNS})")
    op.execute("INSERT INTO events_rebuilt SELECT * FROM events ORDER BY position")
    # DROP TABLE drops the table's triggers before its rows, so they don't refuse it.
    op.execute("DROP TABLE events")
    op.execute("ALTER TABLE events_rebuilt RENAME TO events")
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER events_no_{operation.lower()} BEFORE {operation} ON events "
            f"BEGIN SELECT RAISE(ABORT, 'events are append-only: {operation} is refused'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("position INTEGER NOT NULL PRIMARY KEY")
    else:
        op.drop_index("ix_events_recorded_at", table_name="events")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("position BIGINT NOT NULL PRIMARY KEY")
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
