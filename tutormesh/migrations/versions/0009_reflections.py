"""reflections: one row per ended session; profiles.style_override (a content type the student chose)

Revision ID: 0009
Revises: 0008_engagement
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008_engagement"  # 0008's revision id (its file is 0008_engagement.py)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("first_engagement_id", sa.Integer(), nullable=False),
        sa.Column("last_engagement_id", sa.Integer(), nullable=False),
        sa.Column("last_attempt_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("right", sa.Integer(), nullable=False),
        sa.Column("worked", sa.JSON(), nullable=False),
        sa.Column("struggled", sa.JSON(), nullable=False),
        sa.Column("next_steps", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_thread_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_reflections_student_session", "reflections", ["student_id", "last_engagement_id"],
                    unique=True)
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("style_override", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("style_override")
    op.drop_index("ux_reflections_student_session", table_name="reflections")
    op.drop_table("reflections")
