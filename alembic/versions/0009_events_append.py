"""PostgreSQL: `events_append`, an append (with its projections' writes) as one statement.

The store (events/store/postgres.py) sends each append as one call of this function, so
that the log's lock is taken, used and released inside one statement, which commits on
its own: the lock is never held while the client is busy elsewhere. Under the lock it
checks the head and the streams' versions the client guessed, and raises (saying what it
found) if they do not hold; then it inserts the events and runs the projections' writes,
each an INSERT, UPDATE or DELETE that reads its rows from `$1`, a JSON array.
SQLite appends are one statement already: nothing to make there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SIGNATURE = (
    "bigint, integer, bigint, text, text[], integer[], bigint[], text[], integer[], text[], "
    "text[], text[], text[], text[], text[], text[], text[]"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION events_append(
            lock_key bigint, lock_timeout_ms integer,
            head_position bigint, head_hash text, streams text[], expected integer[],
            positions bigint[], stream_ids text[], versions integer[], types text[],
            datas text[], actors text[], reasons text[], instants text[], hashes text[],
            writes text[], write_rows text[]
        ) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            head record;
            moved boolean;
            current_versions json;
        BEGIN
            PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
            PERFORM pg_advisory_xact_lock(lock_key);
            -- A statement after the lock sees every append committed before it.
            SELECT position, hash, recorded_at INTO head
                FROM events ORDER BY position DESC LIMIT 1;
            SELECT json_object_agg(stream_id, version) INTO current_versions FROM (
                SELECT stream_id, max(version) AS version FROM events
                WHERE stream_id = ANY(streams) GROUP BY stream_id
            ) AS c;
            SELECT coalesce(head.position, 0) <> head_position
                OR coalesce(head.hash, repeat('0', 64)) <> head_hash
                OR EXISTS (
                    SELECT FROM unnest(streams, expected) AS e (stream_id, version)
                    WHERE coalesce((current_versions ->> e.stream_id)::integer, 0) <> e.version
                )
                INTO moved;
            IF moved THEN
                RAISE EXCEPTION 'the log moved since the append was prepared'
                    USING ERRCODE = 'serialization_failure', DETAIL = json_build_object(
                        'head', CASE WHEN head.position IS NULL THEN NULL
                            ELSE json_build_array(head.position, head.hash, head.recorded_at)
                        END,
                        'versions', current_versions
                    )::text;
            END IF;
            INSERT INTO events (
                position, stream_id, version, type, data, actor, reason, recorded_at, hash
            )
            SELECT * FROM unnest(
                positions, stream_ids, versions, types, datas, actors, reasons, instants, hashes
            );
            FOR i IN 1 .. coalesce(array_length(writes, 1), 0) LOOP
                EXECUTE writes[i] USING write_rows[i]::json;
            END LOOP;
        END $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION events_append({_SIGNATURE})")
