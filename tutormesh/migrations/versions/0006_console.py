"""console: escalation handling, human tutor messages, due dates, flag resolutions, staff profiles, audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("thread_messages") as batch:
        batch.add_column(sa.Column("author", sa.String(length=80), nullable=True))
    with op.batch_alter_table("quiz_assignments") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("review_flags") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("override_score", sa.Float(), nullable=True))
    op.create_index("ix_escalations_status", "escalations", ["status"], unique=False)
    op.create_table("staff_profiles",
    sa.Column("user_id", sa.String(length=32), nullable=False),
    sa.Column("display_name", sa.String(length=80), nullable=False),
    sa.Column("cohorts", sa.JSON(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("user_id")
    )
    op.create_table("audit_log",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("actor_id", sa.String(length=32), nullable=False),
    sa.Column("actor_role", sa.String(length=16), nullable=False),
    sa.Column("action", sa.String(length=40), nullable=False),
    sa.Column("student_id", sa.String(length=64), nullable=True),
    sa.Column("target", sa.String(length=120), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_audit_log_created", "audit_log", ["created_at"], unique=False)
    op.create_index("ix_audit_log_student", "audit_log", ["student_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_student", table_name="audit_log")
    op.drop_index("ix_audit_log_created", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("staff_profiles")
    op.drop_index("ix_escalations_status", table_name="escalations")
    with op.batch_alter_table("review_flags") as batch:
        for name in ("override_score", "resolution", "resolved_at", "resolved_by"):
            batch.drop_column(name)
    with op.batch_alter_table("quiz_assignments") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("due_at")
    with op.batch_alter_table("thread_messages") as batch:
        batch.drop_column("author")
    with op.batch_alter_table("escalations") as batch:
        for name in ("resolution", "resolved_at", "first_reply_at", "claimed_at", "claimed_by"):
            batch.drop_column(name)
