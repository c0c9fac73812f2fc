"""engagement: per-answer signals, recorded adaptations, style evidence; learning styles over content types

Revision ID: 0008_engagement
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_engagement"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTENT_TYPES = ("text", "visual", "worked_example", "recap")
# The old weights were {"visual", "audio"}; "audio" offered a recap video that never existed, so its
# weight carries over to the recap summary that replaced it.
LEGACY = {"visual": "visual", "audio": "recap"}


def _new_style(old: dict[str, float]) -> dict[str, float]:
    new = {kind: 0.5 for kind in CONTENT_TYPES}
    for was, now in LEGACY.items():
        if was in old:
            new[now] = float(old[was])
    for kind in CONTENT_TYPES:
        if kind in old:
            new[kind] = float(old[kind])
    return new


def _old_style(new: dict[str, float]) -> dict[str, float]:
    return {"visual": float(new.get("visual", 0.5)), "audio": float(new.get("recap", 0.5))}


def _rewrite_styles(convert: object) -> None:
    profiles = sa.table("profiles", sa.column("student_id", sa.String()), sa.column("learning_style", sa.JSON()))
    conn = op.get_bind()
    for student_id, style in conn.execute(sa.select(profiles.c.student_id, profiles.c.learning_style)).all():
        conn.execute(profiles.update().where(profiles.c.student_id == student_id)
                     .values(learning_style=convert(dict(style or {}))))  # type: ignore[operator]


OLD_RECAP, NEW_RECAP = "Daily recap video (5 minutes)", "Recap summary at the end of each topic"


def _rewrite_recap(old: str, new: str) -> None:
    plans = sa.table("curriculum_plans", sa.column("student_id", sa.String()), sa.column("subject", sa.String()),
                     sa.column("adjustments", sa.JSON()))
    conn = op.get_bind()
    for student_id, subject, adjustments in conn.execute(
            sa.select(plans.c.student_id, plans.c.subject, plans.c.adjustments)).all():
        if old in (adjustments or []):
            conn.execute(plans.update().where(plans.c.student_id == student_id, plans.c.subject == subject)
                         .values(adjustments=[new if a == old else a for a in adjustments]))


def upgrade() -> None:
    op.create_table(
        "engagement",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("skill", sa.String(length=80), nullable=False),
        sa.Column("item_id", sa.String(length=160), nullable=False),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("shown_before", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("idle_s", sa.Float(), nullable=False),
        sa.Column("hints_used", sa.Integer(), nullable=False),
        sa.Column("retry", sa.Boolean(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_engagement_student_id", "engagement", ["student_id", "id"])
    op.create_table(
        "adaptations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_adaptations_student_id", "adaptations", ["student_id", "id"])
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("style_counts", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("mastery") as batch:
        batch.add_column(sa.Column("hints_used", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("misconception_hits", sa.Integer(), nullable=False, server_default="0"))
    _rewrite_styles(_new_style)
    _rewrite_recap(OLD_RECAP, NEW_RECAP)


def downgrade() -> None:
    _rewrite_styles(_old_style)
    _rewrite_recap(NEW_RECAP, OLD_RECAP)
    with op.batch_alter_table("mastery") as batch:
        batch.drop_column("misconception_hits")
        batch.drop_column("hints_used")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("style_counts")
    op.drop_index("ix_adaptations_student_id", table_name="adaptations")
    op.drop_table("adaptations")
    op.drop_index("ix_engagement_student_id", table_name="engagement")
    op.drop_table("engagement")
