"""The event table, as SQLAlchemy Core metadata. Alembic migrations create it; this
module only describes it for queries."""

import sqlalchemy as sa

metadata = sa.MetaData()

# position is the rowid on SQLite (INTEGER PRIMARY KEY, migration 0006).
# recorded_at is fixed-width UTC text ("2025-05-30T10:00:00.000000Z"): it sorts as time
# does on both backends and round-trips byte for byte, which the hash chain needs.
events = sa.Table(
    "events",
    metadata,
    sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
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
