"""shard_removals: the keys of student-owned rows deleted while a shard move reads them (Postgres only);
an index on students.created_at (each catch-up copy looks up the students created since the move began)

A move's catch-up copies find changed rows by `xmin`, but a deleted row leaves nothing to find;
this log gives them the removed keys, so a copy's work follows what changed, not the shard's
size (docs/scale-plan.md, "Shard move"). A statement trigger on each student-owned table logs
the deleted rows' primary keys only while a move holds the capture lock of the database
exclusively (the advisory lock (0x544D, 1000), see `shard_ops.move`); otherwise it takes that
lock shared, and logs nothing. SQLite (the embedded single-database profile) has no moves: there
this revision adds only the index.

The checkpoint tables are created by the LangGraph saver after the migrations, so their triggers
come from `shard_ops.install_removal_triggers` (`tutormesh db upgrade`, `shards init`, and each move).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The student-owned tables at this revision (shard_ops.OWNED_TABLES), checkpoint tables included
# for databases where the saver ran first.
TABLES = (
    "students", "profiles", "curriculum_plans", "mastery", "attempts", "grades", "negotiations",
    "negotiation_messages", "learning_sessions", "thread_messages", "engagement", "adaptations", "reflections",
    "lifecycle_events", "escalations", "llm_ledger", "llm_budgets", "llm_cost_alerts", "submissions",
    "submission_results", "question_results", "review_flags", "assessment_events", "event_receipts",
    "checkpoints", "checkpoint_blobs", "checkpoint_writes",
)

# Trigger arguments: the table's primary-key columns. The capture lock is tried, never waited
# for; holding it shared until commit makes a starting move wait for this transaction, so a
# delete that was not logged is visible to the move's first snapshot.
LOG_FUNCTION = """
CREATE OR REPLACE FUNCTION shard_log_removals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock_shared(21581, 1000) THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'INSERT INTO shard_removals (txid, table_name, key) '
        'SELECT pg_current_xact_id()::text::bigint, %L, jsonb_build_object(%s) FROM removed',
        TG_TABLE_NAME,
        (SELECT string_agg(format('%L, %I', c, c), ', ') FROM unnest(TG_ARGV) AS c));
    RETURN NULL;
END
$$
"""


def trigger_sql(table: str, key: Sequence[str]) -> str:
    """Return the CREATE TRIGGER statement that logs `table`'s removed keys."""
    args = ", ".join("'" + column.replace("'", "''") + "'" for column in key)
    return (f'CREATE TRIGGER shard_removals AFTER DELETE ON "{table}" REFERENCING OLD TABLE AS removed '
            f"FOR EACH STATEMENT EXECUTE FUNCTION shard_log_removals({args})")


def upgrade() -> None:
    op.create_index("ix_students_created_at", "students", ["created_at"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.create_table(
        "shard_removals",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),  # the deleting transaction (64-bit, top level)
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("key", postgresql.JSONB(), nullable=False),  # {primary-key column: value}
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shard_removals_txid", "shard_removals", ["txid"])
    op.execute(LOG_FUNCTION)
    inspector = sa.inspect(bind)
    for table in TABLES:
        if inspector.has_table(table):
            op.execute(trigger_sql(table, inspector.get_pk_constraint(table)["constrained_columns"]))


def downgrade() -> None:
    op.drop_index("ix_students_created_at", table_name="students")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    for table in TABLES:
        if inspector.has_table(table):
            op.execute(f'DROP TRIGGER IF EXISTS shard_removals ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS shard_log_removals()")
    op.drop_table("shard_removals")
