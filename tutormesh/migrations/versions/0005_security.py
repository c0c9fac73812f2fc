"""security: token versions, failed sign-ins, idempotent turn results, errored submissions

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("username_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username_hash"),
    )
    op.create_table(
        "turn_records",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_turn_records_user_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "thread_id", "key"),
    )
    op.create_index("ix_turn_records_created_at", "turn_records", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_turn_records_created_at", table_name="turn_records")
    op.drop_table("turn_records")
    op.drop_table("login_failures")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("error")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
